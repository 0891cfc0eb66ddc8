"""Contribution and cost to serve: the analysis behind the page, as plain pandas over engine answers.

    waterfall_steps(row)               premium − claims − commission − acquisition − cost to serve + spread
    whale_summary(totals)              top 20 % / 30 % shares, the peak and what the loss-making tail gives back
    quadrant(frame, level)             contribution and cost to serve per customer of each member, against
                                       the company averages (company total / company customers)
    early_lapsers(policy_records, ...) customers with a policy lapsed or surrendered in policy years 1–2
    loss_makers(customers, early)      customers with negative contribution and the main reason for it
    unit_costs(frame)                  unit cost of each event type and channel
    channel_shift(mix, units, share)   what moving routine service events to the cheapest channel saves

No queries and no Dash here: cubes/contribution_queries.py asks the engine, this module reasons.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

# The contribution identity of DOMAIN.md, in the order a waterfall reads it, with each part's sign.
WATERFALL_PARTS = (("premium", 1), ("claims", -1), ("commission", -1), ("acquisition_cost", -1),
                   ("cost_to_serve", -1), ("investment_spread", 1))
WATERFALL_MEASURES = tuple(name for name, _sign in WATERFALL_PARTS) + ("contribution",)


def waterfall_steps(row: Mapping) -> list[tuple[str, float]]:
    """Each part of contribution with the sign it enters with; they add up to row['contribution']."""
    return [(name, sign * float(row[name])) for name, sign in WATERFALL_PARTS]


# --- whale curve -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WhaleSummary:
    customers: int
    contribution: float
    top20_share: float
    top30_share: float
    loss_customers: int
    loss_contribution: float          # the (negative) sum of the loss-making customers' contribution

    @property
    def peak_contribution(self) -> float:
        """Where the curve peaks: every customer with a non-negative contribution, before the tail."""
        return self.contribution - self.loss_contribution

    @property
    def peak_share(self) -> float:
        return self.peak_contribution / self.contribution if self.contribution > 0 else float("nan")

    @property
    def peak_customer_share(self) -> float:
        return 1 - self.loss_customers / self.customers if self.customers else float("nan")

    @property
    def giveback_share(self) -> float:
        """The share of the peak profit the loss-making tail gives back."""
        return -self.loss_contribution / self.peak_contribution if self.peak_contribution > 0 else float("nan")


WHALE_MEASURES = ("customers", "contribution", "top20_share", "top30_share", "negative_customers",
                  "negative_contribution")


def whale_summary(totals: Mapping) -> WhaleSummary:
    """From one row of the contribution cube's WHALE_MEASURES (a slice's totals)."""
    def number(name):
        value = totals[name]
        return 0.0 if pd.isna(value) else float(value)

    return WhaleSummary(int(number("customers")), number("contribution"), float(totals["top20_share"]),
                        float(totals["top30_share"]), int(number("negative_customers")),
                        number("negative_contribution"))


# --- segment quadrant ------------------------------------------------------------------------------
QUADRANT_MEASURES = ("customers", "contribution", "cost_to_serve", "premium")
# (contribution per customer at or above the company's, cost per customer above the company's)
QUADRANTS = {(True, False): "core", (True, True): "valuable_costly", (False, False): "low_touch",
             (False, True): "low_value_costly"}


@dataclass(frozen=True)
class Quadrant:
    members: pd.DataFrame   # key, label_zh, label_en, customers, contribution, cost_to_serve, premium,
                            # contribution_per_customer, cost_per_customer, quadrant
    contribution_per_customer: float
    cost_per_customer: float


def quadrant(frame: pd.DataFrame, level: str) -> Quadrant:
    """`frame`: the contribution cube's QUADRANT_MEASURES by `level`, with totals. The company
    averages divide the grand totals (summed parts), never average the members' ratios."""
    total = frame[frame["_row_depth"] == 0].iloc[0]
    body = frame[frame["_row_depth"] > 0]
    avg_contribution = total["contribution"] / total["customers"] if total["customers"] else float("nan")
    avg_cost = total["cost_to_serve"] / total["customers"] if total["customers"] else float("nan")
    members = pd.DataFrame({
        "key": body[level].astype(str), "label_zh": body[f"{level}|zh"], "label_en": body[f"{level}|en"],
        **{m: body[m].astype(float) for m in QUADRANT_MEASURES},
    }).reset_index(drop=True)
    members["contribution_per_customer"] = members["contribution"] / members["customers"]
    members["cost_per_customer"] = members["cost_to_serve"] / members["customers"]
    members["quadrant"] = [QUADRANTS[(c >= avg_contribution, s > avg_cost)]
                           for c, s in zip(members["contribution_per_customer"], members["cost_per_customer"])]
    return Quadrant(members, float(avg_contribution), float(avg_cost))


