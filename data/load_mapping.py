"""Names people give tables, columns and codes -> the schema's names (data/column_mapping.toml)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from data.load_errors import LoadError
from data.load_schema import Table

MAPPING_TOML = Path(__file__).with_name("column_mapping.toml")
TABLE_PREFIXES = ("dim_", "fact_")
_FULL_WIDTH = str.maketrans({"（": "(", "）": ")", "　": " ", "，": ","})


def normalize(text: str) -> str:
    """The form names and labels are compared in: trimmed, lower case, '_' for spaces and hyphens."""
    text = text.replace("\ufeff", "").translate(_FULL_WIDTH).strip().lower()
    return "_".join(text.replace("-", " ").split())


@dataclass(frozen=True)
class Mapping:
    tables: dict[str, tuple[str, ...]]
    columns: dict[str, tuple[str, ...]]
    table_columns: dict[str, dict[str, tuple[str, ...]]]
    references: dict[str, str]
    codes: dict[str, dict[str, tuple[str, ...]]]

    def table_for(self, file_stem: str, tables: list[str]) -> str | None:
        wanted = normalize(file_stem)
        for table in tables:
            names = {table, *(table.removeprefix(p) for p in TABLE_PREFIXES), *self.tables.get(table, ())}
            if wanted in {normalize(n) for n in names}:
                return table
        return None

    def header_lookup(self, table: Table) -> dict[str, str]:
        """Normalized header -> column of this table; raises if one header would mean two columns."""
        lookup: dict[str, str] = {}
        overrides = self.table_columns.get(table.name, {})
        for column in table.columns:
            aliases = overrides.get(column.name, self.columns.get(column.name, ()))
            for alias in {column.name, *aliases}:
                key = normalize(alias)
                if lookup.get(key, column.name) != column.name:
                    raise LoadError(
                        f"{MAPPING_TOML.name}: header '{alias}' means both {lookup[key]} and "
                        f"{column.name} in {table.name}"
                    )
                lookup[key] = column.name
        return lookup

    def code_synonyms(self, kind: str) -> dict[str, str]:
        return {normalize(label): code for code, labels in self.codes.get(kind, {}).items() for label in labels}


@cache
def load_mapping(path: Path = MAPPING_TOML) -> Mapping:
    with open(path, "rb") as handle:
        raw = tomllib.load(handle)
    columns = {k: tuple(v) for k, v in raw["columns"].items() if isinstance(v, list)}
    table_columns = {
        table: {k: tuple(v) for k, v in section.items()}
        for table, section in raw["columns"].items() if isinstance(section, dict)
    }
    return Mapping(
        tables={k: tuple(v) for k, v in raw["tables"].items()},
        columns=columns,
        table_columns=table_columns,
        references=dict(raw["references"]),
        codes={kind: {code: tuple(labels) for code, labels in section.items()}
               for kind, section in raw["codes"].items()},
    )
