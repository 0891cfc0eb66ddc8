"""The scripted interactions of the benchmark, as data: adding a page's interaction is one entry.

Each interaction is what a person does in the browser: `setup` is where they are (not timed), `action`
the URL they go to. The app keeps every view in its URL, so a filter change, a drill click or a pivot
swap all end in an in-app navigation to the new URL; the recorder performs that navigation the way
dcc.Link does and captures every callback request the browser then sends. `load` interactions are a
full page load instead. `needs` is a substring of a callback output the page's own data callback
has: while a page is still a placeholder, its interaction is reported as pending, not timed.

`{region}`, `{province}`, `{city}` and `{customer}` are filled from the data (bench_floor.pick_members):
the largest region, its largest province and city, the customer with the largest contribution.

`target` says which issue-7 target applies uncached: `rollup` (a slice, drill or pivot that
pre-aggregations can answer, p95 < 50 ms), `raw` (must read raw rows, p95 < 1 s), `whale` (< 1.5 s).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Interaction:
    name: str
    action: str
    setup: str | None = None
    load: bool = False
    needs: str = ""
    target: str = "rollup"
    floor: str | None = None  # the floor case (bench_floor.FLOOR_CASES) that computes the same numbers

    def urls(self, members: dict[str, str]) -> tuple[str | None, str]:
        fill = lambda url: url.format(**members) if url else url  # noqa: E731
        return fill(self.setup), fill(self.action)


PIVOT_SWAPPED = "/pivot?rows=product.line&cols=geography.region,channel"

INTERACTIONS = (
    # Overview: distinct customers and 13-month persistency cohorts read raw rows.
    Interaction("overview_load", "/", load=True, needs="overview-", target="raw", floor="overview"),
    Interaction("filter_change", "/?region={region}", setup="/", needs="overview-", target="raw",
                floor="overview_region"),
    Interaction("explore_drill_1", "/explore?path={region}", setup="/explore", needs="explore-",
                floor="explore_drill_1"),
    Interaction("explore_drill_2", "/explore?path={region},{province}", setup="/explore?path={region}",
                needs="explore-", floor="explore_drill_2"),
    Interaction("explore_drill_3", "/explore?path={region},{province},{city}",
                setup="/explore?path={region},{province}", needs="explore-", floor="explore_drill_3"),
    Interaction("explore_up", "/explore", setup="/explore?path={region},{province},{city}", needs="explore-",
                floor="explore_top"),
    Interaction("pivot", "/pivot", setup="/", needs="pivot-", floor="pivot"),
    Interaction("pivot_swap", PIVOT_SWAPPED, setup="/pivot", needs="pivot-", floor="pivot"),
    Interaction("whale_curve", "/contribution", setup="/", needs="contribution-", target="whale", floor="whale"),
    Interaction("agent_league", "/agents", setup="/", needs="agents-", target="raw"),
    Interaction("customer_view", "/customer?id={customer}", setup="/", needs="customer-", target="raw",
                floor="customer"),
)
