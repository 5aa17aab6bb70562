"""`missionkit`: set up, serve, import, export, check and look at mission maps."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from missionkit.cli.access import register as register_access
from missionkit.cli.assess import register as register_assess
from missionkit.cli.common import DatabaseOption, cli_actor, err, out
from missionkit.cli.common import open_db as _open
from missionkit.cli.common import print_problems as _print_problems
from missionkit.cli.common import progress_bar as _progress
from missionkit.cli.experiment import register as register_experiment
from missionkit.cli.mapping import register as register_mapping
from missionkit.domain.problems import InvalidInput
from missionkit.services import accounts, maps, portfolio, progress
from missionkit.services.errors import NotFound
from missionkit.services.export import export_document
from missionkit.services.portfolio_report import (
    REPORT_FORMATS,
    render_html,
    render_markdown,
    render_xlsx,
)
from missionkit.services.transfer import check_document, import_document

app = typer.Typer(
    help="missionkit: turn a bold, time-bound goal into a portfolio that pulls toward it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
register_assess(app)
register_access(app)
register_experiment(app)
register_mapping(app)


@app.command()
def init(database: DatabaseOption = None) -> None:
    """Create the database (or bring its schema up to date)."""
    db = _open(database)
    out.print(f"Database ready: {db.url}")


@app.command()
def serve(
    database: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API and pages (http://HOST:PORT, API docs at /docs)."""
    import uvicorn

    from missionkit.api.app import create_app

    db = _open(database)
    out.print(f"missionkit on http://{host}:{port}  (database {db.url}; Ctrl+C to stop)")
    uvicorn.run(create_app(db), host=host, port=port, log_level="info")


def _default_data_dir() -> Path | None:
    env = os.environ.get("MISSIONKIT_DATA_DIR")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[3]
    candidates += [Path.cwd() / "../shared/data", repo / "../shared/data"]
    for candidate in candidates:
        if (candidate / "eu-adaptation-mission" / "projects.csv").is_file():
            return candidate.resolve()
    return None


@app.command()
def demo(
    database: DatabaseOption = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder of the real data sets "
            "\\[env: MISSIONKIT_DATA_DIR; default: ../shared/data]"
        ),
    ] = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve it when built.")
    ] = True,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Build the demo missions from real public data, then serve them."""
    from missionkit.demo.build import build_demo_document
    from missionkit.demo.pilots import run_demo_pilots

    folder = data_dir or _default_data_dir()
    if folder is None or not folder.is_dir():
        err.print("[red]Demo data not found.[/red] Pass --data-dir (the shared/data folder).")
        raise typer.Exit(2)
    db = _open(database)
    document = build_demo_document(folder)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        try:
            report = import_document(db, path, replace=True, actor=cli_actor("import"))
        except InvalidInput as e:
            _print_problems(e.problems)
            raise typer.Exit(1) from None
    pilots = run_demo_pilots(db, cli_actor("import"))
    out.print(
        f"Demo ready in {db.url}: missions {', '.join(report.missions)}; "
        f"{report.activities} activities, {report.organisations} organisations; "
        f"pilots {', '.join(pilots)}."
    )
    with db.transaction() as session:
        admin = accounts.first_admin(session, actor=cli_actor())
    if admin is not None:
        out.print(
            f"Administrator [bold]{admin.user['username']}[/bold], password (shown once, "
            f"not stored): {admin.password}"
        )
    if serve_after:
        serve(database=db.url, host=host, port=port)


@app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A mission-map JSON document.")
    ],
    database: DatabaseOption = None,
    replace: Annotated[bool, typer.Option(help="Replace missions that already exist.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Activities written per batch.")] = 2000,
) -> None:
    """Import a mission-map document; all or nothing, every problem listed."""
    db = _open(database)
    with _progress("Importing activities") as bar:
        task = bar.add_task("import", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            report = import_document(
                db,
                file,
                replace=replace,
                progress=advance,
                batch_size=batch_size,
                actor=cli_actor("import"),
            )
        except InvalidInput as e:
            bar.stop()
            _print_problems(e.problems)
            err.print("Nothing was written.")
            raise typer.Exit(1) from None
    out.print(
        f"Imported {len(report.missions)} mission(s) ({', '.join(report.missions)}), "
        f"{report.activities} activities, {report.organisations} organisations, {report.rows} rows."
    )


@app.command()
def export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write \\[default: standard output]."),
    ] = None,
    mission: Annotated[
        list[str] | None, typer.Option("--mission", "-m", help="Only this mission (repeatable).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Export missions as a mission-map JSON document (lossless; re-importable)."""
    db = _open(database)
    try:
        if output is None:
            export_document(db, sys.stdout, mission)
            return
        with _progress("Exporting activities") as bar, output.open("w", encoding="utf-8") as f:
            task = bar.add_task("export", total=None)
            count = export_document(
                db, f, mission, progress=lambda d, t: bar.update(task, completed=d, total=t)
            )
    except InvalidInput as e:
        _print_problems(e.problems)
        raise typer.Exit(1) from None
    err.print(f"Wrote {count} activities to {output}")


