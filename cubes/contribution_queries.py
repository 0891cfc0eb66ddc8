"""What the contribution page asks the engine, one function per view. `filters` are query-spec
filters of the contribution cube (customer levels and a whole-month `between` on time.month); every
call goes through the engine the caller hands in, so its row scope applies to each answer."""
from __future__ import annotations

import json

import pandas as pd

from cubes import contribution_analysis as analysis

CUBE = "contribution"
WHALE_POINTS = 200
LOSS_LIST_MEASURES = ("premium", "claims", "commission", "acquisition_cost", "cost_to_serve", "investment_spread",
                      "contribution")
TIER_MEASURES = ("customers", "premium", "contribution", "contribution_margin", "cost_to_serve", "service_events",
                 "complaints")


def spec(filters: list[dict], measures=("contribution",), rows=(), totals: bool = False) -> dict:
    return {"cube": CUBE, "rows": list(rows), "measures": list(measures), "filters": filters, "totals": totals}


def period(filters: list[dict]) -> tuple[str | None, str | None]:
    for f in filters:
        if f["op"] == "between":
            return f["values"][0], f["values"][1]
    return None, None


def whale(engine, filters: list[dict]) -> tuple[pd.DataFrame, analysis.WhaleSummary]:
    """The curve (customer share, contribution share) and its marked figures."""
    curve = engine.whale_curve(spec(filters), points=WHALE_POINTS)
    totals = engine.query(spec(filters, analysis.WHALE_MEASURES)).iloc[0]
    return curve, analysis.whale_summary(totals)


def waterfall(engine, filters: list[dict], level: str | None = None, member: str | None = None) -> pd.Series:
    """The contribution parts of the whole slice, or of one member of `level` in it."""
    where = filters + ([{"dim": level, "op": "eq", "values": [member]}] if level and member is not None else [])
    return engine.query(spec(where, analysis.WATERFALL_MEASURES)).iloc[0]


def quadrant(engine, filters: list[dict], level: str) -> analysis.Quadrant:
    return analysis.quadrant(engine.query(spec(filters, analysis.QUADRANT_MEASURES, [level], totals=True)), level)


def vip_tiers(engine, filters: list[dict]) -> pd.DataFrame:
    return engine.query(spec(filters, TIER_MEASURES, ["vip_tier"], totals=True))


def loss_makers(engine, filters: list[dict]) -> pd.DataFrame:
    """Every customer of the slice with negative contribution, worst first, with the main reason."""
    return engine.memoised("loss_makers", (json.dumps(filters, sort_keys=True),),
                           lambda: _loss_makers(engine, filters))


def _loss_makers(engine, filters: list[dict]) -> pd.DataFrame:
    batches = list(engine.iter_records(spec(filters, LOSS_LIST_MEASURES)))
    if not batches or not sum(len(b) for b in batches):
        return analysis.loss_makers(pd.DataFrame({c: pd.Series(dtype=float) for c in analysis.RECORD_COLUMNS},
                                                 index=pd.RangeIndex(0)).assign(record_id=pd.Series(dtype=str)), set())
    customers = pd.concat(batches, ignore_index=True)
    # lapses come from the policies cube; its time means the event date, so dates are checked per lapse
    lapse_spec = {"cube": "policies", "measures": ["policies", "lapses"],
                  "filters": [{"dim": "status", "op": "in", "values": ["lapsed", "surrendered"]}]}
    records = list(engine.iter_records(lapse_spec))
    policy_records = pd.concat(records, ignore_index=True) if records else pd.DataFrame(
        columns=["kind", "record_id", "d", "customer_id"])
    return analysis.loss_makers(customers, analysis.early_lapsers(policy_records, *period(filters)))


# Naming every event type keeps the service cube to its event rows: its policy-exposure rows (the
# complaint rate's denominator) have none, and without the filter they are built only to be dropped.
EVENTS_ONLY = {"dim": "event_type", "op": "in", "values": list(analysis.EVENT_TYPES)}


def unit_costs(engine) -> pd.DataFrame:
    frame = engine.query({"cube": "service", "rows": ["event_type", "service_channel"], "measures": ["events", "cost"],
                          "filters": [EVENTS_ONLY]})
    return analysis.unit_costs(frame)


def service_mix(engine, filters: list[dict], level: str) -> pd.DataFrame:
    """segment, event_type, service_channel, events of the slice (the service cube dates events as
    the mart books their cost, so the same whole-month filter selects the same events)."""
    frame = engine.query({"cube": "service", "rows": [level, "event_type", "service_channel"], "measures": ["events"],
                          "filters": filters + [EVENTS_ONLY]})
    return pd.DataFrame({"segment": frame[level].astype(str), "event_type": frame["event_type"],
                         "service_channel": frame["service_channel"], "events": frame["events"].astype(float)})


def service_policy(engine, filters: list[dict], level: str, adoption_percent: int) -> pd.DataFrame:
    q = quadrant(engine, filters, level)
    shift = analysis.channel_shift(service_mix(engine, filters, level), unit_costs(engine), adoption_percent / 100)
    return analysis.service_policy(q, shift)
