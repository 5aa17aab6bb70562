"""`missionkit map` and `missionkit map-portfolio`: which objectives or SDGs texts serve.

`map` streams a CSV of any size through the mapping engine in batches and writes
``id,labels,scores`` as it goes, so memory stays bounded and an interrupted run can be
resumed with ``--resume``. `map-portfolio` suggests contributions for every activity of a
stored mission (provenance "suggested", with the score) for reviewers to accept or reject.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from missionkit.cli.common import DatabaseOption, cli_actor, err
from missionkit.cli.common import open_db as _open
from missionkit.cli.common import progress_bar as _progress
from missionkit.domain.problems import InvalidInput
from missionkit.mapping import EmbedderUnavailable, Mapper, Taxonomy, get_embedder
from missionkit.services.errors import NotFound


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


def count_rows(path: Path) -> int:
    """Lines after the header (fast byte count; a cell with line breaks over-counts)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, lines + (last != b"\n") - 1)


def resume_point(output: Path) -> tuple[int, str | None]:
    """Rows already written to ``output`` and the last id; cuts a half-written last line."""
    if not output.is_file() or output.stat().st_size == 0:
        return 0, None
    with output.open("rb+") as f:
        data = f.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # the run stopped in the middle of a line: drop that line
            f.truncate(end)
    text = data[:end].decode("utf-8")
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return 0, None
    if rows[0][:3] != ["id", "labels", "scores"]:
        raise typer.BadParameter(f"{output} is not an output of 'missionkit map'")
    body = rows[1:]
    return len(body), (body[-1][0] if body else None)


def check_columns(path: Path, id_column: str, text_column: str) -> None:
    """Fail before anything is written when a named column is not in the header."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f), [])
    for column, option in ((id_column, "--id-column"), (text_column, "--text-column")):
        if column not in header:
            raise typer.BadParameter(
                f"{path} has no column {column!r} (columns: {', '.join(header)})",
                param_hint=option,
            )


def read_records(
    path: Path, id_column: str, text_column: str, skip: int, last_id: str | None
) -> Iterator[tuple[str, str]]:
    """(id, text) pairs streamed from ``path``; the first ``skip`` rows are passed over."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        for n, row in enumerate(reader, start=1):
            if n <= skip:
                if n == skip and row[id_column] != last_id:
                    raise typer.BadParameter(
                        f"row {skip} of {path} has id {row[id_column]!r}, but the output ends "
                        f"with {last_id!r}: the output belongs to another input",
                        param_hint="--resume",
                    )
                continue
            identifier = (row.get(id_column) or "").strip()
            if not identifier:
                raise typer.BadParameter(
                    f"{path}, line {reader.line_num}: column {id_column!r} is empty",
                    param_hint="--id-column",
                )
            yield identifier, row.get(text_column) or ""


def map_command(
    input: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV with an id and a text column.")
    ],
    taxonomy: Annotated[
        str,
        typer.Option(help="sdg, mission:SLUG (from the database) or a CSV/JSON taxonomy file."),
    ] = "sdg",
    id_column: Annotated[str, typer.Option(help="Column holding each row's id.")] = "id",
    text_column: Annotated[str, typer.Option(help="Column holding the text to map.")] = "text",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="CSV to write (default: standard output)."),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Add an 'explanation' column: matched terms, nearest example.")
    ] = False,
    resume: Annotated[
        bool, typer.Option(help="Continue an interrupted run: keep OUTPUT, skip rows done.")
    ] = False,
    method: Annotated[
        MethodChoice, typer.Option(help="combined (default), keyword or embedding.")
    ] = MethodChoice.combined,
    embedder: Annotated[
        EmbedderChoice,
        typer.Option(help="static (built in) or minilm (needs missionkit[embeddings-minilm])."),
    ] = EmbedderChoice.static,
    allow_empty: Annotated[
        bool,
        typer.Option(help="Leave 'labels' empty when no label passes its threshold."),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts mapped per batch.")] = 1000,
    database: DatabaseOption = None,
) -> None:
    """Map each row's text to labels; writes id,labels,scores (labels ';'-separated)."""
    if resume and output is None:
        raise typer.BadParameter("needs --output (the file to continue)", param_hint="--resume")
    check_columns(input, id_column, text_column)
    tax = _taxonomy(taxonomy, database)
    try:
        vectors = None if method is MethodChoice.keyword else get_embedder(embedder.value)
        mapper = Mapper(tax, method=method.value, embedder=vectors)
    except EmbedderUnavailable as e:
        raise typer.BadParameter(str(e), param_hint="--embedder") from None
    done, last_id = resume_point(output) if (resume and output is not None) else (0, None)
    total = count_rows(input)
    records = read_records(input, id_column, text_column, done, last_id)
    columns = ["id", "labels", "scores"] + (["explanation"] if explain else [])
    handle: TextIO
    if output is None:
        handle = sys.stdout
    else:
        handle = output.open("a" if done else "w", encoding="utf-8", newline="")
    try:
        writer = csv.writer(handle, lineterminator="\n")
        if not done:
            writer.writerow(columns)
        with _progress("Mapping texts") as bar:
            task = bar.add_task("map", total=total, completed=done)
            written = 0
            for identifier, suggestion in mapper.map_stream(
                records, batch_size=batch_size, at_least_one=not allow_empty
            ):
                row = [
                    identifier,
                    ";".join(suggestion.labels),
                    ";".join(f"{s:.3f}" for s in suggestion.scores),
                ]
                if explain:
                    row.append(
                        " | ".join(
                            f"{label}: {suggestion.detail(label).explanation()}"
                            for label in suggestion.labels
                        )
                    )
                writer.writerow(row)
                written += 1
                if written % batch_size == 0:
                    handle.flush()
                    bar.update(task, completed=done + written)
            bar.update(task, completed=done + written)
    finally:
        if handle is not sys.stdout:
            handle.close()
    if output is not None:
        err.print(f"Mapped {written} texts ({done} already done) with {tax.name}; wrote {output}")


def map_portfolio_command(
    mission: Annotated[str, typer.Argument(help="Mission slug or id.")],
    method: Annotated[
        MethodChoice, typer.Option(help="combined (default), keyword or embedding.")
    ] = MethodChoice.combined,
    embedder: Annotated[
        EmbedderChoice,
        typer.Option(help="static (built in) or minilm (needs missionkit[embeddings-minilm])."),
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
