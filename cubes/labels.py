"""Display labels of members (from dim_code / dim_*) and the fixed labels of special rows."""
from __future__ import annotations

from dataclasses import dataclass

from cubes.model import Level

TOTAL = ("合计", "Total")
OTHERS_LABEL = ("其他", "Others")
NONE_LABEL = ("（空）", "(none)")


@dataclass(frozen=True)
class MemberLabels:
    """key -> (zh, en) and key -> position in the business's preferred order."""

    names: dict
    order: dict

    def name(self, key, lang: int) -> str:
        if key in self.names:
            return self.names[key][lang]
        return str(key)

    def rank(self, key) -> float:
        return self.order.get(key, float("inf"))


def load_member_labels(level: Level, run) -> MemberLabels:
    """Labels of a level's members; `run(sql, params)` reads the warehouse when they live there."""
    lab = level.labels
    if lab.kind == "static":
        rows = [(code, zh, en, i) for i, (code, zh, en) in enumerate(lab.entries)]
    elif lab.kind == "code":
        rows = run("SELECT code, name_zh, name_en, sort_order FROM dim_code WHERE kind = $kind", {"kind": lab.source})
    elif lab.kind == "table":
        rows = run(f"SELECT CAST({lab.key_column} AS VARCHAR), {lab.zh_column}, {lab.en_column}, "
                   f"{lab.order or 'NULL'} FROM {lab.source}", {})
    else:
        rows = []
    names = {key: (zh, en) for key, zh, en, _ in rows}
    ordered = sorted(rows, key=lambda r: (r[3] is None, r[3] if r[3] is not None else 0, str(r[0])))
    return MemberLabels(names, {r[0]: i for i, r in enumerate(ordered)})
