"""Turn the engine's raw result into what a grid or chart shows: typed keys, zh/en member labels,
comparison columns, a stable order (members in business order, subtotals after their members,
siblings by a measure when asked), and the rows x columns crosstab of `pivot`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from cubes.labels import NONE_LABEL, OTHERS_LABEL, TOTAL, MemberLabels
from cubes.model import Cube
from cubes.sql import OTHERS, Plan

LANGS = ("zh", "en")


def aggregated(frame: pd.DataFrame, pl: Plan, ref: str) -> pd.Series:
    """True where the level is summed over (a subtotal or total row for that level)."""
    if not (pl.spec.totals and "_row_depth" in frame):
        return pd.Series(False, index=frame.index)
    if ref in pl.rows:
        return frame["_row_depth"] <= pl.rows.index(ref)
    return frame["_col_depth"] <= pl.columns.index(ref)


def finish(frame: pd.DataFrame, cube: Cube, pl: Plan, labels: dict[str, MemberLabels]) -> pd.DataFrame:
    spec = pl.spec
    top_level = pl.rows[0] if spec.top else None
    for ref in pl.levels:
        if cube.level(ref)[1].dtype == "int" and ref != top_level:
            frame[ref] = frame[ref].astype("Int64")
    if spec.top and not spec.top.others:
        frame = frame[~((frame[top_level] == OTHERS) & ~aggregated(frame, pl, top_level))].reset_index(drop=True)
    for ref in pl.levels:
        total = aggregated(frame, pl, ref).to_numpy()
        keys = frame[ref].astype(object).to_numpy()
        as_text = cube.level(ref)[1].dtype == "str"
        for i, lang in enumerate(LANGS):
            def label(key, i=i):
                return (NONE_LABEL[i] if _missing(key) else OTHERS_LABEL[i] if key == OTHERS
                        else labels[ref].name(str(key) if as_text else key, i))
            named = {}  # each member's label once: a wide result repeats members on many rows
            frame[f"{ref}|{lang}"] = [TOTAL[i] if is_total else named[key] if key in named
                                      else named.setdefault(key, label(key)) for key, is_total in zip(keys, total)]
    if spec.compare in ("yoy", "prev"):
        for m in spec.measures:
            now, before = frame[m].astype("float64"), frame[f"{m}__prior"].astype("float64")
            # rates change by points, amounts and counts by a relative change
            change = now - before if cube.measure(m).fmt == "pct" else now / before.where(before != 0) - 1
            frame[f"{m}__change"] = change
    return order(frame, pl, labels).reset_index(drop=True)


def _missing(key) -> bool:
    return key is None or key is pd.NA or (isinstance(key, float) and np.isnan(key))


def order(frame: pd.DataFrame, pl: Plan, labels: dict[str, MemberLabels]) -> pd.DataFrame:
    """Level by level: members before their subtotal, the others bucket last, then the spec's sort
    items in order (a measure orders siblings by their own totals, a level by its members), then
    the business order of the members."""
    if not pl.levels:
        return frame
    keys = []  # most significant first, each ascending (a descending key is negated)
    for ref in pl.levels:
        keys.append(aggregated(frame, pl, ref).to_numpy(dtype=int))
        keys.append((frame[ref] == OTHERS).fillna(False).to_numpy(dtype=int))
        for item in pl.spec.sort:
            if item.by == ref:
                rank = natural_rank(frame[ref], labels[ref]).to_numpy()
                keys.append(-rank if item.desc else rank)
            elif item.by in pl.spec.measures:
                values = _sibling_value(frame, pl, ref, item.by)
                if values is not None:  # missing values last either way
                    filled = values.fillna(-np.inf if item.desc else np.inf).to_numpy(dtype=float)
                    keys.append(-filled if item.desc else filled)
        keys.append(natural_rank(frame[ref], labels[ref]).to_numpy())
    return frame.iloc[np.lexsort(keys[::-1])]  # stable: ties keep the engine's order


def natural_rank(keys: pd.Series, member_labels: MemberLabels) -> pd.Series:
    """Members in the dimension table's order (sort_order), else by key; then others, then none."""
    members = [k for k in keys.unique() if not _missing(k) and k != OTHERS]
    ranked = sorted(members, key=lambda k: (member_labels.rank(str(k)), k))
    position = {k: i for i, k in enumerate(ranked)}
    # a plain loop over objects: Series.map on arrow strings casts every result back pointwise
    ranks = [len(position) + 1 if _missing(k) else position.get(k, len(position)) for k in keys.astype(object)]
    return pd.Series(np.asarray(ranks, dtype=int), index=keys.index)


