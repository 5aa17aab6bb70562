"""Tables of texts in: the files `missionkit map` reads, checked before anything is written.

People hand over semicolon CSV from European Excel, tab-separated files named ``.csv``,
Excel workbooks, JSON Lines and files in Windows-1252. This module reads all of them as one
stream of (line, id, text) records under one set of rules, so the CLI stays thin:

* Format: content first (an ``.xlsx`` is a zip whatever its name; an ``.xls`` is refused
  with a hint), then the extension (``.jsonl``/``.ndjson``, ``.tsv``/``.tab``), else CSV.
* CSV delimiter: from the header line (comma, semicolon, tab or pipe: the one whose split
  holds the id and text columns, then the one giving most columns), unless forced.
* Encoding: a byte-order mark decides (UTF-8 or UTF-16, as Excel's "Unicode text"
  writes); otherwise the given one (default UTF-8). A decode error names the line and
  byte and suggests ``--encoding cp1252``.
* Records: the id is required and unique (the output is keyed by it); a blank text is
  allowed and gets no labels. `TextTable.check` reads the whole input once before anything
  is written, so a refused input leaves no output; memory stays bounded (8 bytes per row
  for the duplicate check).

Where the results go: `missionkit.services.map_results`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from array import array
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

import numpy as np

from missionkit.domain.problems import Problem

Kind = Literal["csv", "xlsx", "jsonl"]

DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DEFAULT_ENCODING = "utf-8"
MAX_PROBLEMS = 20  # a check stops collecting here: enough to fix in one go
FIELD_LIMIT = 1 << 24  # characters in one CSV cell (the csv module's default is 128 KiB)
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
_BOMS = (  # longest first: a UTF-32 LE mark starts like a UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class TableError(ValueError):
    """An input (or output) the mapper cannot use: the file, each place and why.

    ``option`` is the command-line option the problem concerns, for the CLI's message.
    """

    def __init__(self, path: Path, problems: Sequence[Problem], option: str | None = None) -> None:
        self.path = path
        self.problems = list(problems)
        self.option = option
        super().__init__(f"{path}: " + "; ".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, path: Path, where: str, message: str, option: str | None = None) -> TableError:
        return cls(path, [Problem(where, message)], option)


class Record(NamedTuple):
    """One row: where it starts (line, or row for a workbook), its id and its text."""

    line: int
    id: str
    text: str


@dataclass(frozen=True)
class Checked:
    """What `TextTable.check` found: data rows and how many have no text."""

    rows: int
    blank_texts: int


class _Entry(NamedTuple):
    line: int
    id: str
    text: str
    problem: str | None  # why the row is refused (its column named), or None


# -- reading -----------------------------------------------------------------------------
def parse_delimiter(value: str) -> str:
    """``comma``, ``semicolon``, ``tab``, ``pipe``, ``\\t`` or any single character."""
    named = DELIMITERS.get(value.lower(), "\t" if value == "\\t" else value)
    if len(named) != 1 or named in '\r\n"':
        raise ValueError(
            f"{value!r} is not a delimiter: give one character or {', '.join(DELIMITERS)}"
        )
    return named


def detect_kind(path: Path) -> Kind:
    """The input's format: from its first bytes when they tell, else from its extension."""
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE):
        raise TableError.one(
            path, "", "is an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV"
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"  # not a zip: opening it says so
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        if not head.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"{"):
            raise TableError.one(
                path, "", "is a JSON document, not JSON Lines: write one object per line"
            )
        return "jsonl"
    return "csv"


def text_encoding(path: Path, encoding: str = DEFAULT_ENCODING) -> str:
    """The codec to read ``path`` with: its byte-order mark's, else ``encoding`` (a known
    codec; UTF-8 read as ``utf-8-sig``, so that a mark is skipped)."""
    with path.open("rb") as f:
        head = f.read(4)
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding


def count_lines(path: Path) -> int:
    """Lines in a text file (a fast byte count; a cell with line breaks over-counts)."""
    lines = 0
    last = b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _ascii_compatible(encoding: str) -> bool:
    return b"\n,;".decode(encoding, errors="replace") == "\n,;"


def _decode_error(path: Path, encoding: str) -> TableError:
    """Where ``path`` first fails to decode (called once a reader has hit the error)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines_ok = _ascii_compatible(encoding)
    offset = newlines = 0
    with path.open("rb") as f:
        for final, chunk in _chunks(f):
            start = offset - len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as e:
                bad = " ".join(f"0x{b:02X}" for b in e.object[e.start : e.end])
                where = f"byte offset {start + e.start}"
                if lines_ok:
                    line = newlines + e.object[: e.start].count(b"\n") + 1
                    where = f"line {line} ({where})"
                name = _encoding_name(encoding)
                advice = (
                    "the file is in another encoding: Excel on Windows saves "
                    "Windows-1252, so try --encoding cp1252"
                    if name == "UTF-8"
                    else "give the file's own encoding with --encoding"
                )
                return TableError.one(
                    path, where, f"{bad} is not {name} text; {advice}", "--encoding"
                )
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    return TableError.one(
        path, "", f"cannot be read as {_encoding_name(encoding)} text", "--encoding"
    )


def _encoding_name(encoding: str) -> str:
    """How a user would name the codec (``utf-8-sig`` is our way of reading UTF-8)."""
    name = codecs.lookup(encoding).name
    return "UTF-8" if name in ("utf-8", "utf-8-sig") else name


def _chunks(f: IO[bytes]) -> Iterator[tuple[bool, bytes]]:
    """(is last, bytes) in 1 MiB chunks."""
    chunk = f.read(1 << 20)
    while chunk:
        following = f.read(1 << 20)
        yield not following, chunk
        chunk = following


def _cell_text(value: Any) -> str:
    """A workbook cell or JSON value as text: whole numbers without ``.0``, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _pick_delimiter(header_line: str, want: Sequence[str]) -> str:
    """The delimiter whose split of the header holds the wanted columns, then most columns."""
    best, score = ",", (False, 0)
    for delimiter in DELIMITERS.values():
        names = [n.strip() for n in next(csv.reader([header_line], delimiter=delimiter), [])]
        candidate = (all(w in names for w in want), len(names))
        if candidate > score:
            best, score = delimiter, candidate
    return best


