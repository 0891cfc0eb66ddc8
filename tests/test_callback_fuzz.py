"""Malformed input never makes a 500 or a traceback: every registered server callback, posted as the
browser would (its ids, outputs and the values the pages really hold) but with one input or state at a
time replaced by a wrong type, a null, an oversize or a deeply nested value; and the hand-made requests
an independent probe sent (issue 15 item 5)."""
from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.test_access_serving import served, sign_in  # noqa: F401  (served is a fixture)

PAGES = ("/", "/explore", "/pivot", "/contribution", "/agents", "/customer", "/admin", "/nope")
# Each page's parameters, so that the query stores the pages write hold entries to fuzz.
PAGE_SEARCH = ("?lang=en&from=2026-01-01&to=2026-03-31&region=east&channel=agency&measure=written_premium"
               "&dim=geography&top=10&compare=yoy&rows=geography.region&cols=channel&depth=1&heat=1&wdim=channel"
               "&adopt=1&reason=lapse&id=C000001")
SPEC = {"cube": "policies", "measures": ["written_premium"], "rows": ["geography.region"],
        "filters": [{"dim": "time.month", "op": "between", "values": ["2026-03-01", "2026-03-31"]}]}


def nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


WRONG = {"text": "x", "number": 1, "list": [], "object": {}, "null": None, "100 kB": "a" * 100_000,
         "2**63": 2**63, "nested": nested(300), "list of nulls": [None, None]}


# Addresses a person can type: every page parameter at once, each nonsense, huge or out of range.
TYPED = {"measure": "nope", "dim": "x" * 5000, "path": ",".join(["x"] * 500), "chart": "pie'", "top": str(2**63),
         "slice": "time.x", "members": "%00,\u0000,' OR 1=1 --", "compare": "yoy", "sort": "-nope", "rows": "x,x",
         "cols": "geography.region,geography.region", "measures": ",", "heat": "2", "depth": "-9223372036854775809",
         "wdim": "nope", "wmember": "[]", "reason": "{}", "adopt": "1e309", "branch": "%", "team": "_", "agent": "*",
         "from": "2026-02-30", "to": "99999-01-01", "region": "east,east", "channel": "x" * 100_000, "id": "../../etc",
         "lang": "xx", "action": "null", "actor": "None"}
TYPED_SEARCHES = ["?" + urlencode(TYPED), "?" + "&".join(f"{k}=" for k in TYPED),
                  "?top=0&from=2027-01-01&to=2020-01-01", "?" + "a=1&" * 5000, "?lang=en&%ZZ=%ZZ", "#?&&==",
                  "?" + "&".join(f"{k}=a&{k}=b" for k in TYPED)]  # each key twice: the router hands lists over


@pytest.fixture(scope="module")
def client(served):
    return sign_in(served, "demo-exec")


def logged_tracebacks(caplog, capfd) -> list[str]:
    records = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    err = capfd.readouterr().err
    return [r.getMessage()[:300] for r in records] + ([err[-2000:]] if "Traceback" in err else [])


# --- what the pages hold: every component's props, from the shell and each page as the router serves it


def components(node):
    """Every component (as Dash serialises it) in a layout tree."""
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
        for value in (node.get("props") or node).values():
            yield from components(value)
    elif isinstance(node, list):
        for item in node:
            yield from components(item)


def dependency_id(dep_id: str):
    return json.loads(dep_id) if dep_id.startswith("{") else dep_id


def matches(pattern, concrete) -> bool:
    if not isinstance(pattern, dict):
        return pattern == concrete
    return (isinstance(concrete, dict) and concrete.keys() == pattern.keys()
            and all(isinstance(v, list) or concrete[k] == v for k, v in pattern.items()))


