"""Mapped labels out: the files `missionkit map` writes, and where a run resumes.

Results go out as CSV (``id,labels,scores[,explanation]``), JSON Lines or ``.xlsx``; CSV
and JSON Lines are appended batch by batch and can be resumed (a half-written last line
is cut, the output's last id is checked against the input), ``.xlsx`` is saved at the
end. The inputs are read by `missionkit.services.text_table`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from missionkit.services.text_table import Kind, Record, TableError

if TYPE_CHECKING:
    from missionkit.mapping import Mapper
    from missionkit.mapping.mapper import Suggestion

RESULT_COLUMNS = ("id", "labels", "scores")


# -- mapping -------------------------------------------------------------------------------
def map_records(
    mapper: Mapper, records: Iterable[Record], *, batch_size: int, at_least_one: bool
) -> Iterator[tuple[Record, Suggestion | None]]:
    """Each record with its suggestion, in order, mapped a batch at a time.

    A blank text gets ``None`` (no labels), even with ``at_least_one``: a best label for
    no text would be noise (the engine gives SDG 1 to an empty string).
    """
    iterator = iter(records)
    while batch := list(islice(iterator, batch_size)):
        texts = [r.text for r in batch if r.text.strip()]
        found = iter(mapper.map(texts, at_least_one=at_least_one) if texts else [])
        for record in batch:
            yield record, (next(found) if record.text.strip() else None)


# -- results -------------------------------------------------------------------------------
def result_kind(path: Path | None) -> Kind:
    """Output format from the extension: ``.jsonl``/``.ndjson``, ``.xlsx``, else CSV."""
    suffix = path.suffix.lower() if path is not None else ""
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return "xlsx" if suffix == ".xlsx" else "csv"


def result_columns(explain: bool) -> list[str]:
    return [*RESULT_COLUMNS, *(["explanation"] if explain else [])]


class ResultWriter(ABC):
    """Writes (id, suggestion) rows; CSV and JSON Lines as they come, a workbook at the end."""

    def __init__(self, explain: bool) -> None:
        self.explain = explain

    @abstractmethod
    def write(self, identifier: str, suggestion: Suggestion | None) -> None:
        """One row; a ``None`` suggestion (blank text) has no labels."""

    @abstractmethod
    def flush(self) -> None:
        """Make the rows written so far durable (CSV, JSON Lines); a workbook waits."""

    @abstractmethod
    def close(self, complete: bool = True) -> None:
        """Finish; ``complete=False`` after a failure (a workbook is then not saved)."""


def _labels(suggestion: Suggestion | None) -> tuple[list[str], list[float]]:
    if suggestion is None:
        return [], []
    return list(suggestion.labels), [round(s, 3) for s in suggestion.scores]


def _text_explanation(suggestion: Suggestion | None) -> str:
    if suggestion is None:
        return ""
    return " | ".join(
        f"{label}: {suggestion.detail(label).explanation()}" for label in suggestion.labels
    )


class _CsvResults(ResultWriter):
    def __init__(self, handle: IO[str], explain: bool, header: bool) -> None:
        super().__init__(explain)
        self.handle = handle
        self.writer = csv.writer(handle, lineterminator="\n")
        if header:
            self.writer.writerow(result_columns(explain))

    def write(self, identifier: str, suggestion: Suggestion | None) -> None:
        labels, scores = _labels(suggestion)
        row = [identifier, ";".join(labels), ";".join(f"{s:.3f}" for s in scores)]
        if self.explain:
            row.append(_text_explanation(suggestion))
        self.writer.writerow(row)

    def flush(self) -> None:
        self.handle.flush()

    def close(self, complete: bool = True) -> None:
        if self.handle is not sys.stdout:
            self.handle.close()


class _JsonlResults(ResultWriter):
    def __init__(self, handle: IO[str], explain: bool) -> None:
        super().__init__(explain)
        self.handle = handle

    def write(self, identifier: str, suggestion: Suggestion | None) -> None:
        labels, scores = _labels(suggestion)
        out: dict[str, Any] = {"id": identifier, "labels": labels, "scores": scores}
        if self.explain:
            out["explanation"] = suggestion.to_dict()["explanations"] if suggestion else {}
        self.handle.write(json.dumps(out, ensure_ascii=False) + "\n")

    def flush(self) -> None:
        self.handle.flush()

    def close(self, complete: bool = True) -> None:
        self.handle.close()


class _XlsxResults(ResultWriter):
    """A write-only workbook: rows go to openpyxl's temporary file, saved on close.

    Every cell is typed as text, so an id or term starting with ``=`` is shown, never run
    as a formula, and ids keep their exact value (no apostrophe as `safe_cell` adds).
    """

    def __init__(self, path: Path, explain: bool) -> None:
        from openpyxl import Workbook

        super().__init__(explain)
        self.path = path
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("mapped")
        self._append(result_columns(explain))

    def _append(self, values: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for value in values:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        self.sheet.append(cells)

    def write(self, identifier: str, suggestion: Suggestion | None) -> None:
        labels, scores = _labels(suggestion)
        row = [identifier, ";".join(labels), ";".join(f"{s:.3f}" for s in scores)]
        if self.explain:
            row.append(_text_explanation(suggestion))
        self._append(row)

    def flush(self) -> None:
        """Nothing to do: a workbook is written whole, by `close`."""

    def close(self, complete: bool = True) -> None:
        if complete:
            self.book.save(self.path)


def open_results(output: Path | None, *, explain: bool, append: bool) -> ResultWriter:
    """A writer for ``output`` (standard output when None: CSV); ``append`` continues it."""
    kind = result_kind(output)
    if output is None:
        return _CsvResults(sys.stdout, explain, header=True)
    if kind == "xlsx":
        if append:
            raise TableError.one(output, "", "an .xlsx output cannot be resumed", "--resume")
        return _XlsxResults(output, explain)
    handle = output.open("a" if append else "w", encoding="utf-8", newline="")
    if kind == "jsonl":
        return _JsonlResults(handle, explain)
    return _CsvResults(handle, explain, header=not append)


def _cut_partial_line(path: Path) -> None:
    """Drop a half-written last line (the run stopped in the middle of writing it)."""
    with path.open("rb+") as f:
        end = f.seek(0, io.SEEK_END)
        position = end
        while position > 0:
            step = min(position, 1 << 16)
            f.seek(position - step)
            chunk = f.read(step)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                cut = position - step + newline + 1
                if cut < end:
                    f.truncate(cut)
                return
            position -= step
        f.truncate(0)


def resume_point(output: Path, *, explain: bool) -> tuple[int, str | None]:
    """Rows already in ``output`` and the last id, streamed; cuts a half-written line.

    Refuses a file that is not a `missionkit map` output (before touching it), or one
    written with(out) ``--explain`` when this run is the other way.
    """
    kind = result_kind(output)
    if kind == "xlsx":
        raise TableError.one(
            output,
            "",
            "an .xlsx output is saved only at the end, so it cannot be resumed: "
            "write .csv or .jsonl to be able to continue a run",
            "--resume",
        )
    if not output.is_file():
        return 0, None
    with output.open("rb") as f:
        first = f.readline().decode("utf-8", errors="replace")
    start = '{"id": ' if kind == "jsonl" else ",".join(RESULT_COLUMNS)
    if first and not (first.startswith(start) or start.startswith(first)):
        raise TableError.one(output, "", "is not an output of 'missionkit map'", "--resume")
    _cut_partial_line(output)
    rows, last = 0, None
    with output.open(encoding="utf-8", newline="") as f:
        try:
            if kind == "jsonl":
                for line in f:
                    value = json.loads(line)
                    if rows == 0 and ("explanation" in value) != explain:
                        raise _explain_mismatch(output, explain)
                    rows, last = rows + 1, str(value["id"])
                return rows, last
            reader = csv.reader(f)
            if (header := next(reader, None)) is None:
                return 0, None
            if header != result_columns(explain):
                raise _explain_mismatch(output, explain)
            for row in reader:
                rows, last = rows + 1, row[0]
        except (UnicodeDecodeError, json.JSONDecodeError, csv.Error, LookupError, TypeError):
            raise TableError.one(
                output, f"row {rows + 1}", "cannot be read as a 'missionkit map' output", "--resume"
            ) from None
    return rows, last


def _explain_mismatch(output: Path, explain: bool) -> TableError:
    was = "without" if explain else "with"
    return TableError.one(
        output, "", f"was written {was} --explain: resume it the same way", "--resume"
    )
