"""One simulated user of the load test: signs in as a demo role and browses like a person.

A user replays the pages' recorded callback requests (scripts/bench_record.py), pauses 1-3 s between
views as someone reading them would, and now and then downloads: the records CSV of a large slice, a
table as CSV and as a workbook. Every request goes to the `Journal` with its kind, times and outcome;
a request cut at the connection level (a reset, a response ending early) is tried once more, the
retry journaled too, so the checks can tell a cut the killed worker explains from a real failure.
"""
from __future__ import annotations

import io
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from openpyxl import load_workbook

from scripts.bench_export import HEADER_LINES
from scripts.bench_replay import OK_STATUSES, post_callback

PAUSE_S = (1.0, 3.0)
EXPORT_SHARE = 0.2  # one action in five is a download
TIMEOUT_S = 120
CUT = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)  # resets, early ends


@dataclass(frozen=True)
class Outcome:
    user: str
    kind: str  # sign_in, callback, navigation, export_records_csv, export_table_csv, export_table_xlsx
    request_id: int  # a retry has its first try's id
    started_s: float  # seconds since the run started
    ended_s: float
    status: int | None  # None: no HTTP answer (the connection was cut)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def seconds(self) -> float:
        return self.ended_s - self.started_s


@dataclass(frozen=True)
class Download:
    account: str
    view_kind: str  # as the audit log's target: pivot/records
    fmt: str
    rows: int  # data rows that arrived
    complete: bool


@dataclass
class Journal:
    """What every user did; appended to from many threads (list.append is atomic)."""

    started: float = field(default_factory=time.monotonic)
    outcomes: list[Outcome] = field(default_factory=list)
    downloads: list[Download] = field(default_factory=list)
    _ids: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() - self.started

    def new_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids


@dataclass(frozen=True)
class Export:
    path: str  # /export/<view>.<fmt>?...
    kind: str  # the outcome's kind
    view_kind: str
    fmt: str


@dataclass(frozen=True)
class Plan:
    """What users can do: recorded navigations (name -> callback calls) and exports."""

    navigations: dict[str, list[tuple[str, str]]]
    exports: tuple[Export, ...]


class Browser:
    """A signed-in session that journals every request."""

    def __init__(self, base_url: str, account: str, password: str, journal: Journal):
        self.base_url, self.account, self.journal = base_url, account, journal
        self.session = requests.Session()
        self._attempt("sign_in", lambda: self._sign_in(password))

    def _sign_in(self, password: str) -> int:
        answer = self.session.post(self.base_url + "/login", data={"username": self.account, "password": password},
                                   allow_redirects=False, timeout=TIMEOUT_S)
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"sign-in as {self.account} answered HTTP {answer.status_code}")
        return answer.status_code

    def _attempt(self, kind: str, send: Callable[[], int]):
        """`send()` once, and once more when the connection was cut; each try journaled."""
        request_id = self.journal.new_id()
        for attempt in (1, 2):
            started = self.journal.now()
            try:
                status = send()
            except CUT as error:
                self.journal.outcomes.append(Outcome(self.account, kind, request_id, started, self.journal.now(),
                                                     None, f"cut: {type(error).__name__}: {str(error)[:160]}"))
                if attempt == 2:
                    raise
                continue
            except (requests.RequestException, RuntimeError) as error:
                self.journal.outcomes.append(Outcome(self.account, kind, request_id, started, self.journal.now(),
                                                     getattr(error, "status", None), f"{type(error).__name__}: "
                                                     f"{str(error)[:200]}"))
                raise
            self.journal.outcomes.append(Outcome(self.account, kind, request_id, started, self.journal.now(), status))
            return status

    def navigate(self, calls: list[tuple[str, str]]) -> None:
        """A view: its callback requests one after another (a navigation's time is their sum)."""
        started = self.journal.now()
        for path, body in calls:
            self._attempt("callback", lambda: self._callback(path, body))
        self.journal.outcomes.append(Outcome(self.account, "navigation", self.journal.new_id(), started,
                                             self.journal.now(), 200))

    def _callback(self, path: str, body: str) -> int:
        answer = post_callback(self.session, self.base_url, path, body, TIMEOUT_S)
        if answer.status_code not in OK_STATUSES:
            raise HTTPStatusError(answer.status_code, answer.content[:200])
        return answer.status_code

    def download(self, export: Export, on_first_chunk: Callable[[requests.Response], None] | None = None) -> None:
        self._attempt(export.kind, lambda: self._download(export, on_first_chunk))

    def _download(self, export: Export, on_first_chunk) -> int:
        content = bytearray()
        with self.session.get(self.base_url + export.path, stream=True, timeout=TIMEOUT_S) as answer:
            if answer.status_code != 200:
                raise HTTPStatusError(answer.status_code, answer.content[:200])
            try:  # answered: the export_started row is written, so the download is one the audit must name
                for chunk in answer.iter_content(chunk_size=1 << 16):
                    if on_first_chunk and not content:
                        on_first_chunk(answer)
                    content += chunk
            except CUT:
                self._arrived(export, bytes(content), complete=False)
                raise
        self._arrived(export, bytes(content), complete=True)
        return 200

    def _arrived(self, export: Export, content: bytes, complete: bool) -> None:
        if export.fmt == "csv":
            rows = max(content.count(b"\n") - HEADER_LINES, 0)
        elif complete:  # the workbook's filters line and header row come first
            sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
            rows = sum(1 for _ in sheet.iter_rows(min_row=HEADER_LINES + 1, values_only=True))
        else:
            rows = 0  # a workbook is sent once written: a cut one is no file to count rows in
        self.journal.downloads.append(Download(self.account, export.view_kind, export.fmt, rows, complete))


class HTTPStatusError(RuntimeError):
    def __init__(self, status: int, body: bytes):
        super().__init__(f"HTTP {status}: {body!r}")
        self.status = status


def browse(browser: Browser, plan: Plan, until_s: float, rng: random.Random) -> None:
    """Views and downloads with a person's pauses until `until_s` (run seconds); a failed request
    ends this user's run (it is journaled: the checks report it)."""
    names = sorted(plan.navigations)
    try:
        while browser.journal.now() < until_s:
            if rng.random() < EXPORT_SHARE:
                browser.download(rng.choice(plan.exports))
            else:
                browser.navigate(plan.navigations[rng.choice(names)])
            time.sleep(min(rng.uniform(*PAUSE_S), max(until_s - browser.journal.now(), 0)))
    except (requests.RequestException, RuntimeError):
        return
