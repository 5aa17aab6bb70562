"""`missionkit experiment`: analyse an A/B summary, a difference-in-differences panel, or
plan a design (thin layer over ``missionkit.experiments``), and randomise or read the
learning log of registered experiments (over ``services/experiments.py``); see
``docs/experiments.md``.

Bad input exits with code 2 and names the field (``arms.B.successes: must be <= n``) or the
CSV row and column.
"""

from __future__ import annotations

import csv
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.table import Table

from missionkit.cli.common import DatabaseOption, cli_actor, err, open_db, out
from missionkit.domain.problems import InvalidInput
from missionkit.experiments import ab, design, did
from missionkit.experiments.panel import callaway_santanna_plain, first_treated
from missionkit.experiments.plot import event_study_svg
from missionkit.experiments.types import Estimate, ExperimentInputError, to_plain
from missionkit.services import experiments as svc
from missionkit.services.errors import Conflict, NotFound

experiment_app = typer.Typer(
    help="Experiments: analyse A/B results and policy changes, plan sample sizes.",
    no_args_is_help=True,
)

ExistingFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, show_default=False)
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def register(app: typer.Typer) -> None:
    """Mount ``missionkit experiment ...`` on ``app``."""
    app.add_typer(experiment_app, name="experiment")


def _fail(message: str) -> NoReturn:
    err.print(f"[red]Error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:+.2%}" if pct else f"{x:+.4g}"


def _p(x: float) -> str:
    return "-" if not math.isfinite(x) else ("<0.0001" if x < 1e-4 else f"{x:.4f}")


def _interval(e: Estimate | None, pct: bool = False) -> str:
    if e is None:
        return "-"
    return f"[{_fmt(e.ci_low, pct)}, {_fmt(e.ci_high, pct)}]"


def _notes(warnings: tuple[str, ...] | list[str], assumptions: tuple[str, ...]) -> None:
    for w in warnings:
        out.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    for a in assumptions:
        out.print(f"[dim]assumes: {a}[/dim]", highlight=False)


@experiment_app.command("analyze-ab")
def analyze_ab(
    summary: ExistingFile,
    as_json: JsonFlag = False,
    sequential: Annotated[
        bool,
        typer.Option(
            "--sequential", help="Add always-valid intervals (results looked at repeatedly)"
        ),
    ] = False,
    tuning: Annotated[
        float, typer.Option(help="Sequential tuning: total sample where intervals are tightest")
    ] = 5000.0,
) -> None:
    """Compare each treatment arm of an A/B summary with the control.

    SUMMARY is JSON: {"control": "A", "alpha": 0.05, "arms": {"A": {"n": 3407, "sum":
    1396.87, "sum_squares": 52377.9}, "B": {...}}}. Each arm has n and either sum and
    sum_squares (a mean metric) or successes (a proportion); control defaults to the first
    arm, alpha to 0.05; optional "weights" give the planned split for the sample-ratio check.
    Mean arms with pre_sum, pre_sum_squares and sum_products are CUPED-adjusted.
    """
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        _fail(f"{summary}: not valid JSON ({e})")
    try:
        report = ab.analyse(
            ab.parse_summary(data), sequential_tuning=tuning if sequential else None
        )
    except ExperimentInputError as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps(to_plain(report), indent=2))
        return
    table = Table(
        title=f"{report.metric} metric, control {report.control} "
        f"(n={report.control_n}, mean={report.control_mean:.4g}), "
        f"{1 - report.alpha:.0%} intervals"
    )
    for col in ("arm", "n", "mean", "absolute (interval)", "p", "relative (interval)", "p ",
                "chance to win"):  # fmt: skip
        table.add_column(col, justify="left" if col == "arm" else "right")
    if sequential:
        table.add_column("always-valid (interval)", justify="right")
        table.add_column("p (always-valid)", justify="right")
    for a in report.arms:
        extra = []
        if a.sequential_absolute is not None:
            extra = [
                f"{_fmt(a.sequential_absolute.estimate)} {_interval(a.sequential_absolute)}",
                _p(a.sequential_absolute.p_value),
            ]
        table.add_row(
            a.arm,
            str(a.n),
            f"{a.mean:.4g}",
            f"{_fmt(a.absolute.estimate)} {_interval(a.absolute)}",
            _p(a.absolute.p_value),
            f"{_fmt(a.relative.estimate, True)} {_interval(a.relative, True)}"
            if a.relative
            else "-",
            _p(a.relative.p_value) if a.relative else "-",
            f"{a.chance_to_win:.1%}",
            *extra,
        )
    out.print(table)
    for a in report.arms:
        if a.variance_reduction is not None:
            out.print(
                f"CUPED {a.arm}: theta {a.cuped_theta:.4g}, variance reduced by "
                f"{a.variance_reduction:.0%}",
                highlight=False,
            )
    out.print(f"sample-ratio check: chi-square p = {_p(report.srm.p_value)}", highlight=False)
    _notes([*report.warnings, *(w for a in report.arms for w in a.warnings)], report.assumptions)


