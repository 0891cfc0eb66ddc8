"""The demo insurer's reference dimensions: code tables, geography, occupations, products, branches."""
from __future__ import annotations

import datetime as dt

import numpy as np

from data import reference as ref
from data.code_tables import write_code_tables
from data.demo_arrays import EPOCH, epoch_day
from data.demo_writer import Writer

FAMILIES = [f[0] for f in ref.PRODUCT_FAMILIES]
REGIONS = ref.codes("region")


def write_world(w: Writer, rng: np.random.Generator, params: dict) -> dict:
    """Write the reference dimensions and branches; return the arrays the later steps sample from."""
    con = w.con
    write_code_tables(con)
    con.executemany("INSERT INTO dim_province VALUES (?, ?, ?, ?)", ref.PROVINCES)
    con.executemany("INSERT INTO dim_city VALUES (?, ?, ?, ?, ?)", [c[:5] for c in ref.CITIES])
    con.executemany("INSERT INTO dim_industry VALUES (?, ?, ?)", ref.INDUSTRIES)
    con.executemany("INSERT INTO dim_occupation VALUES (?, ?, ?, ?, ?)", [o[:5] for o in ref.OCCUPATIONS])
    products = ref.products()
    con.executemany("INSERT INTO dim_product VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(p["product_code"], p["name_zh"], p["name_en"], p["line_code"], p["term_type"],
                      p["guaranteed_rate"], p["coverage_years"], p["launch_date"]) for p in products])

    province_region = {p[0]: REGIONS.index(p[3]) for p in ref.PROVINCES}
    branches = []
    for city_idx, (code, zh, en, prov, tier, weight) in enumerate(ref.CITIES):
        count = ref.BRANCHES_PER_TIER[tier]
        for b in range(count):
            dzh, den = ref.BRANCH_DISTRICTS[b]
            branches.append((f"B{code}{b + 1:02d}", f"{zh}{dzh}营业部", f"{en} {den} Office", code, city_idx,
                             weight / count * float(rng.lognormal(0, 0.3)), province_region[prov]))
    first_opening = epoch_day(dt.date(2005, 1, 1))
    opened = first_opening + rng.integers(0, epoch_day(params["start_date"]) - first_opening, len(branches))
    con.executemany("INSERT INTO dim_branch VALUES (?, ?, ?, ?, ?)",
                    [(b[0], b[1], b[2], b[3], EPOCH + dt.timedelta(days=int(o))) for b, o in zip(branches, opened)])
    branch_city = np.array([b[4] for b in branches])
    branch_weight = np.array([b[5] for b in branches])
    city_starts = np.searchsorted(branch_city, np.arange(len(ref.CITIES) + 1))
    return {
        "branch_ids": [b[0] for b in branches],
        "branch_city": branch_city,
        "branch_region": np.array([b[6] for b in branches]),
        "branch_weight": branch_weight,
        "branch_cum": np.cumsum(branch_weight),
        "city_starts": city_starts,
        "city_weight": np.array([c[5] for c in ref.CITIES]),
        "city_tier": np.array([c[4] for c in ref.CITIES]),
        "city_province": np.array([int(c[3]) for c in ref.CITIES]),
        "product_codes": [p["product_code"] for p in products],
        "product_family": np.array([FAMILIES.index(p["family"]) for p in products]),
        "product_launch": np.array([epoch_day(p["launch_date"]) for p in products]),
    }
