"""Display labels of members (from dim_code / dim_*) and the fixed labels of special rows."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cubes.model import Level, level_ref

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


# --- units in headers: exports carry full-precision numbers, so money is in yuan -------------------------
UNITS = {"money": ("元", "CNY"), "pct": ("%", "%"), "points": ("百分点", "points")}


def with_unit(label: str, fmt: str, lang: str, note: tuple[str, str] | None = None) -> str:
    """'保费收入（元）', 'Written premium (change, %)': the label, then a note and the unit it is in."""
    i = 0 if lang == "zh" else 1
    parts = [note[i]] if note else []
    if fmt in UNITS:
        parts.append(UNITS[fmt][i])
    if not parts:
        return label
    return f"{label}（{'，'.join(parts)}）" if lang == "zh" else f"{label} ({', '.join(parts)})"


# --- records (drill-through and records exports): labels where the source holds codes -------------------
# The `kind` every cube source writes on its rows (cubes/cube_*.py).
RECORD_KINDS = {
    "policy": ("新单", "New policy"), "premium": ("保费缴费", "Premium payment"), "claim": ("理赔", "Claim"),
    "lapse": ("退保/失效", "Lapse or surrender"), "exposure": ("有效保单月", "Policy month in force"),
    "opening": ("期初有效保单", "In force at start"), "closing": ("期末有效保单", "In force at end"),
    "underwriting": ("核保", "Underwriting"), "event": ("服务事件", "Service event"), "visit": ("拜访", "Visit"),
    "sale": ("成交", "Sale"), "book13": ("13个月继续率保单", "Policy in 13-month persistency"),
    "headcount": ("在职人月", "Agent month on staff"), "workdays": ("出勤日", "Working day"),
    "customer": ("客户", "Customer"),
}
# Headers of the source columns records show (cube drill_columns).
RECORD_COLUMNS = {
    "kind": ("记录类型", "Record type"), "record_id": ("记录号", "Record id"), "d": ("日期", "Date"),
    "customer_id": ("客户号", "Customer id"), "customer_name": ("客户名称", "Customer name"),
    "policy_id": ("保单号", "Policy id"), "agent_id": ("营销员工号", "Agent id"),
    "product_code": ("产品代码", "Product code"), "channel_code": ("渠道", "Channel"), "branch_id": ("网点代码", "Branch code"),
    "team_id": ("团队", "Team"),
    "status": ("保单状态", "Policy status"), "lead_source": ("线索来源", "Lead source"),
    "event_type": ("服务类型", "Event type"), "service_channel": ("服务渠道", "Service channel"),
    "vip_tier": ("VIP等级", "VIP tier"), "acquisition_source": ("获客来源", "Acquisition source"),
    # what a record adds to a distinct count, named as what it is (one column serves the count of each
    # lead source: a measure's label would name a source the row may not have)
    "prospect_id": ("拜访对象编号", "Prospect id"), "converted_prospect_id": ("成交对象编号", "Converted prospect id"),
    "new_customer_id": ("新客户号", "New customer id"), "agent_day": ("营销员出勤日", "Agent and day"),
}
# Codes that identify something a person may look up (a product, a branch, an agent) stay beside the
# name; the other coded columns (channel, status, ...) are fixed vocabularies, shown by label only.
KEPT_CODES = {"product_code": ("产品", "Product"), "branch_id": ("网点", "Branch"), "agent_id": ("营销员", "Agent")}


def record_labeller(cube, lang: str, members):
    """A function turning a frame of records (the cube's drill columns and the measures' own columns)
    into what a person reads: headers in `lang`, member names for codes, dates without a time of day,
    and `attrs['formats']` (header -> 'date', 'money', 'int', ...) for the writers.
    `members(ref)` is the level's members frame (key, label_zh, label_en); each is read once."""
    i = 0 if lang == "zh" else 1
    coded = {lv.expr: level_ref(h, lv) for h in cube.hierarchies for lv in h.levels}
    measures = {m.column: m for m in cube.measures if m.column}
    names: dict[str, dict] = {"kind": {code: pair[i] for code, pair in RECORD_KINDS.items()}}

    def named(column: str, values: pd.Series) -> pd.Series:
        if column not in names:
            listed = members(coded[column])
            names[column] = dict(zip(listed["key"].astype(str), listed[f"label_{lang}"]))
        # each distinct code looked up once (a batch has 50,000 rows and a few hundred codes)
        codes, keys = pd.factorize(values)
        shown = np.array([names[column].get(str(k), str(k)) for k in keys] + [None], dtype=object)
        return pd.Series(shown[codes], index=values.index)  # code -1 (missing) -> None

    def label(frame: pd.DataFrame) -> pd.DataFrame:
        out, formats = {}, {}
        for column, values in frame.items():
            if column == "d":
                header = RECORD_COLUMNS[column][i]
                out[header], formats[header] = _dates(values), "date"
            elif column in KEPT_CODES and column in coded:
                out[KEPT_CODES[column][i]] = named(column, values)
                out[RECORD_COLUMNS[column][i]] = values
            elif column == "kind" or (column in coded and column in RECORD_COLUMNS):
                out[RECORD_COLUMNS[column][i]] = named(column, values)
            elif column in RECORD_COLUMNS:  # ids and names, as they are
                out[RECORD_COLUMNS[column][i]] = values
            elif column in measures:
                m = measures[column]
                header = with_unit(m.label_zh if i == 0 else m.label_en, m.fmt, lang)
                out[header], formats[header] = values, m.fmt
            else:
                out[column] = values
        labelled = pd.DataFrame(out, index=frame.index)
        labelled.attrs["formats"] = formats
        return labelled

    return label


def _dates(values: pd.Series) -> pd.Series:
    """'2021-09-11' whether the engine gave a timestamp or ISO text: records are dated by the day."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d").astype("string")
    return values.astype("string").str.slice(0, 10)
