"""The cross-tabulations join on activity row numbers: the same parts as by id, and a
budget rescaled by id still lands on the right activity."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from missionkit.portfolio import DIMENSIONS, Dimension, Portfolio, cross
from missionkit.portfolio.parts import dimension_parts, numbered_parts
from tests.test_portfolio_cases import small_portfolio


def _by_id(p: Portfolio, dimension: Dimension) -> pl.DataFrame:
    ids = p.activities.select("id").with_row_index("activity")
    return (
        numbered_parts(p, dimension)
        .collect()
        .join(ids, on="activity", how="left")
        .select(pl.col("id").alias("activity"), "value", "fraction")
        .sort("activity", "value")
    )


@pytest.mark.parametrize("dimension", DIMENSIONS)
def test_numbered_parts_are_the_parts_by_id(dimension: Dimension) -> None:
    p = small_portfolio()
    expected = dimension_parts(p, dimension).collect().sort("activity", "value")
    got = _by_id(p, dimension)
    assert got.get_column("activity").null_count() == 0
    assert got.to_dicts() == expected.to_dicts()


def test_budget_weights_rescale_the_activity_they_name() -> None:
    p = small_portfolio()
    row = p.activities.row(0, named=True)
    first, budget = row["id"], float(row["budget"])
    weights = pl.LazyFrame({"activity": [first], "factor": [3.0]})
    tripled = replace(
        p,
        activities=p.activities.with_columns(
            pl.when(pl.col("id") == first)
            .then(pl.col("budget") * 3.0)
            .otherwise(pl.col("budget"))
            .alias("budget")
        ),
    )
    assert budget > 0
    rescaled = cross(p, "objective", "stage", weights)
    expected = cross(tripled, "objective", "stage")
    assert rescaled.drop("budget").equals(expected.drop("budget"))
    assert rescaled.get_column("budget").to_list() == pytest.approx(
        expected.get_column("budget").to_list()
    )
    assert float(rescaled.get_column("budget").sum()) == pytest.approx(
        float(cross(p, "objective", "stage").get_column("budget").sum()) + 2 * budget
    )
