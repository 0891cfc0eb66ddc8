"""One load (or rollup rebuild, data/warehouse.py) at a time per warehouse, and the leftovers of a
killed load removed by the next.

A load copies the warehouse, works on the copy and puts it in place of the original, so two loads
running at once would each replace the file and the last to finish would drop the other's rows.
An OS lock (flock) on `.<warehouse>.lock` beside the warehouse is held for the whole
copy-work-replace. The kernel releases it when its process ends in any way, kill -9 included, so
whoever holds it knows that no other load is running: every work copy found then is a dead load's.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from data.load_errors import LoadError

# data/load.py's work files: .<name>.<load id>.tmp, its .tmp.wal, DuckDB's spill folder .tmp.tmp
# and the quarantine .<name>.<load id>.csv
LOAD_ID = r"\d{8}T\d{6}-[0-9a-f]{6}"
WORK_SUFFIX = r"(\.tmp(\.wal|\.tmp)?|\.csv)"


def lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _holder(handle) -> str:
    handle.seek(0)
    pid = handle.read().strip()
    return f" (process {pid})" if pid else ""


@contextmanager
def warehouse_lock(target: Path, wait: bool = True) -> Iterator[None]:
    """Hold the warehouse's load lock; if another load holds it, wait for it (saying so on stderr)
    or, with wait=False, refuse with a LoadError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # a+ so that opening never empties the holder's pid; the file itself is never deleted, since a
    # new file under the same name would be a second, unrelated lock
    with open(lock_path(target), "a+", encoding="ascii") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            if not wait:
                raise LoadError(f"{target}: another load into this warehouse is running{holder}; "
                                f"load again when it has finished (or leave out --no-wait to wait for it)") from None
            print(f"waiting for another load (or rollup rebuild) into {target} to finish{holder} ...",
                  file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
            remove_dead_work_files(target)
            yield
        finally:
            handle.truncate(0)
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_dead_work_files(target: Path) -> list[Path]:
    """Remove the work copies (and their WAL and quarantine files) of loads killed before they
    could clean up. Only to be called holding the lock: then none of them belongs to a live load."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.{LOAD_ID}{WORK_SUFFIX}")
    removed = sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name))
    for path in removed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    if removed:
        print(f"removed {len(removed)} file(s) left by an interrupted load: {', '.join(p.name for p in removed)}",
              file=sys.stderr, flush=True)
    return removed
