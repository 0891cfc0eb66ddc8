"""Read and check data/params.toml, the company rules shared by generator, derive and cubes.

`load_params()` returns plain dicts and lists with dates parsed, so a wrong file fails here with a
message naming the key instead of deep inside a SQL statement.
"""
from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path

DEFAULT_PARAMS = Path(__file__).with_name("params.toml")

EVENT_TYPES = ("servicing_change", "inquiry", "complaint", "claim_handling", "renewal_reminder", "vip_activity")
SERVICE_CHANNELS = ("call_centre", "branch_counter", "online", "agent")
CHANNELS = ("agency", "bancassurance", "telesales", "online", "broker", "group")
PRODUCT_LINES = ("life", "health", "accident", "annuity", "endowment")
VIP_TIERS = ("gold_vip", "vip")
VIP_METRICS = ("premium_12m", "inforce_annual_premium", "inforce_policies", "tenure_years", "total_premium")


class ParamsError(ValueError):
    """params.toml is missing a key or holds a value of the wrong kind."""


def params_path() -> Path:
    return Path(os.environ.get("POLICYCUBE_PARAMS") or DEFAULT_PARAMS)


def load_params(path: Path | str | None = None) -> dict:
    path = Path(path) if path else params_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError(f"parameter file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParamsError(f"{path}: not valid TOML: {exc}") from None
    return _checked(raw, path)


def _checked(raw: dict, path: Path) -> dict:
    def need(section: dict, key: str, where: str):
        if key not in section:
            raise ParamsError(f"{path}: missing {where}{key}")
        return section[key]

    def number(value, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamsError(f"{path}: {where} must be a number, got {value!r}")
        return float(value)

    cal = need(raw, "calendar", "")
    as_of = _date(need(cal, "as_of_date", "calendar."), path, "calendar.as_of_date")
    start = _date(need(cal, "start_date", "calendar."), path, "calendar.start_date")
    if start >= as_of:
        raise ParamsError(f"{path}: calendar.start_date must be before calendar.as_of_date")
    cutoff = need(cal, "work_month_cutoff_day", "calendar.")
    if not isinstance(cutoff, int) or not 1 <= cutoff <= 31:
        raise ParamsError(f"{path}: calendar.work_month_cutoff_day must be a whole day 1..31, got {cutoff!r}")
    grace = need(cal, "grace_days", "calendar.")
    if not isinstance(grace, int) or grace < 0:
        raise ParamsError(f"{path}: calendar.grace_days must be a whole number >= 0, got {grace!r}")
    holidays = [_date(d, path, "calendar.holidays") for d in cal.get("holidays", [])]

    unit_cost = need(raw, "unit_cost", "")
    costs = {
        (et, ch): number(need(need(unit_cost, et, "unit_cost."), ch, f"unit_cost.{et}."), f"unit_cost.{et}.{ch}")
        for et in EVENT_TYPES
        for ch in SERVICE_CHANNELS
    }
    commission = {}
    for ch in CHANNELS:
        rates = need(need(raw, "commission", ""), ch, "commission.")
        if not isinstance(rates, list) or not rates:
            raise ParamsError(f"{path}: commission.{ch} must be a non-empty list of rates by policy year")
        commission[ch] = [number(r, f"commission.{ch}") for r in rates]
    acquisition = {ch: number(need(need(raw, "acquisition_cost", ""), ch, "acquisition_cost."),
                              f"acquisition_cost.{ch}") for ch in CHANNELS}
    returns = {}
    for year, rate in need(raw, "investment_return", "").items():
        if not year.isdigit():
            raise ParamsError(f"{path}: investment_return keys must be years, got {year!r}")
        returns[int(year)] = number(rate, f"investment_return.{year}")
    if not returns:
        raise ParamsError(f"{path}: investment_return needs at least one year")
    reserve = {ln: number(need(need(raw, "reserve_ratio", ""), ln, "reserve_ratio."), f"reserve_ratio.{ln}")
               for ln in PRODUCT_LINES}

    tiers = []
    for i, rule in enumerate(need(need(raw, "vip", ""), "tiers", "vip.")):
        tier = rule.get("tier")
        if tier not in VIP_TIERS:
            raise ParamsError(f"{path}: vip.tiers[{i}].tier must be one of {VIP_TIERS}, got {tier!r}")
        minimums = {k: number(v, f"vip.tiers[{i}].{k}") for k, v in rule.items() if k != "tier"}
        unknown = set(minimums) - set(VIP_METRICS)
        if unknown:
            raise ParamsError(f"{path}: vip.tiers[{i}] has unknown metric(s) {sorted(unknown)}; use {VIP_METRICS}")
        if not minimums:
            raise ParamsError(f"{path}: vip.tiers[{i}] needs at least one minimum")
        tiers.append({"tier": tier, "minimums": minimums})

    return {
        "as_of_date": as_of,
        "start_date": start,
        "work_month_cutoff_day": cutoff,
        "grace_days": grace,
        "holidays": holidays,
        "unit_cost": costs,
        "commission": commission,
        "acquisition_cost": acquisition,
        "investment_return": returns,
        "reserve_ratio": reserve,
        "vip_tiers": tiers,
        "age_bands": _bands(raw, "age_bands", path),
        "tenure_bands": _bands(raw, "tenure_bands", path),
    }


def _date(value, path: Path, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParamsError(f"{path}: {where} must be a date YYYY-MM-DD, got {value!r}") from None


def _bands(raw: dict, key: str, path: Path) -> list[dict]:
    bands = raw.get(key)
    if not bands:
        raise ParamsError(f"{path}: missing {key}")
    for i, band in enumerate(bands):
        missing = {"code", "lower", "name_zh", "name_en"} - set(band)
        if missing:
            raise ParamsError(f"{path}: {key}[{i}] is missing {sorted(missing)}")
    lowers = [b["lower"] for b in bands]
    if lowers[0] != 0 or lowers != sorted(set(lowers)):
        raise ParamsError(f"{path}: {key} lower bounds must start at 0 and strictly increase, got {lowers}")
    return [dict(b) for b in bands]


def commission_rate(params: dict, channel: str, policy_year: int) -> float:
    """The commission rate of a channel in a policy year; the last listed year covers all later years."""
    rates = params["commission"][channel]
    return rates[min(policy_year, len(rates)) - 1]


def investment_return(params: dict, year: int) -> float:
    """The actual return of a calendar year; a year outside the table takes the nearest year given."""
    table = params["investment_return"]
    return table[min(table, key=lambda y: (abs(y - year), y))]
