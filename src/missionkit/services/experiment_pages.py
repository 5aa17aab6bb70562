"""What the experiment pages need beyond the registry's service.

People paste or upload units and results as CSV (or JSON) and expect a mistake to be named
by row and column, so the text is read here into the very payloads the API accepts
(``RandomiseRequest``, the A/B summary, ``OutcomesIn``); the registry service then applies
its rules unchanged. The design check and the sample-ratio check of a plan come from the
same engines as the CLI and API (``experiments.design``, ``experiments.srm``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from missionkit.domain.problems import InvalidInput, Problem
from missionkit.experiments import design, srm
from missionkit.experiments.plan import ExperimentPlan
from missionkit.experiments.types import ExperimentInputError, to_plain
from missionkit.services.experiment_panels import COLUMNS as PANEL_COLUMNS
from missionkit.services.experiment_panels import panel_rows_from_csv
from missionkit.services.experiment_shapes import UnitIn
from missionkit.store import tables as t

UNIT_COLUMNS = ("unit", "stratum", "cluster")
OUTCOME_COLUMNS = ("unit", "value")
SUMMARY_COLUMNS = ("arm", "n", "sum", "sum_squares", "successes")
MAX_ROWS = 200_000


def objective_options(session: Session, mission_id: int) -> list[tuple[str, str]]:
    """The mission's objectives as (slug, title): the registry links an objective by slug."""
    rows = session.execute(
        select(t.Objective.slug, t.Objective.title)
        .where(t.Objective.mission_id == mission_id)
        .order_by(t.Objective.position, t.Objective.slug)
    )
    return [(slug, title) for slug, title in rows]


def decode_upload(data: bytes, name: str) -> str:
    """An uploaded file as text (UTF-8, with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput.one(
            "file",
            f"{name or 'the file'} is not UTF-8 text (byte {e.start + 1}); save it as UTF-8 CSV",
        ) from None


def _where(row: int, column: int, name: str) -> str:
    return f"row {row}, column {column} ({name})"


class _Rows(list[tuple[int, dict[str, str]]]):
    """CSV rows as (line number, {column: cell}), and where each column is (from 1)."""

    def __init__(self, rows: list[tuple[int, dict[str, str]]], header: Sequence[str]) -> None:
        super().__init__(rows)
        self.positions = {name: i for i, name in enumerate(header, 1) if name}

    def where(self, row: int, name: str) -> str:
        return _where(row, self.positions.get(name, 1), name)


def _table(text: str, columns: Sequence[str], required: int) -> _Rows:
    """CSV rows; a header naming the columns is optional and may order them freely;
    without one the columns are ``columns`` in that order."""
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise InvalidInput.one(
            "", f"paste or upload at least one row: {','.join(columns[:required])}"
        )
    if len(lines) > MAX_ROWS:
        raise InvalidInput.one("", f"{len(lines):,} rows; at most {MAX_ROWS:,} at once")
    try:
        cells = [next(csv.reader([line])) for _, line in lines]
    except csv.Error as e:
        raise InvalidInput.one("", f"not readable as CSV: {e}") from None
    first = [c.strip().lower() for c in cells[0]]
    if first and first[0] in columns and all(c in columns or not c for c in first):
        header, start = first, 1
    elif first and first[0] == columns[0]:
        unknown = next(c for c in first if c not in columns)
        raise InvalidInput.one(
            _where(lines[0][0], first.index(unknown) + 1, unknown),
            f"unknown column (expected {', '.join(columns)})",
        )
    else:
        header, start = list(columns), 0
    missing = [c for c in columns[:required] if c not in header]
    if missing:
        raise InvalidInput.one(f"row {lines[0][0]}", f"the header lacks the column {missing[0]!r}")
    out: list[tuple[int, dict[str, str]]] = []
    problems: list[Problem] = []
    for (n, _), row in zip(lines[start:], cells[start:], strict=True):
        if len(row) > len(header):
            problems.append(
                Problem(f"row {n}", f"{len(row)} cells, expected at most {len(header)}")
            )
            continue
        out.append((n, {h: c.strip() for h, c in zip(header, row, strict=False) if h}))
    if problems:
        raise InvalidInput(problems[:50])
    if not out:
        raise InvalidInput.one("", "only a header: add the rows below it")
    return _Rows(out, header)


def _number(text: str, where: str, *, whole: bool = False) -> float:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise InvalidInput.one(where, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput.one(where, "must be finite")
    if whole and value != int(value):
        raise InvalidInput.one(where, f"{text!r} is not a whole number")
    return value


def parse_units(text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Units to randomise from ``unit[,stratum[,cluster]]`` rows, each checked against the
    API's ``UnitIn``; also the line of each unit, to name rows in later problems."""
    rows = _table(text, UNIT_COLUMNS, 1)
    units: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for n, row in rows:
        payload = {k: v for k, v in row.items() if v or k == "unit"}
        try:
            units.append(UnitIn.model_validate(payload).model_dump(exclude_none=True))
        except ValidationError as e:
            for item in e.errors(include_url=False):
                name = str(item["loc"][0]) if item["loc"] else "unit"
                problems.append(Problem(rows.where(n, name), item["msg"]))
    if problems:
        raise InvalidInput(problems[:50])
    return units, [n for n, _ in rows]