class Payloads:
    """Callback bodies shaped like the browser's: wildcard ids expanded to the ids the pages really
    have (a made-up one when a page makes them later), values taken from the pages' own props."""

    def __init__(self, dependencies, held: list[dict]):
        self.dependencies, self.held = dependencies, held

    def concrete(self, dep_id: str) -> list:
        pattern = dependency_id(dep_id)
        if not isinstance(pattern, dict):
            return [pattern]
        found = [c["props"]["id"] for c in self.held if matches(pattern, c["props"].get("id"))]
        unique = [json.loads(s) for s in dict.fromkeys(json.dumps(f, sort_keys=True) for f in found)]
        return unique or [{k: ("x" if isinstance(v, list) else v) for k, v in pattern.items()}]

    def value(self, concrete_id, prop):
        for c in self.held:
            if c["props"].get("id") == concrete_id and prop in c["props"]:
                return c["props"][prop]
        return None

    def entries(self, dep: dict, replace=None, with_value=True):
        """One dependency as the body lists it: a list for ALL/ALLSMALLER wildcards."""
        ids = self.concrete(dep["id"])
        made = [{"id": i, "property": dep["property"],
                 **({"value": self.value(i, dep["property"]) if replace is None else replace} if with_value else {})}
                for i in ids]
        pattern = dependency_id(dep["id"])
        wild = isinstance(pattern, dict) and any(v in (["ALL"], ["ALLSMALLER"]) for v in pattern.values())
        return made if wild else made[0]

    def body(self, dep: dict, slot: int | None = None, value=None) -> dict:
        """The callback `dep` with input/state number `slot` (counting inputs first) set to `value`."""
        multi = dep["output"].startswith("..")
        outputs = [dict(zip(("id", "property"), o.rsplit(".", 1)))
                   for o in (dep["output"][2:-2].split("...") if multi else [dep["output"]])]
        outputs = [self.entries(o, with_value=False) for o in outputs]
        slots = [*dep["inputs"], *dep["state"]]
        filled = [self.entries(d, value if i == slot else None) for i, d in enumerate(slots)]
        changed = [f'{dep["inputs"][0]["id"]}.{dep["inputs"][0]["property"]}'] if dep["inputs"] else []
        return {"output": dep["output"], "outputs": outputs if multi else outputs[0],
                "inputs": filled[:len(dep["inputs"])], "state": filled[len(dep["inputs"]):],
                "changedPropIds": changed}


def routed(client, shell: Payloads, path: str, search: str) -> list[dict]:
    """The components of the page the router serves for this address."""
    router = next(d for d in shell.dependencies if "_pages_content.children" in d["output"])
    body = shell.body(router)
    for entry in body["inputs"] + body["state"]:
        if entry["property"] == "pathname":
            entry["value"] = path
        elif entry["property"] in ("search", "hash"):
            entry["value"] = "" if entry["property"] == "hash" else search
        elif entry["property"] == "href":
            entry["value"] = f"http://localhost{path}{search}"
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, (path, answer.data[:300])
    return list(components(answer.get_json()["response"]))


@pytest.fixture(scope="module")
def shell(client):
    dependencies = [d for d in client.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]
    return Payloads(dependencies, list(components(client.get("/_dash-layout").get_json())))


@pytest.fixture(scope="module")
def payloads(client, shell):
    held = shell.held + [c for path in PAGES for c in routed(client, shell, path, PAGE_SEARCH)]
    return Payloads(shell.dependencies, held)


def test_a_parameter_given_twice_counts_once_as_its_last_value(client, shell):
    page = routed(client, shell, "/explore", "?lang=en&measure=policies&measure=written_premium")
    measure = next(c for c in page if c["props"].get("id") == "explore-measure")
    assert measure["props"]["value"] == "written_premium"
    store = next(c for c in page if c["props"].get("id") == "explore-query")
    assert store["props"]["data"]["measure"] == "written_premium"


@pytest.fixture(scope="module")
def as_admin(served):
    """An administrator's client and what the pages hold for them: the admin page's callbacks answer
    only an administrator, so only their requests reach its code."""
    admin = sign_in(served, "demo-admin")
    dependencies = [d for d in admin.get("/_dash-dependencies").get_json() if not d.get("clientside_function")]
    shell = Payloads(dependencies, list(components(admin.get("/_dash-layout").get_json())))
    pages = [c for path in PAGES for c in routed(admin, shell, path, PAGE_SEARCH)]
    return admin, Payloads(dependencies, shell.held + pages)


def test_every_callback_answers_wrong_types_nulls_and_oversize_values_without_a_500(client, payloads, caplog, capfd):
    assert_wrong_types_answered(client, payloads, caplog, capfd)


def test_the_admin_pages_callbacks_answer_wrong_types_without_a_500(as_admin, caplog, capfd):
    admin, held = as_admin
    assert any(c["props"].get("id") == "admin-actor" for c in held.held)  # the admin page itself
    assert_wrong_types_answered(admin, held, caplog, capfd)