# --- loss-making customers -------------------------------------------------------------------------
EARLY_LAPSE_MONTHS = 24   # lapsed or surrendered within policy years 1-2: acquisition never earned back
REASONS = ("high_claims", "high_service_cost", "early_lapse", "acquisition_unrecovered", "negative_spread")
# What drains a customer's premium, as columns of the contribution cube's records. Acquisition cost and
# commission are one drain: the price of winning the business, recovered only if premiums keep coming.
DRAINS = {"claims": ("claims_paid",), "service": ("cost_to_serve",),
          "acquisition": ("commission", "acquisition_cost"), "spread": ()}
RECORD_COLUMNS = ("premium", "claims_paid", "commission", "acquisition_cost", "cost_to_serve",
                  "investment_spread", "contribution")


def early_lapsers(policy_records: pd.DataFrame, start: str | None = None, end: str | None = None) -> set[str]:
    """Customers with a policy lapsed or surrendered (in [start, end] when given) before the end of
    its second policy year. `policy_records`: the policies cube's records of measures policies and
    lapses: a 'policy' row dated by the issue date and a 'lapse' row dated by the status date."""
    if policy_records.empty:
        return set()
    issued = policy_records[policy_records["kind"] == "policy"].set_index("record_id")["d"]
    lapses = policy_records[policy_records["kind"] == "lapse"]
    lapse_day = pd.to_datetime(lapses["d"])
    issue_day = pd.to_datetime(lapses["record_id"].map(issued))
    early = lapse_day < issue_day + pd.DateOffset(months=EARLY_LAPSE_MONTHS)
    if start:
        early &= lapse_day >= pd.Timestamp(start)
    if end:
        early &= lapse_day <= pd.Timestamp(end)
    return set(lapses.loc[early, "customer_id"].astype(str))


def _drain(frame: pd.DataFrame, name: str) -> pd.Series:
    if name == "spread":
        return -frame["investment_spread"].astype(float)   # a negative spread drains, a positive one adds
    return sum(frame[column].astype(float) for column in DRAINS[name])


def loss_makers(customers: pd.DataFrame, early: set[str]) -> pd.DataFrame:
    """The customers of `customers` (contribution cube records: record_id and RECORD_COLUMNS) whose
    contribution is negative, worst first, with the main reason.

    The rule: each drain (claims, cost to serve, acquisition cost + commission, negative investment
    spread) is compared with what it would be at the company's rate for the customer's premium
    (company drain / company premium over the same customers); the main reason is the drain that
    exceeds its company-rate amount the most. An excess of acquisition cost is 'early lapse' when
    the customer let a policy lapse in its first two years, else 'acquisition cost not recovered'
    (premium too small or too recent to pay back the cost of selling). Ties go to the earlier drain."""
    premium = customers["premium"].astype(float)
    total_premium = premium.sum()
    excess = pd.DataFrame({
        name: _drain(customers, name) - (_drain(customers, name).sum() / total_premium if total_premium else 0.0) * premium
        for name in DRAINS
    })
    losing = customers["contribution"].astype(float) < 0
    out = customers.loc[losing, ["record_id", *RECORD_COLUMNS]].rename(columns={"record_id": "customer_id"})
    main = excess[losing].idxmax(axis=1)
    lapsed = out["customer_id"].astype(str).isin(early)
    reason = main.map({"claims": "high_claims", "service": "high_service_cost", "spread": "negative_spread"})
    reason = reason.where(main != "acquisition", lapsed.map({True: "early_lapse", False: "acquisition_unrecovered"}))
    out["reason"] = reason
    out["excess"] = excess[losing].max(axis=1)
    out["contribution_margin"] = (out["contribution"] / out["premium"]).where(out["premium"] > 0)
    return out.sort_values(["contribution", "customer_id"]).reset_index(drop=True)


def reason_summary(losses: pd.DataFrame) -> pd.DataFrame:
    """Customers and contribution lost by main reason, in REASONS order (reasons with none left out)."""
    grouped = losses.groupby("reason")["contribution"].agg(["count", "sum"])
    return pd.DataFrame({"reason": [r for r in REASONS if r in grouped.index],
                         "customers": [int(grouped.loc[r, "count"]) for r in REASONS if r in grouped.index],
                         "contribution": [float(grouped.loc[r, "sum"]) for r in REASONS if r in grouped.index]})


