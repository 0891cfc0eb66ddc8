"""Company rules the cubes need, from data/params.toml (read by data/config.py): the as-of date
(ages, tenure and persistency observation are measured at it), the persistency grace period,
and the age and tenure bands with their bilingual names. Values are checked before any reaches
SQL text (dates become DATE literals, band bounds whole numbers, band codes plain words)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from data.config import load_params


@dataclass(frozen=True)
class Band:
    code: str
    lower: int
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Rules:
    as_of: dt.date
    grace_days: int
    age_bands: tuple[Band, ...]
    tenure_bands: tuple[Band, ...]

    def __post_init__(self):
        if not isinstance(self.as_of, dt.date) or isinstance(self.grace_days, bool) \
                or not isinstance(self.grace_days, int) or self.grace_days < 0:
            raise ValueError("cube rules need an as-of date and a whole number of grace days")
        for bands in (self.age_bands, self.tenure_bands):
            for b in bands:
                if not re.fullmatch(r"\w+", b.code) or isinstance(b.lower, bool) or not isinstance(b.lower, int):
                    raise ValueError(f"band {b!r} needs a plain code and a whole-number lower bound")

    @property
    def as_of_sql(self) -> str:
        return f"DATE '{self.as_of.isoformat()}'"


def load_rules(path=None) -> Rules:
    params = load_params(path)

    def bands(key):
        return tuple(Band(str(b["code"]), b["lower"], b["name_zh"], b["name_en"]) for b in params[key])

    return Rules(params["as_of_date"], params["grace_days"], bands("age_bands"), bands("tenure_bands"))


def band_sql(expr: str, bands: tuple[Band, ...]) -> str:
    """CASE expression putting a whole-number expression into its band code (NULL stays NULL)."""
    whens = " ".join(f"WHEN {expr} >= {b.lower} THEN '{b.code}'" for b in sorted(bands, key=lambda b: -b.lower))
    return f"(CASE {whens} END)"