@app.command()
def check(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A mission-map JSON document.")
    ],
    database: DatabaseOption = None,
    against_database: Annotated[
        bool,
        typer.Option(help="Also accept references to organisations and missions already stored."),
    ] = False,
) -> None:
    """Validate a mission-map document without writing; list every problem with its path."""
    db = _open(database) if against_database else None
    problems = check_document(file, db)
    if problems:
        _print_problems(problems)
        raise typer.Exit(1)
    out.print(f"{file}: no problems found.")


def _money(amounts: dict[str, Any]) -> str:
    return (
        ", ".join(f"{currency} {float(v):,.0f}" for currency, v in amounts.items()) or "no budget"
    )


@app.command()
def tree(
    mission: Annotated[str, typer.Argument(help="Mission slug or id.")],
    database: DatabaseOption = None,
    limit: Annotated[int, typer.Option(min=0, help="Activities shown per objective.")] = 10,
) -> None:
    """Show a mission map in the terminal: objectives, activities, work items, indicators."""
    db = _open(database)
    with db.reading() as session:
        try:
            data = maps.mission_map(session, mission)
        except NotFound as e:
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
    m, summary = data["mission"], data["summary"]
    root = Tree(
        f"[bold]{escape(m['title'])}[/bold] ({m['slug']}) · deadline {m['deadline']} · "
        f"{summary['activities']} activities · {_money(summary['public_contribution'])}"
    )
    _indicators(root, data["indicators"])
    for objective in data["objectives"]:
        _objective(root, objective, limit)
    if data["unmapped_activities"]:
        root.add(
            f"[yellow]{len(data['unmapped_activities'])} activities serve no objective[/yellow]"
        )
    # In a pipe or a file there is no screen width to respect: do not crop the lines.
    screen = out if sys.stdout.isatty() else Console(soft_wrap=True, width=250)
    screen.print(root)


def _indicators(node: Tree, indicators: list[dict[str, Any]]) -> None:
    for i in indicators:
        latest = i["latest_observation"]
        now = f"{latest['value']:g} ({latest['date']})" if latest else "no data"
        target = (
            f"{i['target_value']:g} by {i['target_date']}"
            if i["target_value"] is not None
            else "no target"
        )
        node.add(escape(f"📈 {i['name']}: {now} → target {target} {i['unit']}"), highlight=False)


def _objective(parent: Tree, o: dict[str, Any], limit: int) -> None:
    node = parent.add(
        f"[bold cyan]{o['title']}[/bold cyan] ({o['slug']}) · {len(o['activities'])} activities"
    )
    _indicators(node, o["indicators"])
    for a in o["activities"][:limit]:
        child = node.add(
            f"{a['identifier']} {a['title']} · {a['instrument']} · weight {a['weight']:g}",
            highlight=False,
        )
        for w in a["work_items"]:
            child.add(
                escape(f"{w['tracker']}:{w['key']} {w['title']} [{w['status']}]"), highlight=False
            )
    if len(o["activities"]) > limit:
        node.add(f"… and {len(o['activities']) - limit} more")
    for c in o["children"]:
        _objective(node, c, limit)