@dataclass
class TextTable:
    """An input table opened and its header checked; `check`, then `records`, stream it."""

    path: Path
    kind: Kind
    id_column: str
    text_column: str
    columns: list[str]
    encoding: str | None = None  # text files
    delimiter: str | None = None  # CSV
    quotes: bool = True  # CSV: '"' quotes cells (False: it is text, as in plain TSV)
    sheet: str | None = None  # workbooks
    estimated_rows: int | None = None  # for a progress bar; None when unknown
    _positions: tuple[int, int] = field(default=(0, 1), repr=False)

    @property
    def place(self) -> str:
        """What a position is called: a workbook has rows, a text file lines."""
        return "row" if self.kind == "xlsx" else "line"

    def check(
        self,
        *,
        resume_at: tuple[int, str | None] = (0, None),
        progress: Callable[[int], None] | None = None,
    ) -> Checked:
        """Read every row once: ids present and unique, cells well formed.

        ``resume_at`` is (rows in an output to continue, its last id): that row of the input
        must have that id, or the output belongs to another input. ``progress(rows)`` is
        called every 1000 rows. Raises `TableError` with up to `MAX_PROBLEMS` problems;
        memory is 8 bytes a row (the ids' hashes; a hash seen twice is confirmed by a
        second read).
        """
        done, last_id = resume_at
        hashes: array[int] = array("q")
        problems: list[Problem] = []
        rows = blank = 0
        for entry in self._entries():
            rows += 1
            if rows == done and entry.id != last_id:
                raise TableError.one(
                    self.path,
                    f"{self.place} {entry.line}",
                    f"has id {entry.id!r}, but the output (row {done}) ends with "
                    f"{last_id!r}: the output belongs to another input",
                    "--resume",
                )
            if progress is not None and rows % 1000 == 0:
                progress(rows)
            if entry.problem is not None:
                problems.append(Problem(f"{self.place} {entry.line}", entry.problem))
                if len(problems) >= MAX_PROBLEMS:
                    problems.append(Problem("", f"(the check stopped at {MAX_PROBLEMS})"))
                    break
                continue
            hashes.append(hash(entry.id))
            blank += not entry.text.strip()
        if not problems:
            problems = self._duplicates(hashes)
        if problems:
            raise TableError(self.path, problems, "INPUT")
        if done > rows:
            raise TableError.one(
                self.path,
                "",
                f"has {rows} rows, but the output already has {done}: the output belongs to "
                "another input",
                "--resume",
            )
        return Checked(rows, blank)

    def records(self) -> Iterator[Record]:
        """Every row as a `Record`; a row `check` would refuse raises `TableError`."""
        for entry in self._entries():
            if entry.problem is not None:
                problem = Problem(f"{self.place} {entry.line}", entry.problem)
                raise TableError(self.path, [problem], "INPUT")
            yield Record(entry.line, entry.id, entry.text)

    def _duplicates(self, hashes: array[int]) -> list[Problem]:
        ordered = np.sort(np.frombuffer(hashes, dtype=np.int64))
        repeated = set(ordered[1:][ordered[1:] == ordered[:-1]].tolist())
        if not repeated:
            return []
        first: dict[str, int] = {}
        problems = []
        for entry in self._entries():
            if hash(entry.id) not in repeated:
                continue
            if entry.id in first:
                problems.append(
                    Problem(
                        f"{self.place} {entry.line}, column {self.id_column!r}",
                        f"id {entry.id!r} repeats {self.place} {first[entry.id]} "
                        "(the output is keyed by id: give every row its own)",
                    )
                )
                if len(problems) >= MAX_PROBLEMS:
                    problems.append(Problem("", f"(the check stopped at {MAX_PROBLEMS})"))
                    break
            else:
                first[entry.id] = entry.line
        return problems

    def _entries(self) -> Iterator[_Entry]:
        if self.kind == "xlsx":
            return self._xlsx_entries()
        if self.kind == "jsonl":
            return self._jsonl_entries()
        return self._csv_entries()

    def _entry(self, line: int, identifier: Any, text: Any, extra: str | None) -> _Entry:
        """The one rule for a row's cells, whatever the format."""
        if extra is None and type(identifier) is str and type(text) is str:  # CSV: fast path
            ident = identifier.strip()
            if ident and "\n" not in ident and "\r" not in ident:
                return _Entry(line, ident, text, None)
        problem = extra
        if isinstance(identifier, dict | list):
            problem = f"column {self.id_column!r} is not a single value"
        if isinstance(text, dict | list):
            problem = f"column {self.text_column!r} is not text"
        ident = _cell_text(identifier if problem is None else None).strip()
        if problem is None and not ident:
            problem = f"column {self.id_column!r} is empty"
        if problem is None and ("\n" in ident or "\r" in ident):
            problem = f"column {self.id_column!r} holds a line break"
        return _Entry(line, ident, _cell_text(text) if problem is None else "", problem)

    # -- CSV ----------------------------------------------------------------------------
    def _csv_rows(self) -> Iterator[tuple[int, int, list[str]]]:
        """(start line, end line, cells) of every non-blank row, the header first."""
        assert self.encoding is not None and self.delimiter is not None
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            if self.quotes:
                reader = csv.reader(text, delimiter=self.delimiter)
            else:
                reader = csv.reader(text, delimiter=self.delimiter, quoting=csv.QUOTE_NONE)
            previous = 0
            try:
                for row in reader:
                    start, previous = previous + 1, reader.line_num
                    if any(row) and "".join(row).strip():
                        yield start, previous, row
            except UnicodeDecodeError:
                raise _decode_error(self.path, self.encoding) from None
            except csv.Error as e:
                hint = " (a quote that is never closed?)" if "field limit" in str(e) else ""
                raise TableError.one(
                    self.path, f"line {previous + 1}", f"is not valid CSV: {e}{hint}"
                ) from None

    def _csv_entries(self) -> Iterator[_Entry]:
        id_at, text_at = self._positions
        width = len(self.columns)
        rows = self._csv_rows()
        next(rows, None)  # the header
        for line, end, row in rows:
            extra = None
            if len(row) > width and any(cell.strip() for cell in row[width:]):
                extra = (
                    f"has {len(row)} cells, the header {width}: a "
                    f"{_shown(self.delimiter)} in a text without quotes around it?"
                )
            elif end > line and self.delimiter == "\t" and any("\t" in c for c in row):
                # A quote that opens a cell and never closes swallows the rows after it;
                # in a tab-separated file a cell holding tabs over several lines is that.
                extra = (
                    f"a quote opens a cell here and runs to line {end}, taking the rows "
                    "between into one cell: close it, or give --no-quotes if the file's "
                    "quotes are text"
                )
            yield self._entry(
                line,
                row[id_at] if id_at < len(row) else "",
                row[text_at] if text_at < len(row) else "",
                extra,
            )

    # -- JSON Lines ---------------------------------------------------------------------
    def _jsonl_objects(self) -> Iterator[tuple[int, Any]]:
        """(line, parsed value) of every non-blank line; a line that is not JSON: (line, e)."""
        assert self.encoding is not None
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            try:
                for line, content in enumerate(text, start=1):
                    if not content.strip():
                        continue
                    try:
                        yield line, json.loads(content)
                    except json.JSONDecodeError as e:
                        yield line, e
            except UnicodeDecodeError:
                raise _decode_error(self.path, self.encoding) from None

    def _jsonl_entries(self) -> Iterator[_Entry]:
        for line, value in self._jsonl_objects():
            if isinstance(value, json.JSONDecodeError):
                yield _Entry(line, "", "", f"is not JSON ({value.msg}, column {value.colno})")
            elif not isinstance(value, dict):
                yield _Entry(line, "", "", "is not a JSON object")
            else:
                yield self._entry(
                    line, value.get(self.id_column), value.get(self.text_column), None
                )

    # -- workbooks ----------------------------------------------------------------------
    def _xlsx_entries(self) -> Iterator[_Entry]:
        id_at, text_at = self._positions
        rows = _xlsx_rows(self.path, self.sheet)
        next(rows, None)  # the header
        for number, values in rows:
            yield self._entry(
                number,
                values[id_at] if id_at < len(values) else None,
                values[text_at] if text_at < len(values) else None,
                None,
            )