def _read_panel(path: Path, columns: dict[str, str]) -> tuple[dict[str, list[str]], int]:
    """The named CSV columns as strings; errors name the column or row."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for option, name in columns.items():
                if name not in header:
                    _fail(f"{path}: --{option} column {name!r} not found (columns: "
                          f"{', '.join(header)})")  # fmt: skip
            data: dict[str, list[str]] = {name: [] for name in columns.values()}
            rows = 0
            for rows, row in enumerate(reader, start=1):
                for option, name in columns.items():
                    value = (row.get(name) or "").strip()
                    if not value:
                        _fail(f"{path}: row {rows + 1}, column {name!r} (--{option}) is empty")
                    data[name].append(value)
    except UnicodeDecodeError as e:
        _fail(f"{path}: not UTF-8 text ({e})")
    if rows == 0:
        _fail(f"{path}: no data rows")
    return data, rows


def _numbers(path: Path, name: str, option: str, values: list[str]) -> list[float]:
    result = []
    for i, v in enumerate(values, start=2):
        try:
            x = float(v)
        except ValueError:
            _fail(f"{path}: row {i}, column {name!r} (--{option}): {v!r} is not a number")
        if not math.isfinite(x):
            _fail(f"{path}: row {i}, column {name!r} (--{option}): {v!r} is not finite")
        result.append(x)
    return result


class ControlChoice(StrEnum):
    never = "never"
    notyet = "notyet"


@experiment_app.command("did")
def did_command(
    data: ExistingFile,
    outcome: Annotated[str, typer.Option(help="Outcome column")],
    treated: Annotated[str, typer.Option(help="Treatment indicator column (1 = treated now)")],
    unit: Annotated[str, typer.Option(help="Unit id column (region, organisation...)")],
    time: Annotated[str, typer.Option(help="Period column")],
    cluster: Annotated[
        str | None, typer.Option(help="Cluster column for standard errors \\[default: unit]")
    ] = None,
    alpha: Annotated[float, typer.Option(help="1 - confidence level")] = 0.05,
    event_study: Annotated[
        bool,
        typer.Option(
            "--event-study", help="Add effects by period relative to adoption, pre-trend test"
        ),
    ] = False,
    staggered: Annotated[
        bool,
        typer.Option(
            "--staggered",
            help="Add Callaway-Sant'Anna group-time effects and aggregations (balanced panel)",
        ),
    ] = False,
    control_group: Annotated[
        ControlChoice, typer.Option(help="Comparison units for --staggered")
    ] = ControlChoice.never,
    plot: Annotated[
        Path | None,
        typer.Option(dir_okay=False, help="Write the event-study plot to this SVG file"),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Difference-in-differences with unit and period fixed effects (two-way fixed effects).

    DATA is a CSV panel with one row per unit and period. Standard errors are clustered by
    unit (or --cluster); fewer than ~30-50 clusters and staggered adoption are flagged.
    --event-study and --staggered need numeric periods; adoption is the first period a
    unit is treated.
    """
    columns = {"outcome": outcome, "treated": treated, "unit": unit, "time": time}
    if cluster:
        columns["cluster"] = cluster
    values, _ = _read_panel(data, columns)
    y = _numbers(data, outcome, "outcome", values[outcome])
    d = _numbers(data, treated, "treated", values[treated])
    try:
        result = did.twfe(
            y,
            d,
            values[unit],
            values[time],
            cluster=values[cluster] if cluster else None,
            cluster_name=cluster or unit,
            alpha=alpha,
        )
    except ExperimentInputError as problem:
        _fail(str(problem))
    extra: dict[str, Any] = {}
    event_study = event_study or plot is not None
    if event_study or staggered:
        periods = _numbers(data, time, "time", values[time])
        first = first_treated(values[unit], periods, d)
        try:
            if event_study:
                extra["event_study"] = did.event_study(
                    y, values[unit], periods, first, cluster=values[cluster] if cluster else None,
                    alpha=alpha,
                )  # fmt: skip
            if staggered:
                extra["callaway_santanna"] = did.callaway_santanna(
                    y, values[unit], periods, first, control_group=control_group.value,
                    alpha=alpha,
                )  # fmt: skip
        except ExperimentInputError as problem:
            _fail(str(problem))
    if plot is not None:
        plot.write_text(
            event_study_svg(extra["event_study"], title=f"Event study: {outcome}"),
            encoding="utf-8",
        )
        err.print(f"Event-study plot written to {plot}", highlight=False)
    if as_json:
        plain = to_plain(result)
        if "event_study" in extra:
            plain["event_study"] = to_plain(extra["event_study"])
        if "callaway_santanna" in extra:
            plain["callaway_santanna"] = callaway_santanna_plain(extra["callaway_santanna"], alpha)
        typer.echo(json.dumps(plain, indent=2))
        return
    e = result.estimate
    table = Table(title=f"Two-way fixed effects DiD: {outcome} on {treated}")
    cols = ["estimate", "std. error", f"{1 - alpha:.0%} interval", "p", "clusters", "rows"]
    if result.bootstrap is not None:
        cols.insert(4, "p (wild bootstrap)")
    for col in cols:
        table.add_column(col, justify="right")
    cells = [
        f"{e.estimate:.4g}",
        f"{e.se:.4g}",
        f"[{e.ci_low:.4g}, {e.ci_high:.4g}]",
        _p(e.p_value),
        f"{result.n_clusters} ({result.cluster})",
        str(result.n_obs),
    ]
    if result.bootstrap is not None:
        cells.insert(4, _p(result.bootstrap.p_value))
    table.add_row(*cells)
    out.print(table)
    _notes(result.warnings, result.assumptions)
    if "event_study" in extra:
        es: did.EventStudyResult = extra["event_study"]
        t2 = Table(title=f"Event study (reference period {es.reference})")
        for col in ("event time", "estimate", "std. error", "interval", "p"):
            t2.add_column(col, justify="right")
        for eff in es.effects:
            x = eff.estimate
            t2.add_row(str(eff.event_time), f"{x.estimate:.4g}", f"{x.se:.4g}",
                       _interval(x), _p(x.p_value))  # fmt: skip
        out.print(t2)
        if es.pretrend_p_value is not None:
            out.print(f"pre-trend test (leads jointly 0): p = {_p(es.pretrend_p_value)}")
        _notes(es.warnings, ())
    if "callaway_santanna" in extra:
        cs: did.CallawaySantAnnaResult = extra["callaway_santanna"]
        t3 = Table(title=f"Callaway-Sant'Anna ({cs.control_group}-treated comparison)")
        for col in ("aggregation", "ATT", "std. error", "interval", "p"):
            t3.add_column(col, justify="right")
        for kind in ("simple", "group", "dynamic", "calendar"):
            agg = cs.aggregate(kind, alpha=alpha).overall
            t3.add_row(kind, f"{agg.estimate:.4g}", f"{agg.se:.4g}", _interval(agg),
                       _p(agg.p_value))  # fmt: skip
        out.print(t3)
        if cs.pretrend_p_value is not None:
            out.print(f"pre-test of parallel trends: p = {_p(cs.pretrend_p_value)}")
        _notes(cs.warnings, cs.assumptions)