@app.command()
def status(
    mission: Annotated[str, typer.Argument(help="Mission slug or id.")],
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    as_of: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Judge as of this date.")
    ] = None,
) -> None:
    """Is the mission on track? Indicators, objectives and the mission, with what drives it."""
    db = _open(database)
    with db.reading() as session:
        try:
            result = progress.mission_progress(
                session,
                mission,
                as_of.date() if as_of else None,
            )
        except NotFound as e:
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
    if as_json:
        out.print_json(json.dumps(result, default=str))
        return
    overall = result["progress"]
    out.print(
        f"{result['mission']['title']}: {_label(overall)}; driven by "
        f"{', '.join(overall['drivers']) or 'nothing assessed'} (as of {result['as_of']})",
        highlight=False,
    )
    for indicator in result["indicators"]:
        _print_indicator(indicator, "  ")
    for objective in result["objectives"]:
        _print_objective(objective, "  ")
    if result["overdue"]:
        out.print(f"Overdue data: {', '.join(result['overdue'])}", highlight=False)


def _label(rolled: dict[str, Any]) -> str:
    score = rolled["score"]
    return str(rolled["status"]).replace("_", " ") + (
        f" (score {score:+.2f})" if score is not None else ""
    )


def _print_indicator(indicator: dict[str, Any], indent: str) -> None:
    a = indicator["assessment"]
    detail = f" — {a['reason']}" if a.get("reason") else ""
    late = " [overdue]" if (indicator["staleness"] or {}).get("overdue") else ""
    out.print(
        f"{indent}indicator {indicator['slug']}: {_label(a)} "
        f"by {indicator['method']}{late}{detail}",
        highlight=False,
        markup=False,
    )


def _print_objective(objective: dict[str, Any], indent: str) -> None:
    out.print(
        f"{indent}objective {objective['slug']}: {_label(objective['progress'])}",
        highlight=False,
        markup=False,
    )
    for indicator in objective["indicators"]:
        _print_indicator(indicator, indent + "  ")
    for child in objective["children"]:
        _print_objective(child, indent + "  ")


portfolio_app = typer.Typer(help="Portfolio analyses: coverage, directionality, balance, network.")
app.add_typer(portfolio_app, name="portfolio")


@portfolio_app.command("report")
def portfolio_report(
    mission: Annotated[str, typer.Argument(help="Mission slug or id.")],
    database: DatabaseOption = None,
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(REPORT_FORMATS)}.")
    ] = "md",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write \\[default: standard output]."),
    ] = None,
    level: Annotated[
        str,
        typer.Option(
            "--level",
            help="Where spatial equity is measured: country, nuts1, nuts2, nuts3, subdivision "
            "(regions need populations at that level).",
        ),
    ] = "country",
) -> None:
    """A report a board can read: headline findings first, then charts and tables."""
    from missionkit.portfolio.types import SPATIAL_LEVELS

    if format not in REPORT_FORMATS:
        raise typer.BadParameter(
            f"must be one of {', '.join(REPORT_FORMATS)}", param_hint="--format"
        )
    if level not in SPATIAL_LEVELS:
        raise typer.BadParameter(
            f"must be one of {', '.join(SPATIAL_LEVELS)}", param_hint="--level"
        )
    db = _open(database)
    with db.reading() as session, err.status("Analysing the portfolio ..."):
        try:
            report = portfolio.portfolio_analysis(session, mission, level=level)
        except NotFound as e:
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
    if format == "xlsx":
        if output is None:
            raise typer.BadParameter("XLSX is binary: give a file", param_hint="--output")
        output.write_bytes(render_xlsx(report))
        err.print(f"Wrote {output}")
        return
    renderers = {"md": render_markdown, "html": render_html}
    text = (
        json.dumps(report, default=str, indent=2, ensure_ascii=False) + "\n"
        if format == "json"
        else renderers[format](report)
    )
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}")
