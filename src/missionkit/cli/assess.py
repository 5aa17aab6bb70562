"""`missionkit assess`: is an indicator on track? One series on the command line, or many
from a CSV file. Thin layer over ``missionkit.trajectory``; see ``docs/trajectory.md``.

``--series`` is ``YEAR:VALUE`` items separated by commas (``2015:20,2016:19.5``); a time
may also be an ISO date (``2016-03-31:19.5``) and a value ``NA`` for a known gap. The CSV
has one row per indicator (and region) with the columns in ``CSV_COLUMNS``; ``id``,
``direction`` and ``series`` are required, the others may be left out or empty.
Malformed input exits with code 2 and names the bad item, row or column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final, TypeVar

import typer

from missionkit.trajectory import (
    METHODS,
    Assessment,
    Direction,
    IndicatorSeries,
    Method,
    Point,
    ProjectionModel,
    assess,
)
from missionkit.trajectory.projection import DEFAULT_HALF_LIFE, DEFAULT_LEVEL
from missionkit.trajectory.series import format_time

CSV_COLUMNS: Final = (
    "id",
    "region",
    "method",
    "direction",
    "target",
    "target_year",
    "base_year",
    "limit",
    "series",
)
REQUIRED_COLUMNS: Final = ("id", "direction", "series")
OUTPUT_COLUMNS: Final = (
    "id",
    "region",
    "method",
    "category",
    "status",
    "ratio",
    "score",
    "cagr_observed",
    "cagr_required",
    "change_observed",
    "change_required",
    "coefficient",
    "base_year",
    "base_value",
    "latest_year",
    "latest_value",
    "target",
    "target_year",
    "forecast_value",
    "forecast_low",
    "forecast_high",
    "probability",
    "reason",
    "notes",
)
T = TypeVar("T")
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MethodChoice(StrEnum):
    statcan = "statcan"
    sdsn = "sdsn"
    projection = "projection"


class DirectionChoice(StrEnum):
    increase = "increase"
    decrease = "decrease"


class ModelChoice(StrEnum):
    linear = "linear"
    loglinear = "loglinear"


def parse_time(text: str) -> int | dt.date:
    """A four-digit year or an ISO date."""
    if _YEAR.match(text):
        return int(text)
    if _DATE.match(text):
        return dt.date.fromisoformat(text)  # raises ValueError for 2016-02-30
    raise ValueError(f"{text!r} is not a year (2016) or a date (2016-03-31)")


def parse_number(text: str, what: str) -> float:
    """A finite decimal number (no NaN, no infinity)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} {text!r} is not a finite number")
    return value


def parse_year(text: str, what: str) -> int:
    if not _YEAR.match(text.strip()):
        raise ValueError(f"{what} {text!r} is not a four-digit year")
    return int(text)


def parse_series(text: str) -> list[Point]:
    """``YEAR:VALUE,...`` into points, strictly: each error names the item it is in."""
    points: list[Point] = []
    seen: dict[int | dt.date, int] = {}
    items = text.split(",")
    for n, raw in enumerate(items, start=1):
        item = raw.strip()
        where = f"item {n} {item!r}"
        if not item:
            raise ValueError(f"item {n} is empty (stray comma?)")
        if item.count(":") != 1:
            raise ValueError(f"{where}: expected YEAR:VALUE, e.g. 2016:19.5")
        when_text, value_text = (part.strip() for part in item.split(":"))
        try:
            when = parse_time(when_text)
            value = None if value_text.upper() == "NA" else parse_number(value_text, "value")
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        if when in seen:
            raise ValueError(f"{where}: {when} already given in item {seen[when]}")
        seen[when] = n
        points.append((when, value))
    return points


def parse_direction(text: str) -> Direction:
    if text == "increase":
        return "increase"
    if text == "decrease":
        return "decrease"
    raise ValueError(f"{text!r} is not increase or decrease")


def parse_method(text: str) -> Method:
    for method in METHODS:
        if text == method:
            return method
    raise ValueError(f"{text!r} is not one of {', '.join(METHODS)}")


def _optional(text: str, parse: Callable[[str], T]) -> T | None:
    return parse(text) if text else None


