"""Read one user file (CSV or Parquet) into a frame of raw text cells, headers as written."""
from __future__ import annotations

import codecs
from pathlib import Path

import duckdb
import pandas as pd

from data.load_errors import LoadError

CSV_SUFFIXES = {".csv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
# Chinese Excel saves "CSV" as GBK; GB18030 is its superset. UTF-8 with or without BOM comes first
# because GB18030 decodes much UTF-8 text into wrong characters without complaint.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in CSV_SUFFIXES | PARQUET_SUFFIXES


def read_raw(path: Path, header_only: bool = False) -> pd.DataFrame:
    """All cells as text (None for Parquet nulls); row i of the frame is data row i + 1 of the file.
    With header_only, just the columns (a quick check of every file before anything is loaded)."""
    if not path.is_file():
        raise LoadError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, header_only)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, header_only)
    raise LoadError(f"{path}: unsupported file type '{path.suffix}'; save it as CSV (UTF-8 or GBK) or Parquet")


def _read_csv(path: Path, header_only: bool) -> pd.DataFrame:
    for encoding in CSV_ENCODINGS:
        try:
            # blank lines are kept so that frame rows stay aligned with the file's data rows
            frame = pd.read_csv(path, dtype=str, encoding=encoding, na_filter=False, skip_blank_lines=False,
                                nrows=0 if header_only else None)
            frame.attrs["encoding"] = encoding
            return frame
        except UnicodeDecodeError:
            if encoding == "utf-8-sig":
                _refuse_marked_utf8(path)
            continue
        except pd.errors.EmptyDataError:
            raise LoadError(f"{path}: file is empty") from None
        except pd.errors.ParserError as exc:
            raise LoadError(f"{path}: not a readable CSV file ({exc})") from None
    raise LoadError(
        f"{path}: cannot read the text encoding; save it as CSV UTF-8 or GBK/GB18030 "
        f"(Excel: 'CSV UTF-8 (comma delimited)')"
    )


def _refuse_marked_utf8(path: Path) -> None:
    """A file that starts with the UTF-8 byte-order mark but is not UTF-8 (GBK text saved behind the
    mark by some editors) would be read as GBK, the mark becoming '锘' glued to the first header;
    refuse it, naming the first line that is not UTF-8, rather than report a missing column."""
    with open(path, "rb") as handle:
        if handle.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            return
        handle.seek(0)
        # a line break byte is never part of a multi-byte character in UTF-8 or GBK
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                break
    raise LoadError(
        f"{path}: the file starts with the UTF-8 mark (BOM) but line {number} is not UTF-8 text "
        f"(probably GBK saved behind a UTF-8 mark); save it again in one encoding: "
        f"Excel's 'CSV UTF-8 (comma delimited)', or GBK without the mark"
    )


def _read_parquet(path: Path, header_only: bool) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.execute("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet(?) LIMIT ?",
                           [str(path), 0 if header_only else None]).df()
    except duckdb.Error as exc:
        raise LoadError(f"{path}: not a readable Parquet file ({exc})") from None
    finally:
        con.close()
