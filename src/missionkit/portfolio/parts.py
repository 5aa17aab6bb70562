"""How an activity's budget is split over the values of one dimension, and cross-tabulation.

For each dimension every activity gets rows ``(activity, value, fraction)`` whose fractions
sum to 1, so every breakdown adds up to the portfolio's budget:

* ``objective``: the normalised contribution weights (see ``Portfolio.allocation``); what
  the weights leave over goes to ``(none)``;
* ``region`` and ``sector``: an equal split over the activity's listed values (an
  activity in three regions puts a third of its budget in each); none listed -> ``(none)``;
* ``instrument``, ``stage``, ``call``, ``year``: the activity's single value (``(none)``
  where unknown).

Two dimensions are crossed by multiplying fractions: an activity's budget is spread over
the product of its objective weights and its region split (the two are taken as
independent, the only assumption the data allows).

With ``rollup=True`` an objective's row also holds its sub-objectives' budget (each
activity counted once per row), for per-objective profiles; rows then no longer add up
to the portfolio budget.
"""

from __future__ import annotations

import polars as pl

from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.types import NONE, Dimension

__all__ = [
    "ancestors",
    "cross",
    "dimension_parts",
    "numbered_parts",
    "rolled_objective_parts",
    "totals",
]

_SINGLE = {"instrument", "stage", "call", "year"}
_LISTS = {"region": "regions", "sector": "sectors"}


def dimension_parts(portfolio: Portfolio, dimension: Dimension) -> pl.LazyFrame:
    """``activity``, ``value`` (string), ``fraction`` for one dimension (see module doc)."""
    return _parts(portfolio, dimension, numbered=False)


def numbered_parts(portfolio: Portfolio, dimension: Dimension) -> pl.LazyFrame:
    """:func:`dimension_parts` with ``activity`` as the activity's row number (UInt32)
    instead of its id: what the cross-tabulations join on, since joining on integers is
    several times faster than on strings at a million activities."""
    return _parts(portfolio, dimension, numbered=True)


def _activities(portfolio: Portfolio, numbered: bool) -> pl.LazyFrame:
    """The activities with their key as ``activity``: the row number or the id."""
    acts = portfolio.activities.lazy()
    if numbered:
        return acts.with_row_index("activity")
    return acts.with_columns(pl.col("id").alias("activity"))


def _parts(portfolio: Portfolio, dimension: Dimension, *, numbered: bool) -> pl.LazyFrame:
    acts = _activities(portfolio, numbered)
    if dimension in _SINGLE:
        return acts.select(
            "activity",
            pl.col(dimension).cast(pl.String).fill_null(NONE).alias("value"),
            pl.lit(1.0).alias("fraction"),
        )
    if dimension in _LISTS:
        column = pl.col(_LISTS[dimension])
        n = column.list.len()
        return (
            acts.select(
                "activity",
                pl.when(n > 0).then(column).otherwise(pl.lit([NONE])).alias("value"),
                (1.0 / pl.max_horizontal(n, pl.lit(1))).alias("fraction"),
            )
            .explode("value")
            .select("activity", "value", "fraction")
        )
    if dimension == "objective":
        source = portfolio.numbered_allocation if numbered else portfolio.allocation
        alloc = source.lazy().select(
            "activity", pl.col("objective").alias("value"), pl.col("share").alias("fraction")
        )
        rest = (
            acts.select("activity")
            .join(
                alloc.group_by("activity").agg(pl.col("fraction").sum().alias("used")),
                on="activity",
                how="left",
            )
            .select(
                "activity",
                pl.lit(NONE).alias("value"),
                (1.0 - pl.col("used").fill_null(0.0)).alias("fraction"),
            )
            .filter(pl.col("fraction") > 1e-12)
        )
        return pl.concat([alloc, rest])
    raise ValueError(f"unknown dimension {dimension!r}")


