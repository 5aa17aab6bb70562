"""The CSV-injection rule every export shares (services/spreadsheet.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from missionkit.services.spreadsheet import FORMULA_STARTS, safe_cell


def test_formula_like_text_is_kept_as_text() -> None:
    assert safe_cell('=HYPERLINK("http://evil","x")') == '\'=HYPERLINK("http://evil","x")'
    assert safe_cell("+1-2") == "'+1-2"
    assert safe_cell("-5") == "'-5"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell("Clean air") == "Clean air"
    assert safe_cell("") == ""


def test_numbers_and_other_values_are_untouched() -> None:
    assert safe_cell(-5) == -5
    assert safe_cell(-0.5) == -0.5
    assert safe_cell(None) is None


@given(st.text())
def test_no_cell_can_start_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell in (text, "'" + text)