# --- service policy --------------------------------------------------------------------------------
# Routine work a customer can do in another channel. Complaints are handled where they arise and
# VIP activities are a service level, not a channel choice, so neither is moved.
MOVABLE_EVENTS = ("servicing_change", "inquiry", "renewal_reminder", "claim_handling")
EVENT_TYPES = MOVABLE_EVENTS + ("complaint", "vip_activity")   # the schema's event_type_code
ADOPTION_CHOICES = (25, 50, 100)   # percent of the movable events assumed to move
DEFAULT_ADOPTION = 50


def unit_costs(frame: pd.DataFrame) -> pd.DataFrame:
    """event_type, service_channel, unit_cost from the service cube's events and cost by event type
    and channel: every event costs the unit cost of its type and channel (param_unit_cost), so the
    cost of a combination over its events is that unit cost."""
    body = frame[frame["events"] > 0]
    return pd.DataFrame({"event_type": body["event_type"].astype(str),
                         "service_channel": body["service_channel"].astype(str),
                         "unit_cost": body["cost"].astype(float) / body["events"].astype(float)}).reset_index(drop=True)


def channel_shift(mix: pd.DataFrame, units: pd.DataFrame, adoption: float) -> pd.DataFrame:
    """Per segment: the channel whose use for its routine events saves the most, and the saving.

    `mix`: segment, event_type, service_channel, events (one segment's or many). Each movable event
    in a dearer channel than the target moves with probability `adoption` (0..1) and then costs the
    target's unit cost of its type; events already cheaper stay. Returns segment, target_channel,
    events_moved (expected), saving, cost (the segment's cost to serve at today's mix)."""
    unit = units.set_index(["event_type", "service_channel"])["unit_cost"]
    mix = mix.assign(event_type=mix["event_type"].astype(str), service_channel=mix["service_channel"].astype(str))
    mix = mix.assign(unit=[unit.get((e, c), 0.0) for e, c in zip(mix["event_type"], mix["service_channel"])])
    mix = mix.assign(cost=mix["unit"] * mix["events"])
    rows = []
    for segment, part in mix.groupby("segment", sort=False):
        best = (None, 0.0, 0.0)
        for target in sorted(units["service_channel"].unique()):
            to = [unit.get((e, target)) for e in part["event_type"]]
            gain = [(u - t) * n if t is not None and e in MOVABLE_EVENTS and u > t else 0.0
                    for e, u, t, n in zip(part["event_type"], part["unit"], to, part["events"])]
            moved = sum(n for g, n in zip(gain, part["events"]) if g > 0)
            if sum(gain) > best[1]:
                best = (target, sum(gain), moved)
        rows.append({"segment": segment, "target_channel": best[0], "events_moved": best[2] * adoption,
                     "saving": best[1] * adoption, "cost": float(part["cost"].sum())})
    return pd.DataFrame(rows, columns=["segment", "target_channel", "events_moved", "saving", "cost"])


# Service policy by quadrant, most valuable first: who gets priority and who is moved to cheaper channels.
POLICY_ORDER = ("core", "valuable_costly", "low_value_costly", "low_touch")


def service_policy(q: Quadrant, shift: pd.DataFrame) -> pd.DataFrame:
    """One row per segment: its quadrant, per-customer figures, the suggested policy and (for the
    costly quadrants) the channel to move routine service to and the saving."""
    out = q.members.merge(shift, left_on="key", right_on="segment", how="left").drop(columns="segment")
    costly = out["quadrant"].isin(("valuable_costly", "low_value_costly"))
    out["target_channel"] = out["target_channel"].where(costly & (out["saving"] > 0))
    for column in ("saving", "events_moved"):
        out[column] = out[column].where(out["target_channel"].notna())
    out["saving_share"] = out["saving"] / out["cost"]
    order = {name: i for i, name in enumerate(POLICY_ORDER)}
    out = out.assign(_order=out["quadrant"].map(order))
    return out.sort_values(["_order", "contribution_per_customer"], ascending=[True, False]) \
              .drop(columns="_order").reset_index(drop=True)


def month_span(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """A date range widened to whole months: the contribution mart is monthly."""
    first = dt.date.fromisoformat(start).replace(day=1).isoformat() if start else None
    if not end:
        return first, None
    day = dt.date.fromisoformat(end)
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, (following - dt.timedelta(days=1)).isoformat()