class MetricChoice(StrEnum):
    mean = "mean"
    proportion = "proportion"


@experiment_app.command("power")
def power_command(
    metric: Annotated[MetricChoice, typer.Option(help="mean or proportion")],
    effect: Annotated[
        float | None,
        typer.Option(help="Absolute effect to detect (difference in means, or p2 - p1)"),
    ] = None,
    n: Annotated[
        int | None, typer.Option("--n", help="Units in the control arm (treatment: n x ratio)")
    ] = None,
    power: Annotated[float | None, typer.Option(help="Target power \\[default: 0.8]")] = None,
    sd: Annotated[float | None, typer.Option(help="Outcome standard deviation (means)")] = None,
    baseline: Annotated[float | None, typer.Option(help="Control proportion (proportions)")] = None,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level")] = 0.05,
    ratio: Annotated[float, typer.Option(help="Treatment size / control size")] = 1.0,
    icc: Annotated[float, typer.Option(help="Intra-cluster correlation")] = 0.0,
    cluster_size: Annotated[float, typer.Option(help="Units per randomised cluster")] = 1.0,
    as_json: JsonFlag = False,
) -> None:
    """Power, sample size or minimum detectable effect of a two-arm design.

    Give two of --effect, --n and --power (power defaults to 0.8): effect + power gives the
    sample size, n + power the minimum detectable effect, effect + n the power.
    """
    if power is None and (effect is None or n is None):
        power = 0.8
    kwargs: dict[str, Any] = {
        "effect": effect,
        "n_control": n,
        "power": power,
        "alpha": alpha,
        "ratio": ratio,
        "icc": icc,
        "cluster_size": cluster_size,
    }
    try:
        if metric is MetricChoice.mean:
            if sd is None:
                _fail("--sd is required for a mean metric")
            result = design.means(sd=sd, **kwargs)
        else:
            if baseline is None:
                _fail("--baseline is required for a proportion metric")
            result = design.proportions(baseline=baseline, **kwargs)
    except ExperimentInputError as e:
        _fail(str(e))
    if as_json:
        typer.echo(json.dumps({**to_plain(result), "n_total": result.n_total}, indent=2))
        return
    table = Table(title=f"Design for a {metric.value} metric (solved for {result.solved_for})")
    for col in ("power", "effect", "control n", "treatment n", "total", "design effect",
                "clusters"):  # fmt: skip
        table.add_column(col, justify="right")
    clusters = (
        f"{result.clusters_control} + {result.clusters_treatment}"
        if result.clusters_control is not None
        else "-"
    )
    table.add_row(
        f"{result.power:.3f}",
        f"{result.effect:.4g}",
        str(result.n_control),
        str(result.n_treatment),
        str(result.n_total),
        f"{result.design_effect:.3g}",
        clusters,
    )
    out.print(table)
    _notes(result.warnings, result.assumptions)


