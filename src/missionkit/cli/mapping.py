"""`missionkit map` and `missionkit map-portfolio`: which objectives or SDGs texts serve.

`map` streams a table of texts of any size (CSV with any usual delimiter, TSV, .xlsx,
JSON Lines; read by `missionkit.services.text_table`) through the mapping engine in
batches and writes ``id,labels,scores`` (CSV, JSON Lines or .xlsx) as it goes, so memory
stays bounded and an interrupted run can be resumed with ``--resume``. `map-portfolio`
suggests contributions for every activity of a stored mission (provenance "suggested",
with the score) for reviewers to accept or reject.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from missionkit.cli.common import DatabaseOption, cli_actor, err
from missionkit.cli.common import open_db as _open
from missionkit.cli.common import progress_bar as _progress
from missionkit.domain.problems import InvalidInput
from missionkit.mapping import EmbedderUnavailable, Mapper, Taxonomy, get_embedder
from missionkit.services.errors import NotFound
from missionkit.services.map_results import map_records, open_results, resume_point
from missionkit.services.text_table import (
    DEFAULT_ENCODING,
    Checked,
    TableError,
    TextTable,
    open_table,
    parse_delimiter,
)


class MethodChoice(StrEnum):
    combined = "combined"
    keyword = "keyword"
    embedding = "embedding"


class EmbedderChoice(StrEnum):
    static = "static"
    minilm = "minilm"


def register(app: typer.Typer) -> None:
    """Add the ``map`` and ``map-portfolio`` commands to ``app``."""
    app.command("map")(map_command)
    app.command("map-portfolio")(map_portfolio_command)


def _taxonomy(spec: str, database: str | None) -> Taxonomy:
    from missionkit.services.mapping import resolve_taxonomy

    db = _open(database) if spec.startswith("mission:") else None
    try:
        if db is None:
            return resolve_taxonomy(None, spec)
        with db.reading() as session:
            return resolve_taxonomy(session, spec)
    except (InvalidInput, NotFound) as e:
        raise typer.BadParameter(str(e), param_hint="--taxonomy") from None


def _refused(e: TableError) -> typer.BadParameter:
    return typer.BadParameter(str(e), param_hint=e.option)


def _check_input(table: TextTable, done: int, last_id: str | None) -> Checked:
    """Read the whole input once (ids, cells, the resume position) before writing."""
    with _progress(f"Checking {escape(table.path.name)}") as bar:
        task = bar.add_task("check", total=table.estimated_rows)
        try:
            checked = table.check(
                resume_at=(done, last_id), progress=lambda n: bar.update(task, completed=n)
            )
        except TableError as e:
            raise _refused(e) from None
        bar.update(task, completed=checked.rows, total=checked.rows)
    return checked


def map_command(
    input: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Texts with an id: CSV (delimiter detected), .tsv, .xlsx or .jsonl.",
        ),
    ],
    taxonomy: Annotated[
        str,
        typer.Option(help="sdg, mission:SLUG (from the database) or a CSV/JSON taxonomy file."),
    ] = "sdg",
    id_column: Annotated[
        str, typer.Option(help="Column (or JSON key) holding each row's id; ids must be unique.")
    ] = "id",
    text_column: Annotated[
        str, typer.Option(help="Column (or JSON key) holding the text; blank texts get no labels.")
    ] = "text",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write: .csv, .jsonl or .xlsx by extension (default: CSV to stdout).",
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Add an 'explanation' column: matched terms, nearest example.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            help="Continue an interrupted run: keep OUTPUT (.csv or .jsonl), skip rows done."
        ),
    ] = False,
    method: Annotated[
        MethodChoice, typer.Option(help="combined (default), keyword or embedding.")
    ] = MethodChoice.combined,
    embedder: Annotated[
        EmbedderChoice,
        typer.Option(help="static (built in) or minilm (needs missionkit\\[embeddings-minilm])."),
    ] = EmbedderChoice.static,
    allow_empty: Annotated[
        bool,
        typer.Option(help="Leave 'labels' empty when no label passes its threshold."),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts mapped per batch.")] = 1000,
    delimiter: Annotated[
        str | None,
        typer.Option(
            help="CSV delimiter: comma, semicolon, tab, pipe or one character "
            "(default: detected from the header line; tab for .tsv/.tab)."
        ),
    ] = None,
    encoding: Annotated[
        str,
        typer.Option(
            help="Text encoding of INPUT, e.g. cp1252 for Excel on Windows (a byte-order "
            "mark wins)."
        ),
    ] = DEFAULT_ENCODING,
    sheet: Annotated[
        str | None, typer.Option(help="Sheet of an .xlsx INPUT (default: the first).")
    ] = None,
    quotes: Annotated[
        bool,
        typer.Option(
            help="Read '\"' in a CSV/TSV INPUT as quoting (default) or, with --no-quotes, "
            "as text (plain tab-separated data whose texts hold stray quotes)."
        ),
    ] = True,
    database: DatabaseOption = None,
) -> None:
    """Map each row's text to labels; writes id,labels,scores (labels ';'-separated).

    The whole input is checked (encoding, columns, ids present and unique) before
    anything is written, so a refused input leaves no output.
    """
    if resume and output is None:
        raise typer.BadParameter("needs --output (the file to continue)", param_hint="--resume")
    if output is not None and output.resolve() == input.resolve():
        raise typer.BadParameter("would overwrite INPUT", param_hint="--output")
    try:
        separator = parse_delimiter(delimiter) if delimiter is not None else None
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--delimiter") from None
    try:
        table = open_table(
            input,
            id_column=id_column,
            text_column=text_column,
            delimiter=separator,
            encoding=encoding,
            sheet=sheet,
            quotes=quotes,
        )
        done, last_id = resume_point(output, explain=explain) if resume and output else (0, None)
    except TableError as e:
        raise _refused(e) from None
    tax = _taxonomy(taxonomy, database)
    checked = _check_input(table, done, last_id)
    try:
        vectors = None if method is MethodChoice.keyword else get_embedder(embedder.value)
        mapper = Mapper(tax, method=method.value, embedder=vectors)
    except EmbedderUnavailable as e:
        raise typer.BadParameter(str(e), param_hint="--embedder") from None
    records = islice(table.records(), done, None)
    writer = open_results(output, explain=explain, append=done > 0)
    written = 0
    complete = False
    try:
        with _progress("Mapping texts") as bar:
            task = bar.add_task("map", total=checked.rows, completed=done)
            for record, suggestion in map_records(
                mapper, records, batch_size=batch_size, at_least_one=not allow_empty
            ):
                writer.write(record.id, suggestion)
                written += 1
                if written % batch_size == 0:
                    writer.flush()
                    bar.update(task, completed=done + written)
            bar.update(task, completed=done + written)
        complete = True
    except TableError as e:  # the input changed since it was checked
        raise _refused(e) from None
    finally:
        writer.close(complete)
    if output is not None:
        blank = f"; {checked.blank_texts} blank texts got no labels" if checked.blank_texts else ""
        err.print(
            f"Mapped {written} texts ({done} already done) with {tax.name}; wrote {output}{blank}"
        )


def map_portfolio_command(
    mission: Annotated[str, typer.Argument(help="Mission slug or id.")],
    method: Annotated[
        MethodChoice, typer.Option(help="combined (default), keyword or embedding.")
    ] = MethodChoice.combined,
    embedder: Annotated[
        EmbedderChoice,
        typer.Option(help="static (built in) or minilm (needs missionkit\\[embeddings-minilm])."),
    ] = EmbedderChoice.static,
    at_least_one: Annotated[
        bool,
        typer.Option(help="Suggest each activity's best objective even below the threshold."),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Suggest which objectives each activity of a mission serves (for review)."""
    from missionkit.services.mapping import suggest_contributions

    db = _open(database)
    try:
        vectors = None if method is MethodChoice.keyword else get_embedder(embedder.value)
    except EmbedderUnavailable as e:
        raise typer.BadParameter(str(e), param_hint="--embedder") from None
    with _progress("Suggesting contributions") as bar:
        task = bar.add_task("suggest", total=None)
        try:
            with db.transaction() as session:
                report = suggest_contributions(
                    session,
                    mission,
                    method=method.value,
                    embedder=vectors,
                    progress=lambda d, t: bar.update(task, completed=d, total=t),
                    at_least_one=at_least_one,
                    actor=cli_actor(),
                )
        except (NotFound, InvalidInput) as e:
            bar.stop()
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from None
    typer.echo(
        f"{report.mission}: {report.suggested} suggested contributions for "
        f"{report.activities} activities ({report.replaced} earlier suggestions replaced, "
        f"{report.skipped_pairs} reviewed or rejected pairs left alone, reviewer decisions "
        f"used for {report.learned_from} objectives)."
    )