def read_csv(path: Path) -> Iterator[tuple[Method | None, IndicatorSeries]]:
    """Rows of an indicator CSV as series (and per-row method); errors name line and column."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in CSV_COLUMNS]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if unknown or missing:
            problems = []
            if missing:
                problems.append(f"missing column(s) {', '.join(missing)}")
            if unknown:
                problems.append(f"unknown column(s) {', '.join(unknown)}")
            raise ValueError(f"{path}: {'; '.join(problems)} (columns: {', '.join(CSV_COLUMNS)})")
        reader.fieldnames = header
        keys: dict[tuple[str, str | None], int] = {}
        for row in reader:
            line = reader.line_num
            if None in row:
                raise ValueError(f"{path}, line {line}: more cells than columns")
            cells = {k: (v or "").strip() for k, v in row.items()}
            yield _row(path, line, cells, keys)


def _row(
    path: Path, line: int, cells: dict[str, str], keys: dict[tuple[str, str | None], int]
) -> tuple[Method | None, IndicatorSeries]:
    """One CSV row; the error names the line, the id and the column at fault."""
    label = f"{path}, line {line} (id {cells.get('id', '')!r})"
    column = "id"
    try:
        if not cells["id"]:
            raise ValueError("is empty")
        region = cells.get("region") or None
        if (cells["id"], region) in keys:
            raise ValueError(f"repeats line {keys[cells['id'], region]} (same id and region)")
        keys[cells["id"], region] = line
        column = "method"
        method = _optional(cells.get("method", ""), parse_method)
        column = "direction"
        if not cells["direction"]:
            raise ValueError("is empty (increase or decrease)")
        direction = parse_direction(cells["direction"])
        column = "target"
        target = _optional(cells.get("target", ""), lambda t: parse_number(t, "target"))
        column = "target_year"
        target_year = _optional(cells.get("target_year", ""), lambda t: parse_year(t, "year"))
        if target is not None and target_year is None:
            raise ValueError("is empty, but a target needs a target year")
        column = "base_year"
        base_year = _optional(cells.get("base_year", ""), lambda t: parse_year(t, "year"))
        column = "limit"
        limit = _optional(cells.get("limit", ""), lambda t: parse_number(t, "limit"))
        column = "series"
        points = parse_series(cells["series"])
    except ValueError as e:
        raise ValueError(f"{label}, column {column!r}: {e}") from None
    series = IndicatorSeries.of(
        points,
        direction,
        target=target,
        target_year=target_year,
        base_year=base_year,
        limit=limit,
        id=cells["id"],
        region=region,
    )
    return method, series


def _pct(x: float) -> str:
    return f"{x * 100:.2f} %/yr"


def describe(a: Assessment) -> str:
    """A readable sentence (or three) for one assessment."""
    label = a.status.replace("_", " ")
    who = f"{a.id}: " if a.id else ""
    if a.region:
        who = f"{who}[{a.region}] "
    head = f"{who}{label} ({a.method}: {a.category.replace('_', ' ')})"
    if a.reason and a.forecast is None:
        return f"{head}. {a.reason}."
    parts = [head + "."]
    since = "" if a.base_year is None else f" from {format_time(a.base_year)}"
    goal = "" if a.target is None else f" to reach {a.target:g} by {a.target_year}"
    if a.cagr_observed is not None and a.method == "statcan":
        text = f"Compound annual growth {_pct(a.cagr_observed)}{since}"
        if a.cagr_required is not None:
            text += f" against {_pct(a.cagr_required)} needed{goal}"
        parts.append(text + ".")
    if a.change_observed is not None and a.method == "sdsn":
        text = f"Linear change {a.change_observed:+.4g}/yr{since}"
        if a.change_required is not None:
            text += f" against {a.change_required:+.4g}/yr needed{goal}"
        parts.append(text + ".")
    if a.forecast is not None:
        f = a.forecast
        text = (
            f"Forecast for {format_time(f.year)}: {f.value:.4g} ({f.level * 100:g} % interval "
            f"{f.low:.4g} to {f.high:.4g}; {f.model} trend of {f.n_points} points)"
        )
        if f.probability is not None and a.target is not None:
            text += f"; probability of reaching {a.target:g}: {f.probability * 100:.0f} %"
        parts.append(text + ".")
    numbers = []
    if a.ratio is not None:
        numbers.append(f"ratio {a.ratio:.3g}")
    if a.score is not None:
        numbers.append(f"score {a.score:.2f} on -5..5")
    if a.coefficient is not None:
        numbers.append(f"limit coefficient {a.coefficient:.3g}")
    if numbers:
        parts.append("; ".join(numbers).capitalize() + ".")
    if a.latest_year is not None and a.latest_value is not None:
        parts.append(f"Latest: {a.latest_value:g} in {format_time(a.latest_year)}.")
    if a.reason:
        parts.append(a.reason[0].upper() + a.reason[1:] + ".")
    parts.extend(f"Note: {n}." for n in a.notes)
    return " ".join(parts)


def _flat(a: Assessment) -> dict[str, object]:
    d = a.to_dict()
    f = a.forecast
    row: dict[str, object] = {k: d.get(k) for k in OUTPUT_COLUMNS}
    row["forecast_value"] = None if f is None else f.value
    row["forecast_low"] = None if f is None else f.low
    row["forecast_high"] = None if f is None else f.high
    row["probability"] = None if f is None else f.probability
    row["notes"] = "; ".join(a.notes)
    return row


def to_csv(results: list[Assessment]) -> str:
    """One CSV row per assessment (``OUTPUT_COLUMNS``), empty cells where undefined."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OUTPUT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for a in results:
        writer.writerow({k: ("" if v is None else v) for k, v in _flat(a).items()})
    return buffer.getvalue()


