"""The numpy path: building batches, chunking, codes and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from missionkit.trajectory import (
    METHODS,
    REASONS,
    IndicatorSeries,
    SeriesBatch,
    assess,
    assess_batch,
)


def test_build_broadcasts_settings_and_validates() -> None:
    b = SeriesBatch.build([2015, 2020], [[100.0, 90.0], [100.0, 110.0]], -1, 50.0, 2030.0)
    assert b.size == 2 and list(b.target) == [50.0, 50.0] and list(b.direction) == [-1, -1]
    with pytest.raises(ValueError, match="strictly increasing"):
        SeriesBatch.build([2016, 2015], [[1.0, 2.0]], 1)
    with pytest.raises(ValueError, match="values must be"):
        SeriesBatch.build([2015, 2016], [[1.0, 2.0, 3.0]], 1)
    with pytest.raises(ValueError, match="direction"):
        SeriesBatch.build([2015, 2016], [[1.0, 2.0]], 0)
    with pytest.raises(ValueError, match="target needs a target year"):
        SeriesBatch.build([2015, 2016], [[1.0, 2.0]], 1, target=5.0)
    with pytest.raises(ValueError, match="non-empty"):
        SeriesBatch.build([], np.empty((1, 0)), 1)
    with pytest.raises(ValueError, match="duplicate"):
        SeriesBatch.from_series([IndicatorSeries.of([(2015, 1.0), (2015, 2.0)], "increase")])


def test_hand_example_and_codes() -> None:
    # HAND (same as the per-series test): 100 -> 90 over 5 years, decrease, 50 by 2030
    b = SeriesBatch.build([2015, 2020], [[100.0, 90.0]], -1, 50.0, 2030.0)
    r = assess_batch(b, "statcan")
    assert r.category_names() == ["limited_progress"]
    assert r.status_names() == ["limited_progress"]
    assert r.ratio[0] == pytest.approx(0.461744, abs=2e-6)
    assert math.isnan(r.forecast[0]) and r.reason_texts() == [""]


@pytest.mark.parametrize("method", METHODS)
def test_chunking_does_not_change_results(method: str) -> None:
    rng = np.random.default_rng(7)
    values = rng.uniform(1, 100, (50, 6))
    values[rng.random((50, 6)) < 0.2] = np.nan
    b = SeriesBatch.build(np.arange(2015, 2021), values, rng.choice([1, -1], 50), 60.0, 2030.0)
    whole = assess_batch(b, method)  # type: ignore[arg-type]
    parts = assess_batch(b, method, chunk=7)  # type: ignore[arg-type]
    assert (whole.category == parts.category).all() and (whole.status == parts.status).all()
    np.testing.assert_array_equal(whole.score, parts.score)


def test_refusal_codes_match_the_per_series_reasons() -> None:
    many = [
        IndicatorSeries.of([(2015, 1.0)], "increase"),
        IndicatorSeries.of([(2015, 1.0), (2016, -1.0)], "increase"),
        IndicatorSeries.of([(2015, 1.0), (2016, 2.0)], "increase", base_year=2019),
        IndicatorSeries.of([(2015, 1.0), (2016, 2.0)], "increase", limit=-5.0),
    ]
    r = assess_batch(SeriesBatch.from_series(many), "statcan")
    texts = r.reason_texts()
    assert texts == [
        "too few observations from the base year on",
        "base value and latest value have opposite signs",
        "no observation in or after the base year",
        "limit and values have opposite signs",
    ]
    for s, code in zip(many, r.reason.tolist(), strict=True):
        assert assess(s).reason is not None and REASONS[code]
    with pytest.raises(ValueError, match="method"):
        assess_batch(SeriesBatch.from_series(many), "magic")  # type: ignore[arg-type]
