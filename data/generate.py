"""Deterministic demo warehouse: a synthetic Chinese life insurer, 2021 to the params as-of date.

    python -m data.generate [--scale S] [--seed N] [--out PATH]

Scale 1.0 is about 100,000 customers. Customers are generated in fixed-size chunks, each with its
own random stream derived from (seed, chunk number), so the same seed and scale always give the
same warehouse and memory stays bounded at any scale. Arrays are built with numpy and written
by DuckDB from Arrow tables; identifiers and dates are formatted inside DuckDB.

This module is the command line and the order of work; each part of the demo world is made
by its own module, whose constants set its behaviour (company rules such as costs, commission,
VIP and calendar come from data/params.toml instead):

    demo_world      code tables, geography, occupations, products, branch network
    demo_agents     agents and teams
    demo_customers  customers
    demo_policies   policies, premiums, lapses, claims, underwriting
    demo_activity   service events and agents' visits
    demo_arrays, demo_writer   epoch-day dates and sampling; writing arrays into tables
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import duckdb
import numpy as np
from tqdm import tqdm

from data.config import ParamsError, load_params
from data.demo_activity import write_idle_agent_visits, write_service_events, write_visits
from data.demo_agents import write_agents
from data.demo_arrays import epoch_day
from data.demo_customers import sample_customers, write_customers
from data.demo_policies import (lapses_and_premiums, sample_claims, sample_policies, write_claims, write_policies,
                                write_premiums, write_underwriting)
from data.demo_world import write_world
from data.demo_writer import Counters, Writer
from data.derive import derive
from data.warehouse import DEMO_SEED, create_schema, demo_scale, warehouse_path

CUSTOMERS_PER_SCALE = 100_000
CHUNK = 50_000                      # customers per chunk; fixed so that chunking never changes the data
DUCKDB_MEMORY = "3GB"  # the 10x build's one-pass GROUPING SETS of the policies rollups needs about 2 GB


def _generate_chunk(w: Writer, rng, first_customer: int, n: int, world: dict, agents: dict, params: dict,
                    ids: Counters) -> None:
    """One chunk of customers with everything that happens to them."""
    as_of, start = epoch_day(params["as_of_date"]), epoch_day(params["start_date"])
    grace = params["grace_days"]
    cust = sample_customers(rng, n, world, as_of, start)
    pol = sample_policies(rng, cust, world, agents, as_of)
    prem = lapses_and_premiums(rng, pol, cust, as_of, grace)
    claims = sample_claims(rng, pol, cust, prem, as_of)

    cid = first_customer + np.arange(n)
    write_customers(w, rng, cust, cid, world, pol)
    pid = ids.take("policy", len(pol["cust"]))
    write_policies(w, pol, cid, pid, world)
    write_premiums(w, prem, pid, ids)
    write_claims(w, claims, pid, ids)
    write_underwriting(w, rng, pol, cust, cid, pid, world, ids)
    write_service_events(w, rng, cust, pol, prem, claims, cid, pid, as_of, ids)
    write_visits(w, rng, pol, cust, cid, pid, agents, as_of, start, ids)


def generate(out: Path, scale: float = 1.0, seed: int = DEMO_SEED, progress: bool = True,
             params: dict | None = None) -> Path:
    """Build the demo warehouse at `out` (atomically: a temp file beside it, then os.replace)."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    params = params or load_params()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    spill = Path(f"{tmp}.spill")
    tmp.unlink(missing_ok=True)
    n_customers = max(200, round(CUSTOMERS_PER_SCALE * scale))
    chunks = [(s, min(CHUNK, n_customers - s)) for s in range(0, n_customers, CHUNK)]
    as_of, start = epoch_day(params["as_of_date"]), epoch_day(params["start_date"])
    try:
        con = duckdb.connect(str(tmp))
        try:
            # Bounded memory at any scale: DuckDB spills to a temp directory beside the output.
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
            con.execute("SET temp_directory = ?", [str(spill)])
            create_schema(con)
            w = Writer(con)
            with tqdm(total=len(chunks) + 2, desc="demo warehouse", unit="step", disable=not progress) as bar:
                world = write_world(w, np.random.default_rng([seed, 0]), params)
                agents = write_agents(w, np.random.default_rng([seed, 0, 1]), world, scale, params)
                ids = Counters()
                write_idle_agent_visits(w, np.random.default_rng([seed, 0, 2]), agents, as_of, start, ids)
                bar.update()
                for i, (first, n) in enumerate(chunks):
                    _generate_chunk(w, np.random.default_rng([seed, 1, i]), first + 1, n, world, agents, params, ids)
                    bar.update()
                derive(con, params)
                # Marks the file as generated demo data: only such a warehouse gets the demo accounts.
                con.execute("CREATE TABLE demo_dataset AS SELECT ?::INTEGER AS seed, ?::DOUBLE AS scale", [seed, scale])
                con.execute("CHECKPOINT")
                bar.update()
        finally:
            con.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        shutil.rmtree(spill, ignore_errors=True)
        raise
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.generate",
                                     description="Generate the deterministic PolicyCube demo warehouse.")
    parser.add_argument("--scale", type=float, default=None,
                        help="1.0 = about 100,000 customers (default: POLICYCUBE_SCALE or 1.0)")
    parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed (default {DEMO_SEED})")
    parser.add_argument("--out", type=Path, default=None,
                        help="warehouse file to write (default: POLICYCUBE_DATA or data/warehouse/policycube.duckdb)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        scale = demo_scale() if args.scale is None else args.scale
    except ValueError:
        parser.error("POLICYCUBE_SCALE must be a number")
    if not scale > 0 or scale > 1000:
        parser.error(f"--scale must be a number in (0, 1000], got {scale}")
    out = args.out or warehouse_path()
    if out.exists() and out.is_dir():
        parser.error(f"--out must be a file path, {out} is a directory")
    try:
        path = generate(out, scale=scale, seed=args.seed, progress=not args.quiet)
    except ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, duckdb.Error) as exc:
        print(f"error: could not write {out}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