def _shown(delimiter: str | None) -> str:
    name = {v: k for k, v in DELIMITERS.items()}.get(delimiter or ",")
    return name or repr(delimiter)


@contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    """``path`` opened read-only (streamed), whatever its name: content decided its kind."""
    from openpyxl import load_workbook  # imported here: only workbooks need it

    with path.open("rb") as f:  # a file object: openpyxl would refuse a .csv name
        try:
            book = load_workbook(f, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises zip, XML and its own errors alike
            raise TableError.one(path, "", f"is not an .xlsx workbook ({e})") from None
        try:
            yield book
        finally:
            book.close()


def _xlsx_sheet(path: Path, book: Any, sheet: str | None) -> Any:
    if sheet is None:
        return book.worksheets[0]
    if sheet not in book.sheetnames:
        raise TableError.one(
            path, "", f"has no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})", "--sheet"
        )
    return book[sheet]


def _sheet_rows(worksheet: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(row number, values) of every non-empty row of a sheet, the header first."""
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if any(v is not None and _cell_text(v).strip() for v in values):
            yield number, values


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """`_sheet_rows` of ``sheet`` in the workbook at ``path``, which is closed at the end."""
    with _workbook(path) as book:
        yield from _sheet_rows(_xlsx_sheet(path, book, sheet))


def open_table(
    path: Path,
    *,
    id_column: str = "id",
    text_column: str = "text",
    delimiter: str | None = None,
    encoding: str = DEFAULT_ENCODING,
    sheet: str | None = None,
    quotes: bool = True,
) -> TextTable:
    """Open ``path`` and check its header names both columns; nothing else is read yet.

    ``quotes=False`` reads a delimited file's '"' as text (plain TSV, where a cell never
    holds a tab or a line break), instead of as CSV quoting.
    """
    kind = detect_kind(path)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise TableError.one(path, "", f"{encoding!r} is not an encoding", "--encoding") from None
    if sheet is not None and kind != "xlsx":
        raise TableError.one(path, "", "--sheet is for .xlsx workbooks", "--sheet")
    if delimiter is not None and kind != "csv":
        raise TableError.one(path, "", f"--delimiter is for CSV, not {kind}", "--delimiter")
    if not quotes and kind != "csv":
        raise TableError.one(path, "", f"--no-quotes is for CSV and TSV, not {kind}", "--quotes")
    if kind == "xlsx" and codec != "utf-8":
        raise TableError.one(path, "", "--encoding is for text files, not .xlsx", "--encoding")
    table = TextTable(path, kind, id_column, text_column, columns=[], quotes=quotes)
    if kind == "xlsx":
        with _workbook(path) as book:  # once: opening parses the shared strings
            worksheet = _xlsx_sheet(path, book, sheet)
            table.sheet = worksheet.title
            first = next(_sheet_rows(worksheet), None)
            maximum = worksheet.max_row  # None when the file does not record its size
        table.columns = [_cell_text(v).strip() for v in first[1]] if first else []
        if first is not None and maximum is not None:
            table.estimated_rows = max(0, maximum - first[0])
    else:
        table.encoding = text_encoding(path, encoding)
        if kind == "csv":
            table.delimiter = _csv_delimiter(table, delimiter)
            first_csv = next(table._csv_rows(), None)
            table.columns = [c.strip() for c in first_csv[2]] if first_csv else []
        else:
            first_json = next(table._jsonl_objects(), None)
            if first_json is not None and isinstance(first_json[1], dict):
                table.columns = [str(k) for k in first_json[1]]
            elif first_json is not None:
                raise TableError.one(path, f"line {first_json[0]}", "is not a JSON object")
        table.estimated_rows = max(0, count_lines(path) - (kind == "csv"))
    table._positions = (_position(table, id_column), _position(table, text_column))
    return table


def _csv_delimiter(table: TextTable, forced: str | None) -> str:
    if forced is not None:
        return forced
    if table.path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    assert table.encoding is not None
    with table.path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=table.encoding, newline="")
        try:
            header = next((line for line in text if line.strip()), "")
        except UnicodeDecodeError:
            raise _decode_error(table.path, table.encoding) from None
    return _pick_delimiter(header, (table.id_column, table.text_column))


def _position(table: TextTable, column: str) -> int:
    option = "--id-column" if column == table.id_column else "--text-column"
    where = f"sheet {table.sheet!r} " if table.sheet else ""
    if column not in table.columns:
        shown = ", ".join(repr(c) for c in table.columns[:30]) or "none"
        hint = ""
        if table.kind == "csv" and len(table.columns) <= 1:
            hint = (
                f" (read as {_shown(table.delimiter)}-separated: give --delimiter if the "
                "file uses another)"
            )
        raise TableError.one(
            table.path, "", f"{where}has no column {column!r} (columns: {shown}){hint}", option
        )
    if table.columns.count(column) > 1:
        raise TableError.one(
            table.path, "", f"{where}has the column {column!r} more than once", option
        )
    return table.columns.index(column)
