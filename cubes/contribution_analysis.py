"""Contribution and cost to serve: the analysis behind the page, as plain pandas over engine answers.

    waterfall_steps(row)               premium − claims − commission − acquisition − cost to serve
                                       − increase in reserves + spread
    whale_summary(totals)              top 20 % / 30 % shares, the peak and what the loss-making tail gives back
    quadrant(frame, level)             contribution and cost to serve per customer of each member, against
                                       the company averages (company total / company customers)
    LossView                           what the page shows of the loss-makers (their reasons: the query's)
    unit_costs(frame)                  unit cost of each event type and channel
    channel_shift(mix, units, share)   what moving routine service events to the cheapest channel saves

No queries and no Dash here: cubes/contribution_queries.py asks the engine, this module reasons.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

# The contribution identity of DOMAIN.md, in the order a waterfall reads it, with each part's sign.
WATERFALL_PARTS = (("premium", 1), ("claims", -1), ("commission", -1), ("acquisition_cost", -1),
                   ("cost_to_serve", -1), ("reserve_increase", -1), ("investment_spread", 1))
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
# The list and each customer's main reason come from one query (contribution_queries.loss_makers).
REASONS = ("high_claims", "high_service_cost", "early_lapse", "acquisition_unrecovered", "reserve_not_covered",
           "negative_spread")


@dataclass(frozen=True)
class LossView:
    """What the page shows of a loss-making list."""
    summary: pd.DataFrame   # reason, customers, contribution: every loss-maker by main reason, in_reason_order
    worst: pd.DataFrame     # the worst of those listed (with `reason`, or all), worst first
    reason: str | None

    @property
    def listed(self) -> int:
        return int(self._listed()["customers"].sum())

    @property
    def listed_contribution(self) -> float:
        return float(self._listed()["contribution"].sum())

    def _listed(self) -> pd.DataFrame:
        return self.summary[self.summary["reason"] == self.reason] if self.reason else self.summary


def in_reason_order(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows by reason (column 'reason') in REASONS order."""
    return summary.sort_values("reason", key=lambda r: r.map(REASONS.index)).reset_index(drop=True)


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
    # a dict: looked up once per event type, channel and target (a MultiIndex lookup is 100x slower)
    unit = dict(zip(zip(units["event_type"], units["service_channel"]), units["unit_cost"]))
    mix = mix.assign(event_type=mix["event_type"].astype(str), service_channel=mix["service_channel"].astype(str))
    mix = mix.assign(unit=[unit.get((e, c), 0.0) for e, c in zip(mix["event_type"], mix["service_channel"])])
    mix = mix.assign(cost=mix["unit"] * mix["events"])
    rows = []
    targets = sorted(units["service_channel"].unique())
    for segment, part in mix.groupby("segment", sort=False):
        best = (None, 0.0, 0.0)
        types, costs, events = part["event_type"].tolist(), part["unit"].tolist(), part["events"].tolist()
        for target in targets:
            to = [unit.get((e, target)) for e in types]
            gain = [(u - t) * n if t is not None and e in MOVABLE_EVENTS and u > t else 0.0
                    for e, u, t, n in zip(types, costs, to, events)]
            moved = sum(n for g, n in zip(gain, events) if g > 0)
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
