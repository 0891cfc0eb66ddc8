"""Writing the demo generator's numpy arrays into warehouse tables.

Arrays go to DuckDB as one Arrow table per insert, and a SELECT turns them into the schema's
types there: ids formatted with a prefix ('P000000042'), epoch days into DATEs, codes into ENUMs.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from data.demo_arrays import NULL_DAY


def code_array(codes: np.ndarray, labels: list[str]) -> pa.DictionaryArray:
    """Codes given as positions in `labels`; DuckDB casts the dictionary array to the ENUM."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(labels))


class Writer:
    """Appends Arrow tables to warehouse tables through one SELECT that formats ids and dates."""

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def insert(self, table: str, columns: dict, select: str) -> None:
        frame = pa.table(columns)
        self.con.register("staging_frame", frame)
        try:
            self.con.execute(f"INSERT INTO {table} BY NAME SELECT {select} FROM staging_frame")
        finally:
            self.con.unregister("staging_frame")


def sql_date(col: str) -> str:
    return f"CASE WHEN {col} <= {NULL_DAY} THEN NULL ELSE DATE '1970-01-01' + CAST({col} AS INTEGER) END"


def sql_id(prefix: str, col: str, width: int) -> str:
    return f"CASE WHEN {col} < 0 THEN NULL ELSE printf('{prefix}%0{width}d', {col}) END"


class Counters:
    """The next id of each fact table, carried from chunk to chunk so that ids never repeat."""

    def __init__(self):
        self.policy = self.claim = self.application = self.event = self.visit = self.premium = self.lead = 0

    def take(self, name: str, n: int) -> np.ndarray:
        first = getattr(self, name)
        setattr(self, name, first + n)
        return np.arange(first, first + n, dtype=np.int64)