def register(app: typer.Typer) -> None:
    """Add the ``assess`` command to ``app``."""
    app.command("assess")(assess_command)


def assess_command(
    series: Annotated[
        str | None,
        typer.Option(help="Observations as YEAR:VALUE,... e.g. 2015:20,2016:19.5"),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option(
            "--csv",
            exists=True,
            dir_okay=False,
            readable=True,
            help=f"Many indicators, one per row; columns {', '.join(CSV_COLUMNS)}",
        ),
    ] = None,
    method: Annotated[
        MethodChoice, typer.Option(help="statcan (Open SDG), sdsn (SDR trends) or projection")
    ] = MethodChoice.statcan,
    direction: Annotated[
        DirectionChoice | None, typer.Option(help="Which way is good (with --series)")
    ] = None,
    target: Annotated[float | None, typer.Option(help="Target value")] = None,
    target_year: Annotated[int | None, typer.Option(help="Year the target is due")] = None,
    base_year: Annotated[
        int | None, typer.Option(help="Start of the assessed period \\[default: first point]")
    ] = None,
    limit: Annotated[
        float | None, typer.Option(help="Natural maximum or minimum, e.g. 100 for a share")
    ] = None,
    id: Annotated[str, typer.Option("--id", help="Name for the indicator")] = "",
    model: Annotated[
        ModelChoice, typer.Option(help="Projection trend: linear or loglinear")
    ] = ModelChoice.linear,
    half_life: Annotated[
        float,
        typer.Option(help="Projection weights halve every N years back; 0 = unweighted"),
    ] = DEFAULT_HALF_LIFE,
    level: Annotated[
        float, typer.Option(help="Projection prediction-interval level, e.g. 0.9")
    ] = DEFAULT_LEVEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Is an indicator on track to reach its target by the deadline?"""
    if (series is None) == (csv_file is None):
        raise typer.BadParameter("give exactly one of --series or --csv")
    if not 0 < level < 1:
        raise typer.BadParameter(f"{level} is not between 0 and 1", param_hint="--level")
    if half_life < 0 or not math.isfinite(half_life):
        raise typer.BadParameter(f"{half_life} must be 0 or more years", param_hint="--half-life")
    model_: ProjectionModel = "loglinear" if model is ModelChoice.loglinear else "linear"
    half_life_ = half_life or None  # 0 means unweighted

    def run(s: IndicatorSeries, m: Method) -> Assessment:
        return assess(s, m, model=model_, half_life=half_life_, level=level)

    if csv_file is not None:
        for flag, value in (("--direction", direction), ("--target", target), ("--limit", limit)):
            if value is not None:
                raise typer.BadParameter(f"{flag} goes in the CSV's columns, not with --csv")
        try:
            rows = list(read_csv(csv_file))
        except (ValueError, UnicodeDecodeError, csv.Error) as e:
            raise typer.BadParameter(str(e), param_hint="--csv") from None
        results = [run(s, m or parse_method(method.value)) for m, s in rows]
        if as_json:
            typer.echo(json.dumps([r.to_dict() for r in results], indent=2))
        else:
            typer.echo(to_csv(results), nl=False)
        return
    assert series is not None
    if direction is None:
        raise typer.BadParameter("is required with --series", param_hint="--direction")
    if target is not None and target_year is None:
        raise typer.BadParameter("a target needs --target-year", param_hint="--target")
    for name, value in (("--target", target), ("--limit", limit)):
        if value is not None and not math.isfinite(value):
            raise typer.BadParameter(f"{value} is not a finite number", param_hint=name)
    try:
        points = parse_series(series)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--series") from None
    one = IndicatorSeries.of(
        points,
        parse_direction(direction.value),
        target=target,
        target_year=target_year,
        base_year=base_year,
        limit=limit,
        id=id,
    )
    result = run(one, parse_method(method.value))
    typer.echo(json.dumps(result.to_dict(), indent=2) if as_json else describe(result))
