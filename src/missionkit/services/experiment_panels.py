"""Analysing a registered policy experiment from panel data (did, staggered, before/after).

A/B pilots are analysed from arm summaries (``experiment_analysis.analyse_experiment``); pilots of
policy changes are observed as units over periods. This is their path through the
registry: against the latest locked plan, with the deviations named, kept as the
experiment's analysis so that a decision can close it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.domain.access import Actor
from missionkit.experiments.panel import PANEL_DESIGNS, Panel, analyse_panel
from missionkit.experiments.plan import ExperimentPlan
from missionkit.experiments.types import ExperimentInputError
from missionkit.services.errors import Conflict, InvalidInput
from missionkit.services.experiment_analysis import keep_analysis, plan_drift
from missionkit.services.experiments import (
    engine_error,
    experiment_row,
    latest_plan,
    parse_payload,
)
from missionkit.store import tables as t

MAX_ROWS = 1_000_000


class PanelRowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=200)
    time: str = Field(min_length=1, max_length=40)
    outcome: float = Field(allow_inf_nan=False)
    treated: float | None = Field(default=None, allow_inf_nan=False)
    cluster: str | None = Field(default=None, max_length=200)

    @field_validator("time", mode="before")
    @classmethod
    def _period_as_text(cls, value: Any) -> Any:
        """Periods may come as numbers (2024) or labels; they are compared as given."""
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value) if isinstance(value, float) else value


class PanelRequest(BaseModel):
    """One row per unit and period; ``treated`` is 1 in the periods a unit is treated."""

    model_config = ConfigDict(extra="forbid")
    rows: list[PanelRowIn] = Field(min_length=4, max_length=MAX_ROWS)
    alpha: float | None = Field(default=None, gt=0, lt=1)
    control_group: Literal["never", "notyet"] = "never"


COLUMNS = ("unit", "time", "outcome", "treated", "cluster")


def panel_rows_from_csv(text: str, columns: Mapping[str, str]) -> list[dict[str, Any]]:
    """Rows for ``PanelRequest`` from CSV text; ``columns`` maps each field to a header.

    ``unit``, ``time`` and ``outcome`` are required, ``treated`` and ``cluster`` optional.
    Errors name the row (as a spreadsheet numbers it, header = 1) and the column.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    if not header:
        raise InvalidInput.one("file", "is empty: the first line must name the columns")
    for field, name in columns.items():
        if field not in COLUMNS:
            raise InvalidInput.one("columns", f"unknown field {field!r}")
        if name not in header:
            raise InvalidInput.one(
                f"columns.{field}", f"no column {name!r} (columns: {', '.join(header)})"
            )
    for needed in ("unit", "time", "outcome"):
        if needed not in columns:
            raise InvalidInput.one(f"columns.{needed}", "must name a column")
    rows: list[dict[str, Any]] = []
    for line, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {}
        for field, name in columns.items():
            value = (raw.get(name) or "").strip()
            if not value:
                if field in ("treated", "cluster"):
                    continue
                raise InvalidInput.one(f"row {line}", f"column {name!r} is empty")
            if field in ("outcome", "treated"):
                try:
                    number = float(value)
                except ValueError:
                    raise InvalidInput.one(
                        f"row {line}", f"column {name!r}: {value!r} is not a number"
                    ) from None
                if not math.isfinite(number):
                    raise InvalidInput.one(
                        f"row {line}", f"column {name!r}: {value!r} is not finite"
                    )
                row[field] = number
            else:
                row[field] = value
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise InvalidInput.one("file", f"more than {MAX_ROWS:,} rows")
    if not rows:
        raise InvalidInput.one("file", "has no data rows")
    return rows


def _panel_deviations(
    session: Session,
    e: t.Experiment,
    plan_row: t.ExperimentPlanVersion,
    plan: ExperimentPlan,
    request: PanelRequest,
    alpha: float,
) -> list[str]:
    out: list[str] = []
    if alpha != plan.alpha:
        out.append(f"alpha {alpha:g} instead of the planned {plan.alpha:g}")
    units = {r.unit for r in request.rows}
    if plan.planned_sample is not None and len(units) < plan.planned_sample:
        out.append(f"{len(units)} units, below the planned {plan.planned_sample} (less power)")
    if plan.primary_metric.kind == "proportion" and any(
        r.outcome not in (0.0, 1.0) for r in request.rows
    ):
        out.append(
            f"the primary metric {plan.primary_metric.name!r} is a proportion but outcomes "
            "other than 0 and 1 were analysed"
        )
    assigned = set(
        session.scalars(
            select(t.ExperimentAssignment.unit).where(t.ExperimentAssignment.experiment_id == e.id)
        )
    )
    if assigned and not units <= assigned:
        extra = sorted(units - assigned)
        out.append(f"{len(extra)} units were never assigned (e.g. {extra[0]!r})")
    return out + plan_drift(e, plan_row)


def analyse_experiment_panel(
    session: Session, experiment_id: int, payload: Any, actor: Actor | None = None
) -> dict[str, Any]:
    """Analyse a did, staggered or before/after experiment's panel and keep the result."""
    request = parse_payload(PanelRequest, payload)
    e = experiment_row(session, experiment_id, lock=True)
    if e.design not in PANEL_DESIGNS:
        raise Conflict(
            f"a {e.design!r} experiment is analysed from arm summaries or unit outcomes, "
            "not a panel"
        )
    plan_row = latest_plan(session, e.id)
    if plan_row is None:
        raise Conflict("lock the plan before analysing: the analysis must follow a plan")
    plan = ExperimentPlan.model_validate(plan_row.content)
    alpha = request.alpha if request.alpha is not None else plan.alpha
    rows = request.rows
    has_cluster = any(r.cluster is not None for r in rows)
    if has_cluster and any(r.cluster is None for r in rows):
        first = next(i for i, r in enumerate(rows) if r.cluster is None)
        raise InvalidInput.one(f"rows[{first}].cluster", "give a cluster on every row or none")
    if e.design != "before_after":
        missing = next((i for i, r in enumerate(rows) if r.treated is None), None)
        if missing is not None:
            raise InvalidInput.one(f"rows[{missing}].treated", "is required for this design")
    panel = Panel(
        outcome=[r.outcome for r in rows],
        unit=[r.unit for r in rows],
        time=[r.time for r in rows],
        treated=None if e.design == "before_after" else [r.treated or 0.0 for r in rows],
        cluster=[r.cluster or "" for r in rows] if has_cluster else None,
    )
    try:
        report = analyse_panel(
            e.design,
            panel,
            alpha=alpha,
            control_group=request.control_group,
        )
    except ExperimentInputError as err:
        raise engine_error(err) from None
    result: dict[str, Any] = {
        "kind": "panel",
        "plan": {"number": plan_row.number, "content_hash": plan_row.content_hash},
        "deviations": _panel_deviations(session, e, plan_row, plan, request, alpha),
        "alpha": alpha,
        "rows": len(rows),
        "units": len({r.unit for r in rows}),
        "report": report,
    }
    return keep_analysis(session, e, result, actor)
