"""The pure chart module: scales, ticks, the path needed, and what each SVG must show."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import xml.etree.ElementTree as ET

from hypothesis import assume, given
from hypothesis import strategies as st

from missionkit.services.charts_svg import nice_ticks
from missionkit.trajectory import IndicatorSeries, assess
from missionkit.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_decimal_year_is_the_engines_time_scale() -> None:
    assert charts.decimal_year(dt.date(2024, 1, 1)) == 2024.0
    # 2024 is a leap year: 1 July is day 183, so (183 - 1) / 366.
    assert math.isclose(charts.decimal_year(dt.date(2024, 7, 1)), 2024 + 182 / 366)


def test_required_path_is_compound_growth_for_statcan() -> None:
    """Open SDG's required CAGR: (target/base)^(1/years) - 1, constant every year."""
    path = charts.required_path((2020.0, 40.0), (2030.0, 20.0), compound=True, steps=10)
    assert path[0] == (2020.0, 40.0) and math.isclose(path[-1][1], 20.0)
    cagr = (20 / 40) ** (1 / 10) - 1  # -6.7 % a year
    for (_, a), (_, b) in itertools.pairwise(path):
        assert math.isclose(b / a - 1, cagr, rel_tol=1e-9)
    # The midpoint of constant growth is the geometric mean, not the arithmetic one.
    assert math.isclose(path[5][1], math.sqrt(40 * 20))


def test_required_path_is_a_straight_line_for_linear_methods_and_zero_bases() -> None:
    line = charts.required_path((2020.0, 0.0), (2030.0, 150.0), compound=True, steps=10)
    assert [round(v, 9) for _, v in line] == [15.0 * i for i in range(11)]
    sdsn = charts.required_path((2020.0, 40.0), (2030.0, 20.0), compound=False, steps=4)
    assert [v for _, v in sdsn] == [40.0, 35.0, 30.0, 25.0, 20.0]


def test_required_path_matches_the_engines_required_growth() -> None:
    """The chart's path and the engine's ``cagr_required`` describe the same growth."""
    series = IndicatorSeries.of(
        [(2015, 20.0), (2018, 18.2), (2020, 17.1)], "decrease", target=10, target_year=2030
    )
    a = assess(series, "statcan")
    assert a.cagr_required is not None
    path = charts.required_path((2015.0, 20.0), (2030.0, 10.0), compound=True, steps=15)
    assert math.isclose(path[1][1] / path[0][1] - 1, a.cagr_required, rel_tol=1e-9)


@given(
    st.floats(-1e9, 1e9, allow_nan=False),
    st.floats(-1e9, 1e9, allow_nan=False),
)
def test_nice_ticks_cover_the_range_in_round_steps(low: float, high: float) -> None:
    # Ranges narrower than float precision at their magnitude are not chart data.
    assume(low == high or abs(high - low) > 1e-9 * max(abs(low), abs(high), 1e-300))
    ticks = nice_ticks(low, high)
    assert ticks[0] <= min(low, high) + 1e-6 * max(1.0, abs(low))
    assert ticks[-1] >= max(low, high) - 1e-6 * max(1.0, abs(high))
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-6) for m in (1, 2, 2.5, 5, 10))
    assert len(steps) <= 2  # equal steps, up to float rounding


def _chart(**changes: object) -> charts.IndicatorChart:
    base = {
        "name": "NO2 annual mean",
        "unit": "µg/m³",
        "observations": [(2024.0, 37.5), (2025.0, 35.1)],
        "baseline": (2023.0, 40.0),
        "target": (2030.0, 20.0),
        "deadline": 2030.99,
        "status": "needs_acceleration",
    }
    return charts.IndicatorChart(**{**base, **changes})  # type: ignore[arg-type]


def test_indicator_svg_shows_target_deadline_units_and_status_in_words() -> None:
    svg = charts.indicator_svg(_chart(), "c1")
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-t c1-d"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "µg/m³" in texts and "year" in texts  # units on the value axis
    assert "target 20" in texts and "deadline 2030" in texts
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "Status: needs acceleration." in (desc.text or "")
    assert "Target 20 µg/m³ by 2030." in (desc.text or "")
    # The latest value is marked with the status shape in the status colour.
    marker = root.find(f"{SVG}polygon[@class='latest']")
    assert marker is not None and marker.get("fill") == charts.STATUS_STYLE[
        "needs_acceleration"]["fg"]  # fmt: skip


def test_target_and_deadline_stay_inside_the_plot_whatever_the_data() -> None:
    """A target far above the data, and a deadline years after it, are still drawn inside."""
    svg = charts.indicator_svg(
        _chart(
            observations=[(2024.0, 1.0), (2025.0, 1.1)],
            baseline=(2023.0, 1.0),
            target=(2040.0, 500.0),
            deadline=2045.0,
            status="limited_progress",
        ),
        "c2",
    )
    root = ET.fromstring(svg)
    target = root.find(f"{SVG}line[@class='target']")
    deadline = root.find(f"{SVG}line[@class='deadline']")
    assert target is not None and deadline is not None
    assert charts.TOP <= float(target.get("y1", "-1")) <= charts.HEIGHT - charts.BOTTOM
    assert charts.LEFT <= float(deadline.get("x1", "-1")) <= charts.WIDTH - charts.RIGHT


def test_each_status_has_its_own_shape_symbol_and_word() -> None:
    symbols = {s["symbol"] for s in charts.STATUS_STYLE.values()}
    labels = {s["label"] for s in charts.STATUS_STYLE.values()}
    assert len(symbols) == len(labels) == len(charts.STATUS_STYLE) == 6
    # Same colour or not, the marker geometry differs for every status.
    shapes = {charts.status_marker(s, 0, 0, 8).split('stroke-width="1.5"')[1] for s in symbols_of()}
    assert len(shapes) == 6


def symbols_of() -> list[str]:
    return list(charts.STATUS_STYLE)


def test_bar_and_tile_charts_write_values_out() -> None:
    bars = charts.bar_svg([("grant", 300.0), ("loan", 100.0)], "EUR", "b", "Budget")
    assert "300 (75%)" in bars and "100 (25%)" in bars
    tiles = charts.tile_map_svg({"DE": 0.6, "FR": 0.4}, {"DE": "Germany"}, "t")
    root = ET.fromstring(tiles)
    assert "Germany 60%" in (root.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    assert "60%" in [t.text for t in root.iter(f"{SVG}text")]


def test_labels_are_escaped() -> None:
    svg = charts.indicator_svg(_chart(name="<script>x</script>", unit="a&b"), "c3")
    assert "<script>" not in svg and "a&amp;b" in svg
    ET.fromstring(svg)  # still well-formed
