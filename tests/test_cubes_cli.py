"""`python -m cubes describe|query`, as a user runs it."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from data.warehouse import PROJECT_ROOT
from tests.test_cubes_fixtures import engine, tables, warehouse  # noqa: F401


def run(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cubes", *map(str, args)], cwd=PROJECT_ROOT, input=stdin,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def test_describe_lists_cubes_levels_member_counts_and_measures(warehouse, tables):  # noqa: F811
    done = run("describe", "--data", warehouse)
    assert done.returncode == 0, done.stderr
    cubes = json.loads(done.stdout)
    assert set(cubes) == {"policies", "contribution", "service", "agents"}
    geo = cubes["policies"]["dimensions"]["geography"]
    assert [lv["name"] for lv in geo["levels"]] == ["geography.region", "geography.province", "geography.city",
                                                    "geography.branch"]
    assert geo["levels"][0]["members"] == len(tables["dim_region"])
    assert geo["levels"][3]["members"] == tables["fact_policy"]["branch_id"].nunique()
    loss = next(m for m in cubes["policies"]["measures"] if m["name"] == "loss_ratio")
    assert loss == {"name": "loss_ratio", "label": {"zh": "赔付率", "en": "Loss ratio"}, "format": "pct",
                    "additive": False}


def test_query_writes_csv_with_bom(warehouse, tables, tmp_path):  # noqa: F811
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cube": "policies", "rows": ["channel"], "measures": ["policies"],
                                "filters": [{"dim": "channel", "op": "not_in", "values": ["group"]}]}),
                    encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run("query", spec, "--data", warehouse, "--csv", out)
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))
    assert raw.decode("utf-8-sig").splitlines()[0] == "筛选条件: 渠道: 不含 团险"
    frame = pd.read_csv(out, encoding="utf-8-sig", skiprows=1)
    names = dict(zip(tables["dim_channel"]["channel_code"].astype(str), tables["dim_channel"]["name_zh"]))
    policies = tables["fact_policy"]
    expected = policies[policies["channel_code"].astype(str) != "group"].groupby("channel_code", observed=True).size()
    assert dict(zip(frame["渠道"], frame["保单数"])) == {names[str(k)]: v for k, v in expected.items()}


@pytest.mark.parametrize("spec, message", [
    ('{"cube": "policies", "measures": ["premium"]}', "no measure 'premium'; valid: policies"),
    ('{"cube": "policies", ', "not valid JSON"),
])
def test_bad_spec_is_a_message_and_a_non_zero_exit(warehouse, spec, message):  # noqa: F811
    done = run("query", "-", "--data", warehouse, stdin=spec)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_missing_warehouse_is_a_message(tmp_path):
    done = run("describe", "--data", tmp_path / "none.duckdb")
    assert done.returncode == 2 and "warehouse file not found" in done.stderr
