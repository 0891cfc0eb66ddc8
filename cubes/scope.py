"""Row scope: which rows a caller may see (e.g. an agency manager sees one region's branches).

The engine ANDs the scope into the WHERE clause of every query, member list and drill-through, next
to (never instead of) the spec's filters, so no filter, drill or cell can widen it. `None` means
unrestricted; an empty tuple for a key means nothing is visible."""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, **allowed) -> Scope:
        """Scope.of(region=["east"], branch=["B0101", "B0102"]): a row must satisfy every key."""
        items = []
        for key, values in sorted(allowed.items()):
            if isinstance(values, str) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"scope '{key}' takes a list of codes, got {values!r}")
            items.append((key, tuple(sorted(set(values)))))
        return cls(tuple(items))

    def items(self):
        return self.allowed

    def key(self) -> str:
        return json.dumps(self.allowed, ensure_ascii=False)


@dataclass(frozen=True)
class Access:
    """What one caller may read: the row scope, and whether personal data (name, phone, ID number)
    is shown whole or masked."""

    scope: Scope | None = None
    show_pii: bool = True
