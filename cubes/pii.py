"""Masking of personal data (name, phone, ID number) for callers whose role may not see it.

The masks follow the usual Chinese display conventions: the surname stays (张**), a mobile number
keeps its network prefix and last four digits (138****5678), an ID number its six-digit region code
and last four characters. Anything else becomes stars, so a mask never leaks more than these parts.
"""
from __future__ import annotations

import pandas as pd

PII_COLUMNS = ("name", "phone", "id_number")


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    # Company names run long; their first two and last two characters say the kind of entity only.
    if len(name) > 4:
        return name[:2] + "*" * (len(name) - 4) + name[-2:]
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str | None) -> str | None:
    if not number:
        return number
    if len(number) < 11:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


MASKS = {"name": mask_name, "phone": mask_phone, "id_number": mask_id_number}


def mask_frame(frame: pd.DataFrame, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of `frame` with its personal-data columns masked. `columns` maps a frame column to the
    kind of data it holds when its name is not one of PII_COLUMNS (e.g. {"customer_name": "name"})."""
    kinds = {column: column for column in PII_COLUMNS if column in frame.columns}
    kinds.update({column: kind for column, kind in (columns or {}).items() if column in frame.columns})
    if not kinds:
        return frame
    return frame.assign(**{column: frame[column].map(MASKS[kind], na_action="ignore")
                           for column, kind in kinds.items()})