def _sibling_value(frame: pd.DataFrame, pl: Plan, ref: str, measure: str) -> pd.Series | None:
    """The measure of each row's ancestor at `ref` (its subtotal over deeper rows and all columns),
    so siblings are ordered by their own totals; without totals the row's own value."""
    if ref not in pl.rows:
        return None
    i = pl.rows.index(ref)
    if not (pl.spec.totals and "_row_depth" in frame):
        return frame[measure].astype("float64") if i == len(pl.rows) - 1 else None
    prefix = list(pl.rows[: i + 1])
    ancestors = frame[(frame["_row_depth"] == i + 1) & (frame["_col_depth"] == 0)]
    lookup = ancestors.set_index(prefix)[measure].astype("float64")
    index = pd.MultiIndex.from_frame(frame[prefix]) if len(prefix) > 1 else pd.Index(frame[prefix[0]])
    return pd.Series(lookup.reindex(index).to_numpy(), index=frame.index)


TOTAL_KEY = "__total__"


def pivot(frame: pd.DataFrame, pl: Plan) -> pd.DataFrame:
    """Rows x columns crosstab for a flat grid (AG Grid community has no pivot): one row per row
    member combination, subtotal rows included; one column per (column members, measure), named
    by the member keys and the measure, 'agency|policies', with '__total__' for a summed level.
    attrs['columns'] describes each such column (members, measure, zh/en header parts)."""
    if not pl.columns:
        return frame
    spec = pl.spec
    frame = frame.reset_index(drop=True)
    frame.attrs = {}  # pandas deep-copies attrs on every operation: the query's labels, hundreds of times
    # Each result row's place in the crosstab, found in plain Python: a few hundred rows, where every
    # pandas operation on them costs more than the loop.
    totals = {ref: aggregated(frame, pl, ref).to_numpy() for ref in pl.columns}
    col_parts = [[TOTAL_KEY if summed else "" if _missing(key) else str(key)
                  for key, summed in zip(frame[ref].to_numpy(dtype=object), totals[ref])] for ref in pl.columns]
    row_parts = [[None if _missing(key) else key for key in frame[ref].to_numpy(dtype=object)] for ref in pl.rows]
    if "_row_depth" in frame:
        row_parts.append(frame["_row_depth"].tolist())
    row_of, first_rows = _first_appearance(zip(*row_parts), len(frame))
    col_keys = ["|".join(parts) for parts in zip(*col_parts)]
    col_of, first_cols = _first_appearance(col_keys, len(frame))
    row_cols = list(pl.rows) + [f"{ref}|{lang}" for ref in pl.rows for lang in LANGS]
    if "_row_depth" in frame:
        row_cols.append("_row_depth")
    base = frame[row_cols].take(first_rows).reset_index(drop=True)
    described = [*pl.columns, *(f"{ref}|{lang}" for ref in pl.columns for lang in LANGS)]
    heads = [{"_col": col_keys[i], **head} for i, head in
             zip(first_cols, frame[described].take(first_cols).astype(object).to_dict("records"))]
    grids = {}
    for m in spec.measures:
        grid = np.full((len(first_rows), len(first_cols)), np.nan)
        grid[row_of, col_of] = frame[m].to_numpy(dtype=float, na_value=np.nan)
        grids[m] = grid
    fields = {f"{first['_col']}|{m}": _typed(grids[m][:, j], frame[m].dtype)
              for j, first in enumerate(heads) for m in spec.measures}
    columns = [{"field": f"{first['_col']}|{m}", "measure": m, "members": [first[ref] for ref in pl.columns],
                **{f"label_{lang}": [first[f"{ref}|{lang}"] for ref in pl.columns] for lang in LANGS}}
               for first in heads for m in spec.measures]
    out = pd.concat([base, pd.DataFrame(fields, index=base.index)], axis=1)
    out.attrs["columns"] = columns
    return out


def _first_appearance(keys, n: int) -> tuple[np.ndarray, list[int]]:
    """Each key's position among the distinct keys in order of first appearance, and where each
    distinct key first appears."""
    position, firsts = {}, []
    of = np.empty(n, dtype=np.intp)
    for i, key in enumerate(keys):
        j = position.get(key)
        if j is None:
            j = position[key] = len(firsts)
            firsts.append(i)
        of[i] = j
    return of, firsts


def _typed(cells: np.ndarray, dtype):
    """A crosstab column in its measure's type: nullable types keep their NA, an integer measure
    stays integer unless a cell is empty (then float with NaN, as pandas reshapes it)."""
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return pd.array(cells, dtype=dtype)
    if np.issubdtype(dtype, np.integer) and not np.isnan(cells).any():
        return cells.astype(dtype)
    return cells
