"""Display names of cube levels for pickers: 'Geography › Region', or 'Channel' for a one-level dimension."""
from __future__ import annotations

from cubes.catalog import cube_by_name


def level_label(cube: str, ref: str, lang: str) -> str:
    hierarchy, level = cube_by_name(cube).level(ref)
    names = [(hierarchy.label_zh, level.label_zh), (hierarchy.label_en, level.label_en)][lang == "en"]
    return names[1] if len(hierarchy.levels) == 1 else f"{names[0]} › {names[1]}"
