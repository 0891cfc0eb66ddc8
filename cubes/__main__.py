"""Command line of the cube layer.

    python -m cubes describe [--data PATH]                   every cube, its dimensions and measures, as JSON
    python -m cubes query SPEC.json [--data PATH] [--csv OUT] answer a spec ('-' reads it from stdin);
                                                              print it, or write CSV (UTF-8 with BOM, for Excel)
Without --data the warehouse is POLICYCUBE_DATA or data/warehouse/policycube.duckdb.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb
import pandas as pd

from cubes.engine import Engine
from cubes.export import csv_chunks, displayed, filters_line
from cubes.model import SpecError
from cubes.spec import QuerySpec
from data.warehouse import warehouse_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cubes", description="PolicyCube cubes: describe and query.")
    commands = parser.add_subparsers(dest="command", required=True)
    describe = commands.add_parser("describe", help="print every cube with dimensions and measures as JSON")
    describe.add_argument("--data", type=Path, help="warehouse file")
    query = commands.add_parser("query", help="answer a query spec (JSON file, or - for stdin)")
    query.add_argument("spec", help="spec JSON file, or - to read stdin")
    query.add_argument("--data", type=Path, help="warehouse file")
    query.add_argument("--csv", type=Path, help="write the answer to this CSV file (UTF-8 with BOM)")
    query.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the CSV labels")
    args = parser.parse_args(argv)
    try:
        engine = Engine(args.data or warehouse_path())
        if args.command == "describe":
            print(json.dumps(engine.describe(), ensure_ascii=False, indent=2))
            return 0
        text = sys.stdin.read() if args.spec == "-" else Path(args.spec).read_text(encoding="utf-8")
        spec = QuerySpec.from_json(text)
        frame = engine.query(spec)
    except SpecError as exc:
        print(f"error: invalid spec: {exc}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.Error as exc:
        print(f"error: the warehouse could not answer: {exc}", file=sys.stderr)
        return 1
    if args.csv:
        # The dashboard's export format: filters line, labels in the language, UTF-8 with BOM.
        line = filters_line(spec, args.lang, lambda ref, key: engine.member_label(spec.cube, ref, key, args.lang))
        with open(args.csv, "wb") as out:
            out.writelines(csv_chunks([displayed(frame, args.lang)], line))
        print(f"wrote {len(frame)} rows to {args.csv}")
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(frame.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
