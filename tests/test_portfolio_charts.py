"""The report's SVG charts: well-formed XML whose marks carry the values they draw, with
bar lengths and point positions proportional to those values; and the same numbers in the
Markdown table and the spreadsheet's native charts."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from missionkit.portfolio import gini
from missionkit.services.charts_svg import Chart, colour_for, lorenz_points, nice_ticks, render_svg
from missionkit.services.portfolio_report import (
    chart_table,
    render_html,
    render_markdown,
    render_xlsx,
    report_sections,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    return root


def _marks(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{SVG}{tag}"))


def test_stacked_bars_are_proportional_to_the_values() -> None:
    chart = Chart(
        "stacked_bars",
        "Budget by objective and innovation stage",
        ("Air", "Water & <soil>"),
        (("research", (3.0, 1.0)), ("deployment", (1.0, 0.0)), ("diffusion", (None, 2.0))),
        "EUR million",
    )
    root = _parse(render_svg(chart))
    bars = [b for b in _marks(root, "rect") if b.get("class") == "bar"]
    # Zero and missing values draw nothing; the rest are one segment each.
    drawn = [(b.get("data-category"), b.get("data-series"), float(b.get("data-value", "")))
             for b in bars]  # fmt: skip
    assert drawn == [
        ("Air", "research", 3.0), ("Air", "deployment", 1.0),
        ("Water & <soil>", "research", 1.0), ("Water & <soil>", "diffusion", 2.0),
    ]  # fmt: skip
    per_unit = {float(b.get("width", "")) / float(b.get("data-value", "")) for b in bars}
    assert max(per_unit) - min(per_unit) < 1e-6  # one scale for every bar
    air = [b for b in bars if b.get("data-category") == "Air"]
    # Stacked: each segment starts where the previous one ends.
    assert float(air[1].get("x", "")) == pytest.approx(
        float(air[0].get("x", "")) + float(air[0].get("width", ""))
    )
    assert air[0].get("fill") == colour_for("research") != air[1].get("fill")
    texts = "".join(root.itertext())
    assert "EUR million" in texts  # the axis says its unit
    assert "Water &amp; &lt;soil&gt;" in render_svg(chart)  # escaped, and parsed back above


def test_lines_place_points_by_value() -> None:
    chart = Chart(
        "lines",
        "Directed share by year",
        ("2021", "2022", "2023"),
        (("directed share", (0.8, None, 0.2)),),
        "share of the year's budget",
    )
    root = _parse(render_svg(chart))
    points = [c for c in _marks(root, "circle") if c.get("class") == "point"]
    assert [float(p.get("data-value", "")) for p in points] == [0.8, 0.2]
    assert [p.get("data-category") for p in points] == ["2021", "2023"]
    # y grows downwards: the baseline sits at value 0, so heights are proportional.
    ticks = {t.text: float(t.get("y", "")) for t in _marks(root, "text") if t.text == "0%"}
    base = ticks["0%"] - 4
    heights = [base - float(p.get("cy", "")) for p in points]
    assert heights[0] / heights[1] == pytest.approx(0.8 / 0.2)


def test_lorenz_points_give_the_published_gini() -> None:
    # Three regions: populations 1, 1, 2 and funding 0, 1, 3 -> per head 0, 1, 1.5.
    population, funding = [2.0, 1.0, 1.0], [3.0, 0.0, 1.0]
    points = lorenz_points(population, funding)
    assert points == [(0.0, 0.0), (0.25, 0.0), (0.5, 0.25), (1.0, 1.0)]
    # Gini = 1 - 2 x area under the Lorenz curve (trapezoids), equal to the engine's
    # population-weighted Gini of funding per head.
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in itertools.pairwise(points))
    per_head = [f / p for f, p in zip(funding, population, strict=True)]
    assert 1 - 2 * area == pytest.approx(gini(per_head, population))
    chart = Chart(
        "lorenz", "Lorenz", ("(start)", "B", "C", "A"),
        (("population", tuple(x for x, _ in points)), ("funding", tuple(y for _, y in points))),
        "cumulative share of population",
    )  # fmt: skip
    root = _parse(render_svg(chart))
    circles = [c for c in _marks(root, "circle") if c.get("class") == "point"]
    assert [float(c.get("data-value", "")) for c in circles] == [0.0, 0.0, 0.25, 1.0]
    line = next(x for x in _marks(root, "line") if x.get("class") == "equality")
    assert line is not None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(min_value=0.01, max_value=1e6), min_size=1, max_size=8))
def test_bars_property(values: list[float]) -> None:
    chart = Chart("bars", "B", tuple(f"c{i}" for i in range(len(values))),
                  (("budget", tuple(values)),), "EUR million")  # fmt: skip
    root = _parse(render_svg(chart))
    bars = [b for b in _marks(root, "rect") if b.get("class") == "bar"]
    widths = [float(b.get("width", "")) for b in bars]
    assert len(bars) == len(values)
    for w, v in zip(widths, values, strict=True):
        assert w / max(widths) == pytest.approx(v / max(values), rel=1e-3, abs=1e-3)
    ticks = nice_ticks(0.0, max(values))
    # The top tick covers the largest value up to float noise: 0.010000000000000002 gets
    # the tick 0.01 (hypothesis found it), not an extra step to 0.012.
    assert ticks[0] == 0 and ticks[-1] >= max(values) * (1 - 1e-9)


def _report() -> dict[str, Any]:
    stage = lambda s, b, sh: {"stage": s, "budget": b, "share": sh, "activities": 1}  # noqa: E731
    return {
        "mission": {"id": 1, "slug": "m", "title": "Mission"},
        "currency": "EUR",
        "notes": [],
        "headline_findings": ["Objective 'B' has no deployment activity."],
        "coverage": {"total_budget": 4e6, "unmapped_activities": [], "unmapped_budget": 0.0,
                     "objectives": []},
        "directionality": {"share": 0.5, "by_call": []},
        "stage_balance": {"objectives": [
            {"objective": "a", "title": "A", "budget": 3e6,
             "stages": [stage("research", 2e6, 2 / 3), stage("deployment", 1e6, 1 / 3)]},
            {"objective": "b", "title": "B", "budget": 1e6,
             "stages": [stage("research", 1e6, 1.0)]},
        ]},
        "instrument_mix": {"portfolio": [
            {"key": "(all)", "instrument": "grant", "budget": 3e6, "share": 0.75,
             "activities": 3},
            {"key": "(all)", "instrument": "loan", "budget": 1e6, "share": 0.25,
             "activities": 1},
        ]},
        "spatial_equity": {"level": "country", "gini": 0.375, "left_behind": ["B"],
                           "regions": [
            {"code": "A", "population": 2.0, "funding": 3.0},
            {"code": "B", "population": 1.0, "funding": 0.0},
            {"code": "C", "population": 1.0, "funding": 1.0},
        ]},
        "drift": {"periods": [
            {"period": "2021", "directed_share": 0.9, "stage_shares": {"deployment": 0.1}},
            {"period": "2022", "directed_share": 0.4, "stage_shares": {}},
            {"period": "(none)", "directed_share": 0.0, "stage_shares": {}},
        ]},
        "coherence": {"largest_component_budget_share": 0.5, "isolated_activities": [],
                      "communities": []},
    }  # fmt: skip


def test_report_carries_the_same_numbers_in_three_formats() -> None:
    report = _report()
    charts = {s.title: s.chart for s in report_sections(report) if s.chart is not None}
    assert set(charts) == {"Balance across the innovation cycle", "Instrument mix",
                           "Drift over the years", "Spatial equity"}  # fmt: skip
    stages = charts["Balance across the innovation cycle"]
    assert stages.categories == ("A", "B")
    assert dict(stages.series) == {"research": (2.0, 1.0), "deployment": (1.0, 0.0)}
    assert charts["Drift over the years"].categories == ("2021", "2022")  # (none) left out

    page = render_html(report)
    assert "<script" not in page and "http" not in page
    svgs = page.count("<svg")
    assert svgs == 4
    body = page[page.index("<body>") : page.index("</body>") + len("</body>")]
    ET.fromstring(body.replace("&nbsp;", " "))  # the whole body is well-formed XML too

    markdown = render_markdown(report)
    head, rows = chart_table(stages)
    assert head == ["EUR million", "research", "deployment"]
    assert rows == [["A", "2.00", "1.00"], ["B", "1.00", "0.00"]]
    assert "| A | 2.00 | 1.00 |" in markdown

    book = load_workbook(BytesIO(render_xlsx(report)))
    sheet = book["Balance across the innovation c"]
    charts_in_sheet: list[Any] = sheet._charts
    assert len(charts_in_sheet) == 1 and charts_in_sheet[0].grouping == "stacked"
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["A", 2.0, 1.0] in [row[:3] for row in values]
    assert len(book["Spatial equity"]._charts) == 1


def test_ticks_ignore_float_noise_above_a_round_top() -> None:
    # One tick rule serves bars (from zero) and line charts (any range): a top a hair
    # above a round number ends on that number, not on an extra step.
    assert nice_ticks(0.0, 0.010000000000000002)[-1] == pytest.approx(0.01)
    assert nice_ticks(0.0, 10.0) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert nice_ticks(-3.0, 7.0) == [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0]


def test_ticks_reach_a_bound_that_is_tiny_next_to_the_step() -> None:
    # Hypothesis found it: 0.0625 is 6e-10 of a 1e8 step above zero, which is not float
    # noise of 0.0625 itself, so the top tick must still cover it.
    ticks = nice_ticks(-250_000_000.0, 0.0625)
    assert ticks[0] <= -250_000_000.0 and ticks[-1] >= 0.0625