def assert_wrong_types_answered(client, payloads, caplog, capfd):
    caplog.set_level(logging.WARNING)
    failures, posted = [], 0
    for dep in payloads.dependencies:
        slots = [*dep["inputs"], *dep["state"]]
        cases = [(None, None, None)] + [(n, name, value) for n in range(len(slots)) for name, value in WRONG.items()]
        for n, slot in enumerate(slots):  # a store's object with one entry of a wrong type
            held = payloads.value(payloads.concrete(slot["id"])[0], slot["property"])
            cases += [(n, f"{key}: {name}", {**held, key: WRONG[name]}) for key in held or {}
                      for name in ("number", "list", "object", "null")] if isinstance(held, dict) else []
        for n, name, value in cases:
            answer = client.post("/_dash-update-component", json=payloads.body(dep, n, value))
            posted += 1
            if answer.status_code >= 500 or (n is None and answer.status_code == 400):
                failures.append((dep["output"][:90], n, name, answer.status_code))
    assert posted > 500  # every callback, every input and state
    assert failures == []
    assert logged_tracebacks(caplog, capfd) == []


def typed(payloads, slot: dict) -> list:
    """What a typed address puts into this input: the search string itself, or the page's query
    store (the URL's parameters as a dict, as the page layout writes it)."""
    if slot["property"] == "search" or slot["id"] == "shell-query":
        return TYPED_SEARCHES
    if slot["id"].endswith("-query") and isinstance(payloads.value(slot["id"], slot["property"]), dict):
        return [dict(parse_qsl(search.lstrip("?"))) for search in TYPED_SEARCHES]
    return []


def test_any_typed_address_gets_the_pages_own_answer(client, payloads, caplog, capfd):
    """A URL is what a person may type: no 400 either, the page says what it could not use."""
    caplog.set_level(logging.WARNING)
    failures, posted = [], 0
    for dep in payloads.dependencies:
        slots = [*dep["inputs"], *dep["state"]]
        paths = PAGES if any(d["property"] == "pathname" for d in slots) else PAGES[:1]  # the router: each page
        for n, slot in enumerate(slots):
            for path in paths:
                for value in typed(payloads, slot):
                    body = payloads.body(dep, n, value)
                    for entry in body["inputs"] + body["state"]:
                        if isinstance(entry, dict) and entry["property"] == "pathname":
                            entry["value"] = path
                    answer = client.post("/_dash-update-component", json=body)
                    posted += 1
                    if answer.status_code not in (200, 204):
                        failures.append((dep["output"][:90], path, str(value)[:60], answer.status_code))
    assert posted > 150  # every page's router call and each page's query store
    assert failures == []
    assert logged_tracebacks(caplog, capfd) == []


def test_hand_made_requests_answer_4xx_without_a_traceback(served, client, payloads, caplog, capfd):
    caplog.set_level(logging.WARNING)
    deep = "[" * 100_000 + "]" * 100_000
    answer = client.post("/_dash-update-component", data=deep, content_type="application/json")
    assert answer.status_code == 400

    whale = client.get("/export/contribution.csv", query_string={"kind": "whale", "spec": json.dumps(SPEC)})
    assert 400 <= whale.status_code < 500
    for view in ("explore", "pivot"):
        huge = {**SPEC, "top": {"n": 9223372036854775808}}
        answer = client.get(f"/export/{view}.csv", query_string={"kind": "table", "spec": json.dumps(huge)})
        assert 400 <= answer.status_code < 500, (view, answer.status_code)
        nested_spec = client.get(f"/export/{view}.csv", query_string={"kind": "table", "spec": deep})
        assert 400 <= nested_spec.status_code < 500

    clicked = next(d for d in payloads.dependencies if any(i["id"] == "pivot-grid" and i["property"] == "cellClicked"
                                                           for i in d["inputs"]))
    slot = next(n for n, i in enumerate(clicked["inputs"]) if i["property"] == "cellClicked")
    answer = client.post("/_dash-update-component", json=payloads.body(clicked, slot, {"rowId": None, "colId": None}))
    assert answer.status_code < 500

    assert logged_tracebacks(caplog, capfd) == []
    lines = [r.getMessage() for r in caplog.records]
    assert lines and all("\n" not in line for line in lines)  # one line each, whatever the sender wrote

    caplog.clear()
    header = next(d for d in payloads.dependencies if "app-title.children" in d["output"])
    fewer = payloads.body(header, 0, "?lang=en")
    fewer["outputs"] = [o[:1] if isinstance(o, list) else o for o in fewer["outputs"]]  # one nav link of seven
    assert client.post("/_dash-update-component", json=fewer).status_code == 400
    assert logged_tracebacks(caplog, capfd) == []

    caplog.clear()
    anonymous = served.server.test_client()
    for _ in range(3):
        missing = anonymous.get("/_dash-component-suites/dash/nope.js")
        assert missing.status_code == 404 and b"registered paths" not in missing.data
    assert caplog.records == []  # nothing for anyone to flood the log with
    assert logged_tracebacks(caplog, capfd) == []


