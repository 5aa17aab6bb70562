"""The one rule for text that lands in a spreadsheet (CSV or XLSX exports).

Spreadsheets run a cell that starts with ``= + - @`` (or a tab or carriage return) as a
formula; an export must never let a record's text do that. The cell keeps its text behind
a leading apostrophe, as OWASP's CSV-injection advice recommends. Numbers stay numbers.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
