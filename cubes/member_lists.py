"""Member lists of every level of a cube, built at load time beside the rollups.

Every page's filter bar asks for the members of its levels, and a level no rollup keeps (an
industry, an age band) would otherwise cost a pass over the whole raw source per level: seconds
at 10x scale. One table per cube (members_<cube>) holds, for each level, its distinct keys with
the row-scope columns the source has (region, branch), so an unscoped or region/branch-scoped
list is a lookup. A scope the table does not keep (an agent's customers) reads raw rows.

The rows are the source's rows as the engine's raw member query sees them: every event, no
stock snapshots (members are asked without a period), so both give the same members.
"""
from __future__ import annotations

import hashlib

import pandas as pd

from cubes.model import Cube
from cubes.rollups import level_column, scope_column
from cubes.scope import Scope
from cubes.sql import level_expr

SCOPE_KEYS = ("region", "branch")


def table(cube: Cube) -> str:
    return f"members_{cube.name}"


def listed_levels(cube: Cube) -> list[str]:
    """The levels listed: all but those read inside the source's own pre-aggregation."""
    return [ref for ref in cube.level_names if ref not in cube.inner_levels]


def stored_scope(cube: Cube) -> dict[str, str]:
    """Row-scope key -> its column in the table, for the scope keys the cube has."""
    return {key: scope_column(key) for key in SCOPE_KEYS if key in cube.scope_columns}


def fingerprint(cube: Cube) -> str:
    """Ties the table to the definitions it was built from (source, levels, scope columns)."""
    return hashlib.sha256(repr(("members", cube.source, cube.hierarchies, cube.scope_columns)).encode()).hexdigest()[:16]


def build_sql(cube: Cube, source: str) -> str:
    """The table's rows from `source` (the cube's source with its placeholders filled) in one pass:
    a grouping set per level with the scope columns, tagged with the level's name in `__level`,
    the keys typed as the engine's raw read types them."""
    d = cube.date_column
    refs = listed_levels(cube)
    names = [level_column(ref) for ref in refs]
    scope = {column: cube.scope_columns[key] for key, column in stored_scope(cube).items()}
    inner = [f"{level_expr(cube, ref, d)} AS {column}" for ref, column in zip(refs, names)]
    inner += [f"{expr} AS {column}" for column, expr in scope.items()]
    ids = {ref: sum(1 << (len(names) - 1 - i) for i in range(len(names)) if i != k) for k, ref in enumerate(refs)}
    tag = " ".join(f"WHEN {i} THEN '{ref}'" for ref, i in ids.items())
    sets = ", ".join("(" + ", ".join([column, *scope]) + ")" for column in names)
    return (f"SELECT CASE GROUPING({', '.join(names)}) {tag} END AS __level, {', '.join(names + list(scope))} "
            f"FROM (SELECT {', '.join(inner)} FROM ({source})) GROUP BY GROUPING SETS ({sets})")


def answers(cube: Cube, ref: str, scope: Scope | None) -> bool:
    return ref in listed_levels(cube) and (scope is None or {k for k, _ in scope.items()} <= set(stored_scope(cube)))


def read_sql(cube: Cube, ref: str) -> tuple[str, dict]:
    """Level `ref`'s keys with the scope columns they occur with."""
    columns = ", ".join([f"{level_column(ref)} AS key", *stored_scope(cube).values()])
    return f"SELECT {columns} FROM {table(cube)} WHERE __level = $level", {"level": ref}


def keys_in(rows: pd.DataFrame, scope: Scope | None) -> pd.Series:
    """The distinct keys of `rows` (read_sql's) in the rows `scope` allows (check `answers` first);
    codes compare as text, as the engine's scope conditions do."""
    kept = pd.Series(True, index=rows.index)
    for key, allowed in (scope.items() if scope is not None else ()):
        kept &= rows[scope_column(key)].astype(str).isin(set(allowed))
    return rows.loc[kept, "key"].drop_duplicates()