def parse_outcomes(text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Per-unit outcomes from ``unit,value`` rows (the service's ``OutcomesIn``)."""
    outcomes: list[dict[str, Any]] = []
    problems: list[Problem] = []
    rows = _table(text, OUTCOME_COLUMNS, 2)
    for n, row in rows:
        if not row.get("unit"):
            problems.append(Problem(rows.where(n, "unit"), "is empty"))
            continue
        try:
            value = _number(row.get("value", ""), rows.where(n, "value"))
        except InvalidInput as e:
            problems.extend(e.problems)
            continue
        outcomes.append({"unit": row["unit"], "value": value})
    if problems:
        raise InvalidInput(problems[:50])
    return outcomes, [n for n, _ in rows]


def parse_summary(text: str) -> dict[str, Any]:
    """Per-arm sufficient statistics from JSON (the CLI's summary document) or CSV rows of
    ``arm,n,sum,sum_squares`` (a mean metric) or ``arm,n,successes`` (a proportion)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise InvalidInput.one(
                f"line {e.lineno}, column {e.colno}", f"not JSON: {e.msg}"
            ) from None
        if not isinstance(doc, dict):
            raise InvalidInput.one("", "the JSON must be an object with arms")
        return doc
    arms: dict[str, dict[str, float]] = {}
    problems: list[Problem] = []
    rows = _table(text, SUMMARY_COLUMNS, 2)
    for n, row in rows:
        arm = row.get("arm", "")
        if not arm:
            problems.append(Problem(rows.where(n, "arm"), "is empty"))
            continue
        if arm in arms:
            problems.append(Problem(rows.where(n, "arm"), f"arm {arm!r} appears twice"))
            continue
        stats: dict[str, float] = {}
        for name in SUMMARY_COLUMNS[1:]:
            if row.get(name):
                try:
                    stats[name] = _number(row[name], rows.where(n, name), whole=name == "n")
                except InvalidInput as e:
                    problems.extend(e.problems)
        arms[arm] = {k: int(v) if k == "n" else v for k, v in stats.items()}
    if problems:
        raise InvalidInput(problems[:50])
    return {"arms": arms}


def parse_panel(text: str, control_group: str) -> tuple[dict[str, Any], list[int]]:
    """A policy experiment's panel (CSV with a header naming ``unit``, ``time``,
    ``outcome`` and optionally ``treated`` and ``cluster``) as the API's panel request,
    with the line of each row (header = line 1)."""
    try:
        first = next(csv.reader([text.lstrip("\ufeff").split("\n", 1)[0]]), [])
    except csv.Error:
        first = []
    present = {c.strip() for c in first}
    columns = {name: name for name in PANEL_COLUMNS if name in present}
    for needed in ("unit", "time", "outcome"):
        if needed not in columns:
            expected = ", ".join(PANEL_COLUMNS)
            raise InvalidInput.one("row 1", f"the header lacks the column {needed!r} ({expected})")
    rows = panel_rows_from_csv(text, columns)
    payload = {"rows": rows, "control_group": control_group or "never"}
    return payload, list(range(2, len(rows) + 2))


def arm_table(form: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The per-arm table (``arm-0``, ``n-0``, ``sum-0``, …) as the summary's arms; numbers
    are converted where they parse, and left as typed otherwise for the engine to name."""
    arms: dict[str, dict[str, Any]] = {}
    i = 0
    while f"arm-{i}" in form:
        stats: dict[str, Any] = {}
        for name in ("n", "sum", "sum_squares", "successes"):
            text = form.get(f"{name}-{i}", "").strip()
            if text:
                stats[name] = as_number(text)
        arms[form[f"arm-{i}"]] = stats
        i += 1
    return arms


def as_number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def rows_named(problems: Sequence[Problem], prefix: str, lines: Sequence[int]) -> list[Problem]:
    """A service's ``units[3].stratum`` as ``row 5 (stratum)``: the line the person typed."""
    out = []
    for p in problems:
        head, _, rest = p.path.partition("]")
        if p.path.startswith(f"{prefix}[") and head[len(prefix) + 1 :].isdigit():
            i = int(head[len(prefix) + 1 :])
            column = rest.lstrip(".")
            where = f"row {lines[i]}" if i < len(lines) else p.path
            out.append(Problem(f"{where} ({column})" if column else where, p.message))
        else:
            out.append(p)
    return out


def _arm_sizes(plan: ExperimentPlan) -> tuple[str, float, dict[str, float]]:
    control = plan.control or plan.arms[0].name
    weights = plan.weights
    return control, weights[control], {a: w for a, w in weights.items() if a != control}


def design_check(
    plan_content: Mapping[str, Any],
    *,
    sd: float | None = None,
    baseline: float | None = None,
    icc: float = 0.0,
    cluster_size: float = 1.0,
) -> dict[str, Any]:
    """Does the planned sample reach the minimum detectable effect?

    For each treatment arm against the control (the plan's weights give the allocation
    ratio and each arm's share of the planned sample): the power at the MDE, the sample
    needed for the plan's power, and the smallest effect the planned sample detects.
    A mean metric needs the outcome's standard deviation, a proportion the control's
    baseline rate; the MDE is absolute (outcome units or a change in the proportion).
    """
    plan = ExperimentPlan.model_validate(plan_content)
    mde, total = plan.minimum_detectable_effect, plan.planned_sample
    kind = plan.primary_metric.kind
    if mde is None or total is None:
        raise InvalidInput.one(
            "plan", "give the plan a minimum detectable effect and a planned sample"
        )
    if kind == "mean" and sd is None:
        raise InvalidInput.one("sd", "enter the outcome's standard deviation")
    if kind == "proportion" and baseline is None:
        raise InvalidInput.one("baseline", "enter the control group's baseline rate (0 to 1)")
    control, w_control, treatments = _arm_sizes(plan)
    weight_sum = sum(plan.weights.values())
    n_control = total * w_control / weight_sum
    solve: Callable[..., design.DesignResult]
    if kind == "mean":
        solve = lambda **kw: design.means(sd=sd or 0.0, **kw)  # noqa: E731
    else:
        solve = lambda **kw: design.proportions(baseline=baseline or 0.0, **kw)  # noqa: E731
    common = {"alpha": plan.alpha, "icc": icc, "cluster_size": cluster_size}
    arms = []
    try:
        for arm, weight in treatments.items():
            ratio = weight / w_control
            at_plan = solve(effect=mde, n_control=n_control, ratio=ratio, **common)
            needed = solve(effect=mde, power=plan.power, ratio=ratio, **common)
            smallest = solve(n_control=n_control, power=plan.power, ratio=ratio, **common)
            needed_total = math.ceil(needed.n_control * weight_sum / w_control - 1e-9)
            arms.append(
                {
                    "arm": arm,
                    "n_control": math.floor(n_control + 1e-9),
                    "n_treatment": math.floor(n_control * ratio + 1e-9),
                    "power": at_plan.power,
                    "needed_total": needed_total,
                    "needed": to_plain(needed),
                    "detectable": smallest.effect,
                    "reaches": at_plan.power >= plan.power,
                    "assumptions": list(at_plan.assumptions),
                    "warnings": list(at_plan.warnings),
                }
            )
    except ExperimentInputError as e:
        raise InvalidInput.one(e.field, e.message) from None
    return {
        "metric": kind,
        "control": control,
        "mde": mde,
        "planned_sample": total,
        "target_power": plan.power,
        "alpha": plan.alpha,
        "arms": arms,
        "reaches": all(a["reaches"] for a in arms),
        "needed_total": max((a["needed_total"] for a in arms), default=0),
    }


def assignment_check(plan_content: Mapping[str, Any], counts: Mapping[str, int]) -> dict[str, Any]:
    """The realised split against the plan's weights: shares, and the sample-ratio test."""
    plan = ExperimentPlan.model_validate(plan_content)
    names = [a.name for a in plan.arms] + sorted(set(counts) - set(plan.weights))
    weights = [plan.weights.get(a, 0.0) for a in names]
    observed = [int(counts.get(a, 0)) for a in names]
    result = srm.check(observed, weights)
    total = sum(observed) or 1
    return {
        "arms": [
            {
                "arm": a,
                "count": o,
                "share": o / total,
                "planned_share": w / (sum(weights) or 1.0),
                "expected": e,
            }
            for a, o, w, e in zip(names, observed, weights, result.expected, strict=True)
        ],
        "total": sum(observed),
        "p_value": result.p_value,
        "mismatch": result.mismatch,
        "threshold": srm.SRM_THRESHOLD,
        "warnings": list(result.warnings),
        "assumptions": list(result.assumptions),
    }


DESIGN_INPUTS = ("sd", "baseline", "icc", "cluster_size")


def design_from_query(experiment: Mapping[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """The power helper for the draft plan, from the page's query (``?baseline=0.24``):
    what a mean needs (its SD) or a proportion (its baseline rate), and clustering."""
    plan = experiment["plan"]
    values = {k: query.get(k, "").strip() for k in DESIGN_INPUTS}
    out: dict[str, Any] = {
        "metric": plan["primary_metric"]["kind"],
        "values": values,
        "ready": plan.get("minimum_detectable_effect") is not None
        and plan.get("planned_sample") is not None,
        "errors": [],
        "result": None,
    }
    numbers: dict[str, float] = {}
    for name, text in values.items():
        if text:
            try:
                numbers[name] = float(text)
            except ValueError:
                out["errors"].append(f"{name}: {text!r} is not a number")
    wanted = "sd" if out["metric"] == "mean" else "baseline"
    if out["errors"] or not out["ready"] or wanted not in numbers:
        return out
    try:
        out["result"] = design_check(
            plan,
            sd=numbers.get("sd"),
            baseline=numbers.get("baseline"),
            icc=numbers.get("icc", 0.0),
            cluster_size=numbers.get("cluster_size", 1.0),
        )
    except InvalidInput as e:
        out["errors"] = [str(p) for p in e.problems]
    return out
