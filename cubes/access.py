"""What each role may read, and an engine that can read nothing else.

    access = access_for(user.role, user.scope)        # Access(scope, show_pii)
    cubes = ScopedEngine(engine, access)              # same calls as Engine, without `scope=`

Roles (data/users.py stores them): an executive sees every row and personal data; a product
analyst every row with personal data masked; a regional manager the rows of their regions; an
agency manager their branches' rows (policies sold there, the branches' customers, its agents'
activity); an agent their own customers (any customer holding a policy the agent sold) and their
own visits and sales. Agency managers and agents serve customers in person, so they see names and
phone numbers; regional managers and analysts work on aggregates and see them masked. An
administrator manages users and reads the audit log; they see no business rows at all.

The agent rule needs a list of customers on customer cubes (policies, service, contribution): the
agent's customers are looked up once per data version and scoped as `customer`. Cubes that carry the
agent on their rows (the agents cube) scope `agent` directly.
"""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from cubes.catalog import cube_by_name
from cubes.engine import Engine
from cubes.model import SpecError
from cubes.pii import mask_frame
from cubes.scope import Access, Scope
from cubes.spec import QuerySpec
from data.users import ROLES

PII_ROLES = {"executive", "agency_manager", "agent"}
NOTHING = Scope.of(region=[])  # every cube has a region: an empty list of them keeps no row
# personal-data columns under other names than cubes/pii.py's (name, phone, id_number)
PII_ALIASES = {"customer_name": "name", "holder_name": "name", "customer_phone": "phone"}
AGENT_CUSTOMERS = ("SELECT DISTINCT customer_id FROM fact_policy "
                   "WHERE agent_id IN (SELECT unnest(CAST($agents AS VARCHAR[])))")


def access_for(role: str, scope: dict) -> Access:
    """The Access of a user with `role` and stored `scope` ({"region": ["east"]}); an unknown
    role, an administrator and a scoped role without codes see nothing."""
    if role not in ROLES or role == "admin":
        return Access(NOTHING, show_pii=False)
    key = ROLES[role]
    limited = None if key is None else Scope.of(**{key: list(scope.get(key) or ())})
    return Access(limited, show_pii=role in PII_ROLES)


class ScopedEngine:
    """The Engine's reading calls with the caller's scope ANDed in and personal data masked for
    roles without the right. It has no call that takes a scope, so a page cannot widen it."""

    def __init__(self, engine: Engine, access: Access):
        self.engine = engine
        self.access = access

    # --- scope ---------------------------------------------------------------------------------------
    def scope_for(self, cube_name: str) -> Scope | None:
        """The access scope in the terms of one cube's scope columns."""
        scope = self.access.scope
        if scope is None:
            return None
        columns = cube_by_name(cube_name).scope_columns
        allowed = {}
        for key, codes in scope.items():
            if key in columns:
                allowed[key] = codes
            elif key == "agent" and "customer" in columns:
                allowed["customer"] = self.agent_customers(codes)
            else:  # never drop a restriction a cube cannot express: refuse instead
                raise SpecError(f"cube '{cube_name}' cannot apply the row scope '{key}'")
        return Scope.of(**allowed)

    def agent_customers(self, agents: tuple[str, ...]) -> list[str]:
        """Customers holding at least one policy sold by one of `agents` (the customer view's rule)."""
        if not agents:
            return []
        return self.engine._cached(
            "agent-customers", (",".join(agents),),
            lambda: self.engine.read(AGENT_CUSTOMERS, {"agents": list(agents)})["customer_id"].tolist())

    def _masked(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.access.show_pii:
            return frame
        masked = mask_frame(frame, PII_ALIASES)
        masked.attrs = dict(frame.attrs)
        return masked

    # --- the Engine's reading calls --------------------------------------------------------------------
    def query(self, spec: QuerySpec | dict) -> pd.DataFrame:
        spec = _spec(spec)
        return self._masked(self.engine.query(spec, self.scope_for(spec.cube)))

    def pivot(self, spec: QuerySpec | dict) -> pd.DataFrame:
        spec = _spec(spec)
        return self.engine.pivot(spec, self.scope_for(spec.cube))

    def drill_through(self, spec: QuerySpec | dict, cell: dict | None = None, limit: int = 100,
                      offset: int = 0) -> pd.DataFrame:
        spec = _spec(spec)
        return self._masked(self.engine.drill_through(spec, cell, self.scope_for(spec.cube), limit, offset))

    def iter_records(self, spec: QuerySpec | dict, cell: dict | None = None,
                     batch_rows: int = 50_000) -> Iterator[pd.DataFrame]:
        spec = _spec(spec)
        for batch in self.engine.iter_records(spec, self.scope_for(spec.cube), cell, batch_rows):
            yield self._masked(batch)

    def members(self, cube: str, level: str) -> pd.DataFrame:
        return self.engine.members(cube, level, self.scope_for(cube))

    def whale_curve(self, spec: QuerySpec | dict, points: int = 100) -> pd.DataFrame:
        spec = _spec(spec)
        return self.engine.whale_curve(spec, self.scope_for(spec.cube), points)

    def memoised(self, kind: str, parts: tuple, compute):
        """`compute()` once per data version, definitions, caller's access and `parts`, in the engine's
        result cache: for a page's analysis built from several reads (streamed records are not cached)."""
        scope = self.access.scope.key() if self.access.scope is not None else "all rows"
        return self.engine._cached(kind, (scope, f"pii={self.access.show_pii}", *parts), compute)

    # --- no rows: names of members, the catalogue, the data version ------------------------------------
    def member_label(self, cube: str, level: str, key, lang: str) -> str:
        """The member's name when the caller may see it; otherwise the key they already typed."""
        visible = self.members(cube, level)
        if str(key) not in set(visible["key"].astype(str)):
            return str(key)
        return self.engine.member_label(cube, level, key, lang)

    def describe(self) -> dict:
        return self.engine.describe()

    def data_version(self) -> str:
        return self.engine.data_version()

    def __getattr__(self, name: str):
        raise AttributeError(f"ScopedEngine has no '{name}': code that applies an Access itself takes "
                             "callbacks.engine.shared_engine() and current_access()")


def _spec(spec) -> QuerySpec:
    return spec if isinstance(spec, QuerySpec) else QuerySpec.from_dict(spec)