def ancestors(portfolio: Portfolio) -> pl.DataFrame:
    """``objective``, ``ancestor`` pairs (each objective is also its own ancestor)."""
    ids = portfolio.objectives.get_column("id").to_list()
    parents = dict(zip(ids, portfolio.objectives.get_column("parent").to_list(), strict=True))
    pairs: list[tuple[str, str]] = []
    for start in ids:
        node: str | None = start
        while node is not None:
            pairs.append((start, node))
            node = parents[node]
    return pl.DataFrame(pairs, schema={"objective": pl.String, "ancestor": pl.String}, orient="row")


def _rolled(portfolio: Portfolio, parts: pl.LazyFrame) -> pl.LazyFrame:
    """Objective parts with each objective's fraction also credited to its ancestors."""
    up = ancestors(portfolio).lazy().rename({"objective": "value"})
    return (
        parts.join(up, on="value", how="left")
        .with_columns(pl.col("ancestor").fill_null(pl.col("value")))
        .group_by("activity", "ancestor")
        .agg(pl.col("fraction").sum())
        .rename({"ancestor": "value"})
    )


def rolled_objective_parts(portfolio: Portfolio) -> pl.DataFrame:
    """:func:`numbered_parts` of ``objective`` rolled up to the ancestors (what
    ``Portfolio.numbered_rollup`` caches)."""
    return _rolled(portfolio, numbered_parts(portfolio, "objective")).collect()


def cross(
    portfolio: Portfolio,
    rows: Dimension,
    columns: Dimension,
    budget_weights: pl.LazyFrame | None = None,
    *,
    rollup: bool = False,
) -> pl.DataFrame:
    """Budget and activity count per ``(row, column)`` pair.

    ``budget_weights`` optionally rescales each activity's budget (columns ``activity``,
    ``factor``). An activity counts once in every cell it has a positive fraction in.
    Result columns: ``row``, ``column``, ``budget``, ``activities``; sorted by row, column.
    """
    if rows == columns:
        raise ValueError(f"rows and columns must be different dimensions, both are {rows!r}")
    left_parts = numbered_parts(portfolio, rows)
    right_parts = numbered_parts(portfolio, columns)
    if rollup and rows == "objective":
        left_parts = portfolio.numbered_rollup.lazy()
    if rollup and columns == "objective":
        right_parts = portfolio.numbered_rollup.lazy()
    left = left_parts.rename({"value": "row", "fraction": "f_row"})
    right = right_parts.rename({"value": "column", "fraction": "f_col"})
    budgets = _activities(portfolio, numbered=True).select("activity", "budget")
    if budget_weights is not None:
        weights = _activities(portfolio, numbered=True).select("activity", "id")
        weights = weights.join(
            budget_weights.rename({"activity": "id"}), on="id", how="left"
        ).select("activity", "factor")
        budgets = budgets.join(weights, on="activity", how="left").select(
            "activity", pl.col("budget") * pl.col("factor").fill_null(1.0)
        )
    return (
        left.join(right, on="activity")
        .join(budgets, on="activity")
        .with_columns((pl.col("f_row") * pl.col("f_col")).alias("fraction"))
        .filter(pl.col("fraction") > 0)
        .group_by("row", "column")
        .agg(
            (pl.col("budget") * pl.col("fraction")).sum().alias("budget"),
            pl.col("activity").n_unique().alias("activities"),
        )
        .sort("row", "column")
        .collect()
    )


def totals(portfolio: Portfolio, dimension: Dimension) -> pl.DataFrame:
    """Budget and activity count per value of one dimension (``value``, ``budget``,
    ``activities``), sorted by value."""
    budgets = _activities(portfolio, numbered=True).select("activity", "budget")
    return (
        numbered_parts(portfolio, dimension)
        .filter(pl.col("fraction") > 0)
        .join(budgets, on="activity")
        .group_by("value")
        .agg(
            (pl.col("budget") * pl.col("fraction")).sum().alias("budget"),
            pl.col("activity").n_unique().alias("activities"),
        )
        .sort("value")
        .collect()
    )