def _service_error(e: Exception) -> NoReturn:
    if isinstance(e, InvalidInput):
        for problem in e.problems:
            err.print(f"  {problem}", markup=False, highlight=False)
        _fail(f"{len(e.problems)} problem(s) in the input")
    if isinstance(e, NotFound | Conflict):
        err.print(f"[red]Error:[/red] {e}", highlight=False)
        raise typer.Exit(1)
    raise e


@experiment_app.command("randomise")
def randomise_command(
    experiment: Annotated[int, typer.Argument(help="Experiment id")],
    units: ExistingFile,
    seed: Annotated[int, typer.Option(min=0, help="Random seed (record it: it reproduces)")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="Assignment CSV \\[default: stdout]"),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Assign a registered experiment's units to arms, by its locked plan, and export the CSV.

    UNITS is a CSV with a 'unit' column and, for stratified or clustered plans, 'stratum'
    or 'cluster'. The assignment is stored once and never redrawn; the same seed and units
    always give the same arms.
    """
    rows: list[dict[str, str]] = []
    try:
        with units.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if "unit" not in (reader.fieldnames or []):
                _fail(f"{units}: no 'unit' column (columns: {', '.join(reader.fieldnames or [])})")
            for row in reader:
                item = {"unit": (row.get("unit") or "").strip()}
                for key in ("stratum", "cluster"):
                    if (row.get(key) or "").strip():
                        item[key] = (row.get(key) or "").strip()
                rows.append(item)
    except UnicodeDecodeError as e:
        _fail(f"{units}: not UTF-8 text ({e})")
    db = open_db(database)
    try:
        with db.transaction() as session:
            result = svc.randomise_units(
                session, experiment, {"seed": seed, "units": rows}, cli_actor()
            )
        with db.reading() as session:
            text = svc.assignments_csv(session, experiment)
    except (InvalidInput, NotFound, Conflict) as e:
        _service_error(e)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{arm} {n}" for arm, n in result["counts"].items())
    err.print(
        f"Assigned {len(rows)} units under plan version {result['plan']} (seed {seed}): "
        f"{counts}; sample-ratio p = {_p(result['sample_ratio_p_value'])}",
        highlight=False,
    )
    for w in result["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


@experiment_app.command("learning")
def learning_command(
    mission: Annotated[str, typer.Argument(help="Mission slug or id")],
    database: DatabaseOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The mission's learning log: each decided experiment, the decision, who, and the learning."""
    db = open_db(database)
    try:
        with db.reading() as session:
            log = svc.mission_learning(session, mission)
    except NotFound as e:
        _service_error(e)
    if as_json:
        typer.echo(json.dumps(log, indent=2))
        return
    table = Table(title=f"What {mission} has learnt")
    for col in ("decided", "experiment", "stage", "decision", "by", "learning"):
        table.add_column(col)
    for d in log:
        table.add_row(
            d["decided_on"], d["experiment"], d["stage"], d["decision"], d["decided_by"],
            d["learning"],
        )  # fmt: skip
    out.print(table)