def same_type(value) -> list:
    """Values of the type the page holds, but odd: what a browser could send if a component misbehaved."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [0, -1, 2**63 - 1, -(2**63)]
    if isinstance(value, float):
        return [0.0, -1e308, 1e308]
    if isinstance(value, str):
        return ["", "x", "2026-02-30", "9" * 400, "' OR 1=1 --", "\u0000"]
    if isinstance(value, list):
        return [value[:0], value * 50] + [[v] for item in value[:1] for v in same_type(item)]
    if isinstance(value, dict):
        return [{}] + [{**value, key: v} for key, item in value.items() for v in same_type(item)[:2]]
    return []


# What the grids send when clicked or scrolled, the shapes AG Grid gives, with odd contents.
GRID_EVENTS = {
    "cellClicked": [{"colId": "x", "rowId": "nope", "value": 1, "rowIndex": 0, "timestamp": 1},
                    {"colId": None, "rowId": None, "value": None, "rowIndex": None},
                    {"colId": "x" * 5000, "rowId": "[]", "rowIndex": 2**63}],
    "getRowsRequest": [{"startRow": 0, "endRow": 2**63}, {"startRow": -5, "endRow": -1},
                       {"startRow": 0, "endRow": 100, "sortModel": [{"colId": "x", "sort": "sideways"}],
                        "filterModel": {"x": {"filterType": "text", "type": "contains", "filter": "%"}}}],
    "virtualRowData": [[{"x": 1}], [None]],
    "selectedRows": [[{"x": 1}], [{}]],
}


def test_odd_values_of_the_right_type_never_make_a_500(client, payloads, caplog, capfd):
    caplog.set_level(logging.WARNING)
    failures, posted = [], 0
    for dep in payloads.dependencies:
        slots = [*dep["inputs"], *dep["state"]]
        for n, slot in enumerate(slots):
            held = [payloads.value(i, slot["property"]) for i in payloads.concrete(slot["id"])][0]
            for value in same_type(held) + GRID_EVENTS.get(slot["property"], []):
                answer = client.post("/_dash-update-component", json=payloads.body(dep, n, value))
                posted += 1
                if answer.status_code >= 500:
                    failures.append((dep["output"][:90], slot["id"], slot["property"], str(value)[:60]))
    assert posted > 100  # every prop the pages set, and every grid event
    assert failures == []
    assert logged_tracebacks(caplog, capfd) == []


def test_a_server_fault_on_well_formed_input_is_still_a_500_with_its_traceback(client, shell, caplog, monkeypatch):
    """The guard answers malformed input only: a fault of the server's own still shows in the log."""
    caplog.set_level(logging.WARNING)
    header = next(d for d in shell.dependencies if "app-title.children" in d["output"])
    assert client.post("/_dash-update-component", json=shell.body(header, 0, "?lang=en")).status_code == 200

    def disk_gone():
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("callbacks.shell.nav_pages", disk_gone)
    answer = client.post("/_dash-update-component", json=shell.body(header, 0, "?lang=en"))
    assert answer.status_code == 500
    assert any(r.exc_info and r.exc_info[0] is OSError for r in caplog.records)


def route_path(rule: str) -> str:
    for variable, value in (("<path:path>", "customer"), ("<path:filename>", "x.css"), ("<view>", "pivot"),
                            ("<any(csv, xlsx):fmt>", "csv"), ("<string:package_name>", "dash"),
                            ("<path:fingerprinted_path>", "dash_core_components.v9.js")):
        rule = rule.replace(variable, value)
    return rule


def test_every_route_signed_in_or_not_answers_junk_without_a_500(served, client, caplog, capfd):
    """Runs last: its sign-in attempts with junk count against this address's throttle."""
    caplog.set_level(logging.WARNING)
    deep = "[" * 100_000 + "]" * 100_000
    junk = {"lang": "x" * 100_000, "next": "//x" * 1000, "spec": deep, "kind": "records", "cell": "[1]",
            "username": "\x00" * 10, "password": "a" * 100_000, "csrf": "{}", "sid": "%00"}
    sends = ({"query_string": junk}, {"data": junk}, {"data": deep, "content_type": "application/json"})
    failures = []
    for caller in (served.server.test_client(), client):
        for rule in served.server.url_map.iter_rules():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for send in sends:
                    answer = caller.open(route_path(rule.rule), method=method, **send)
                    if answer.status_code >= 500:
                        failures.append((method, rule.rule, list(send), answer.status_code))
    assert failures == []
    assert logged_tracebacks(caplog, capfd) == []
