"""AG Grid building blocks shared by the pages: number columns and JSON-safe rows."""
from __future__ import annotations

import math

import pandas as pd

# d3-format in the browser, so the grid keeps raw numbers (sorting and CSV export stay exact).
NUMBER_FORMATS = {"money": ",.0f", "int": ",.0f", "pct": ".2%", "float": ",.2f"}


def number_column(field: str, header: str, fmt: str, **extra) -> dict:
    pattern = NUMBER_FORMATS.get(fmt, NUMBER_FORMATS["float"])
    # A minimum width keeps numbers whole on a narrow screen: the grid scrolls sideways instead.
    return {"field": field, "headerName": header, "type": "rightAligned", "minWidth": 150 if fmt == "money" else 110,
            "valueFormatter": {"function": f"params.value == null ? '' : d3.format('{pattern}')(params.value)"},
            **extra}


def json_rows(frame: pd.DataFrame) -> list[dict]:
    """Records with NaN and NA as null and dates as ISO strings."""
    def clean(value):
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
        if hasattr(value, "isoformat"):
            return value.isoformat()
        return value.item() if hasattr(value, "item") else value

    return [{key: clean(value) for key, value in row.items()} for row in frame.to_dict("records")]
