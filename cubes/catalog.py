"""Every cube of the application, built once from the company rules."""
from __future__ import annotations

import hashlib
from functools import cache

from cubes.cube_agents import agents_cube
from cubes.cube_contribution import contribution_cube
from cubes.cube_policies import policies_cube
from cubes.cube_service import service_cube
from cubes.model import Cube, SpecError
from cubes.rules import load_rules


@cache
def all_cubes() -> dict[str, Cube]:
    rules = load_rules()
    cubes = (policies_cube(rules), contribution_cube(rules), service_cube(rules), agents_cube(rules))
    return {c.name: c for c in cubes}


def cube_by_name(name: str) -> Cube:
    cubes = all_cubes()
    if name not in cubes:
        raise SpecError(f"unknown cube '{name}'; valid: {', '.join(cubes)}")
    return cubes[name]


@cache
def definitions_fingerprint() -> str:
    """A digest of every cube definition: its SQL and the company rules compiled into it. Cached
    answers are keyed by it, so a changed formula or params file never serves the old figures."""
    return hashlib.sha256(repr(all_cubes()).encode("utf-8")).hexdigest()[:16]
