"""Coverage: where the budget goes, which objectives nobody works on, which activities serve none.

Budget per objective is each activity's budget times its normalised contribution weight
(see ``Portfolio.allocation``); shares are of the whole portfolio budget. An objective's
coverage includes its sub-objectives (their budgets add up without double counting,
because an activity's normalised weights never sum above 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from missionkit.portfolio.data import Portfolio
from missionkit.portfolio.parts import ancestors, cross
from missionkit.portfolio.types import CoverageStatus, Dimension, Result, share

__all__ = [
    "Coverage",
    "CoverageCell",
    "CoverageMatrix",
    "CoverageThresholds",
    "ObjectiveCoverage",
    "coverage",
    "coverage_matrix",
    "objective_coverage",
]

CellValue = Literal["budget", "share", "activities"]


@dataclass(frozen=True, slots=True)
class CoverageCell(Result):
    """One cell of a matrix: budget, share of the portfolio budget, distinct activities."""

    row: str
    column: str
    budget: float
    share: float
    activities: int


@dataclass(frozen=True, slots=True)
class CoverageMatrix(Result):
    """Tidy rows of budget and counts per pair of values of two dimensions.

    Only non-empty cells are listed; :meth:`pivot` and :meth:`table` fill the rest with 0.
    Cells sum to ``total_budget`` (every activity's budget is spread over its values, with
    ``(none)`` where it has none).
    """

    rows_dimension: Dimension
    columns_dimension: Dimension
    cells: tuple[CoverageCell, ...]
    total_budget: float

    def to_frame(self) -> pl.DataFrame:
        """The cells as a Polars frame (``row``, ``column``, ``budget``, ``share``,
        ``activities``)."""
        schema = {
            "row": pl.String(),
            "column": pl.String(),
            "budget": pl.Float64(),
            "share": pl.Float64(),
            "activities": pl.Int64(),
        }
        return pl.DataFrame(
            [(c.row, c.column, c.budget, c.share, c.activities) for c in self.cells],
            schema=schema,
            orient="row",
        )

    def pivot(self, value: CellValue = "budget") -> pl.DataFrame:
        """Wide frame: one row per row value, one column per column value, zeros filled."""
        frame = self.to_frame()
        if frame.height == 0:
            return pl.DataFrame({self.rows_dimension: []}, schema={self.rows_dimension: pl.String})
        wide = frame.pivot(
            on="column", index="row", values=value, aggregate_function="sum", sort_columns=True
        )
        return wide.fill_null(0).sort("row").rename({"row": self.rows_dimension})

    def table(self, value: CellValue = "budget") -> dict[str, dict[str, float]]:
        """``{row: {column: value}}`` with every row and column present (0 where empty)."""
        row_keys = sorted({c.row for c in self.cells})
        col_keys = sorted({c.column for c in self.cells})
        out = {r: dict.fromkeys(col_keys, 0.0) for r in row_keys}
        for c in self.cells:
            out[c.row][c.column] = float(getattr(c, value))
        return out


@dataclass(frozen=True, slots=True)
class CoverageThresholds:
    """When an objective counts as thinly covered.

    An objective (with its sub-objectives) is ``thin`` when it gets less than ``share`` of
    the portfolio budget **or** fewer than ``activities`` distinct activities, and ``none``
    when no activity contributes to it at all. Defaults: 5 % and 3 activities.
    """

    share: float = 0.05
    activities: int = 3


@dataclass(frozen=True, slots=True)
class ObjectiveCoverage(Result):
    """One objective's budget: ``budget``/``activities`` from its own contributions,
    ``total_*`` including its sub-objectives (what ``status`` is judged on)."""

    objective: str
    title: str
    parent: str | None
    budget: float
    share: float
    activities: int
    total_budget: float
    total_share: float
    total_activities: int
    status: CoverageStatus


@dataclass(frozen=True, slots=True)
class Coverage(Result):
    """A coverage matrix plus the gaps: uncovered and thin objectives, unmapped activities.

    ``unmapped_activities`` contribute to no objective (ids, largest budget first);
    ``unallocated_budget`` is the budget no weight assigns to an objective, including the
    rest left by weights that sum below 1.
    """

    matrix: CoverageMatrix
    objectives: tuple[ObjectiveCoverage, ...]
    uncovered_objectives: tuple[str, ...]
    thin_objectives: tuple[str, ...]
    unmapped_activities: tuple[str, ...]
    unmapped_budget: float
    unallocated_budget: float
    total_budget: float
    thresholds: CoverageThresholds


def coverage_matrix(
    portfolio: Portfolio, rows: Dimension = "objective", columns: Dimension = "stage"
) -> CoverageMatrix:
    """Budget, share and distinct activity count per pair of values of two dimensions."""
    total = portfolio.total_budget
    frame = cross(portfolio, rows, columns, None)
    cells = tuple(
        CoverageCell(r, c, float(b), share(float(b), total), int(n))
        for r, c, b, n in frame.select("row", "column", "budget", "activities").iter_rows()
    )
    return CoverageMatrix(rows, columns, cells, total)


NUMBERS = ("budget", "activities", "budget_total", "activities_total")


def objective_coverage(
    portfolio: Portfolio, thresholds: CoverageThresholds | None = None
) -> tuple[ObjectiveCoverage, ...]:
    """Budget, share, activity count and status of every objective, in table order."""
    limits = thresholds or CoverageThresholds()
    total = portfolio.total_budget
    alloc = portfolio.allocation.filter(pl.col("share") > 0)
    direct = alloc.group_by("objective").agg(
        pl.col("budget").sum(), pl.col("activity").n_unique().alias("activities")
    )
    subtree = (
        alloc.join(ancestors(portfolio), on="objective")
        .group_by("ancestor")
        .agg(pl.col("budget").sum(), pl.col("activity").n_unique().alias("activities"))
        .rename({"ancestor": "objective"})
    )
    frame = (
        portfolio.objectives.select(pl.col("id").alias("objective"), "title", "parent")
        .join(direct, on="objective", how="left")
        .join(subtree, on="objective", how="left", suffix="_total")
        .with_columns(pl.col(*NUMBERS).fill_null(0))
    )
    out: list[ObjectiveCoverage] = []
    for row in frame.iter_rows(named=True):
        n_total = int(row["activities_total"])
        b_total = float(row["budget_total"])
        s_total = share(b_total, total)
        status: CoverageStatus = "covered"
        if n_total == 0:
            status = "none"
        elif s_total < limits.share or n_total < limits.activities:
            status = "thin"
        b = float(row["budget"])
        out.append(
            ObjectiveCoverage(
                objective=row["objective"],
                title=row["title"],
                parent=row["parent"],
                budget=b,
                share=share(b, total),
                activities=int(row["activities"]),
                total_budget=b_total,
                total_share=s_total,
                total_activities=n_total,
                status=status,
            )
        )
    return tuple(out)


def coverage(
    portfolio: Portfolio,
    rows: Dimension = "objective",
    columns: Dimension = "stage",
    thresholds: CoverageThresholds | None = None,
) -> Coverage:
    """The ``rows`` x ``columns`` matrix, objective statuses and unmapped activities."""
    limits = thresholds or CoverageThresholds()
    objectives = objective_coverage(portfolio, limits)
    mapped = portfolio.allocation.filter(pl.col("share") > 0).get_column("activity").unique()
    unmapped = portfolio.activities.filter(~pl.col("id").is_in(mapped.implode())).sort(
        ["budget", "id"], descending=[True, False]
    )
    allocated = float(portfolio.allocation.get_column("budget").sum())
    total = portfolio.total_budget
    return Coverage(
        matrix=coverage_matrix(portfolio, rows, columns),
        objectives=objectives,
        uncovered_objectives=tuple(o.objective for o in objectives if o.status == "none"),
        thin_objectives=tuple(o.objective for o in objectives if o.status == "thin"),
        unmapped_activities=tuple(unmapped.get_column("id").to_list()),
        unmapped_budget=float(unmapped.get_column("budget").sum()),
        unallocated_budget=max(total - allocated, 0.0),
        total_budget=total,
        thresholds=limits,
    )
