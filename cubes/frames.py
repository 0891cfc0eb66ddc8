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
    frame = frame.copy(deep=False)
    frame.attrs = {}  # pandas deep-copies attrs on every operation: the query's labels, hundreds of times
    parts = []
    for ref in pl.columns:
        total = aggregated(frame, pl, ref)
        parts.append(frame[ref].astype(object).where(~total, TOTAL_KEY).where(frame[ref].notna() | total, "")
                     .astype(str))
    col_key = parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]
    row_cols = list(pl.rows) + [f"{ref}|{lang}" for ref in pl.rows for lang in LANGS]
    if "_row_depth" in frame:
        row_cols.append("_row_depth")
    keyed = frame.assign(_col=col_key.to_numpy()).reset_index(drop=True)
    base = keyed[row_cols].drop_duplicates().reset_index(drop=True)
    # each row's position in `base` (first appearance, as drop_duplicates keeps them)
    keyed["_row"] = keyed.groupby(row_cols, dropna=False, sort=False).ngroup()
    described = ["_col", *pl.columns, *(f"{ref}|{lang}" for ref in pl.columns for lang in LANGS)]
    heads = keyed.drop_duplicates("_col")[described].astype(object).to_dict("records")
    # one reshape for every measure; unstack sorts the column keys: put back in first-appearance order
    wide = keyed.set_index(["_row", "_col"])[list(spec.measures)].unstack("_col").reindex(range(len(base)))
    cells = [(m, first["_col"]) for first in heads for m in spec.measures]
    fields = wide.reindex(columns=pd.MultiIndex.from_tuples(cells)).set_axis([f"{key}|{m}" for m, key in cells], axis=1)
    columns = [{"field": f"{first['_col']}|{m}", "measure": m, "members": [first[ref] for ref in pl.columns],
                **{f"label_{lang}": [first[f"{ref}|{lang}"] for ref in pl.columns] for lang in LANGS}}
               for first in heads for m in spec.measures]
    out = pd.concat([base, fields], axis=1)
    out.attrs["columns"] = columns
    return out
