"""`missionkit map` reads the files people have: semicolon and tab CSV, .xlsx, JSON Lines,
Windows-1252; it refuses a bad input (file, line, column, reason) before writing anything."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from missionkit.cli.main import app as cli
from missionkit.services.text_table import TableError, open_table, parse_delimiter

WATER = "Clean drinking water and latrines for rural schools"
SOLAR = "Solar home systems for off-grid households"
MALARIA = "Community health workers fight malaria"
FAST = ["--method", "keyword"]


def _said(output: str) -> str:
    """CLI output without the error box's borders and line wrapping."""
    return " ".join(output.replace("│", " ").split())


def _map(*args: str) -> tuple[int, str]:
    # A terminal wide enough that the error box never breaks a long file path mid-word
    # (xdist workers' temporary paths are long).
    wide = {"COLUMNS": "2000", "TERMINAL_WIDTH": "2000"}
    result = CliRunner().invoke(cli, ["map", *args, *FAST], env=wide)
    return result.exit_code, _said(result.output)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _firsts(path: Path) -> list[tuple[str, str]]:
    return [(r["id"], r["labels"].split(";")[0]) for r in _rows(path)]


def test_semicolon_csv_from_european_excel(tmp_path: Path) -> None:
    # Excel's "CSV (semicolon)": byte-order mark, CRLF, a quoted cell holding ';' and '"'.
    source = tmp_path / "projects.csv"
    text = f'\ufeffid;text;budget\r\n1;{WATER};1,5\r\n2;"{SOLAR}; ""SHS""";2\r\n3;{MALARIA};0\r\n'
    source.write_bytes(text.encode("utf-8"))
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("1", "6"), ("2", "7"), ("3", "3")]


def test_tab_separated_even_when_named_csv(tmp_path: Path) -> None:
    rows = [("a1", "Clean water, latrines and hygiene in schools"), ("a2", SOLAR)]
    body = "id\ttext\n" + "".join(f"{i}\t{t}\n" for i, t in rows)
    for name in ("data.csv", "data.tsv"):
        (tmp_path / name).write_text(body, encoding="utf-8")
        out = tmp_path / f"{name}.out.csv"
        code, said = _map(str(tmp_path / name), "-o", str(out))
        assert code == 0, said
        assert _firsts(out) == [("a1", "6"), ("a2", "7")]


def test_forced_delimiter_and_a_wrong_one(tmp_path: Path) -> None:
    source = tmp_path / "piped.txt"
    source.write_text(f"id|text\n1|{WATER}\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "--delimiter", "pipe", "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("1", "6")]
    code, said = _map(str(source), "--delimiter", ";", "-o", str(tmp_path / "no.csv"))
    assert code == 2
    assert "no column 'id' (columns: 'id|text')" in said
    assert "give --delimiter" in said
    assert not (tmp_path / "no.csv").exists()
    code, said = _map(str(source), "--delimiter", "ab")
    assert code == 2 and "'ab' is not a delimiter" in said


def test_delimiter_names() -> None:
    assert parse_delimiter("tab") == "\t" and parse_delimiter("\\t") == "\t"
    assert parse_delimiter("semicolon") == ";" and parse_delimiter(",") == ","


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("id,text", ","),
        ("id;text;a,b,c,d", ";"),  # more cells split at commas, but no 'id' among them
        ('"id";"text";"a,b,c"', ";"),
        ("id\ttext\tx;y", "\t"),
        ("id|text", "|"),
    ],
)
def test_delimiter_detection(tmp_path: Path, header: str, delimiter: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(header + "\n", encoding="utf-8")
    assert open_table(source).delimiter == delimiter


def test_xlsx_first_sheet_or_named_sheet(tmp_path: Path) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Projects"
    first.append(["id ", "text"])  # a stray space after a header name is forgiven
    first.append([101, WATER])
    first.append([102.0, SOLAR])  # Excel stores numbers as floats: the id is still 102
    first.append([None, None])  # an empty row is skipped
    first.append(["x-3", MALARIA])
    other = book.create_sheet("Other")
    other.append(["key", "body"])
    other.append(["k1", SOLAR])
    source = tmp_path / "portfolio.xlsx"
    book.save(source)
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("101", "6"), ("102", "7"), ("x-3", "3")]
    args = ["--sheet", "Other", "--id-column", "key", "--text-column", "body"]
    code, said = _map(str(source), *args, "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("k1", "7")]
    code, said = _map(str(source), "--sheet", "Nope", "-o", str(tmp_path / "no.csv"))
    assert code == 2 and "has no sheet 'Nope' (sheets: Projects, Other)" in said
    # A workbook renamed .csv is still read as one (content decides).
    renamed = tmp_path / "portfolio.csv"
    renamed.write_bytes(source.read_bytes())
    code, said = _map(str(renamed), "-o", str(out))
    assert code == 0, said
    assert len(_rows(out)) == 3
    assert not (tmp_path / "no.csv").exists()


def test_xlsx_errors_name_the_row(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "text"])
    sheet.append(["a", WATER])
    sheet.append([None, SOLAR])
    sheet.append(["a", MALARIA])
    source = tmp_path / "in.xlsx"
    book.save(source)
    code, said = _map(str(source), "-o", str(tmp_path / "out.csv"))
    assert code == 2
    assert "row 3: column 'id' is empty" in said
    assert not (tmp_path / "out.csv").exists()
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    code, said = _map(str(old))
    assert code == 2 and "Excel 97-2003 workbook (.xls)" in said


def test_jsonl_in_and_out(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 1, "text": WATER, "year": 2024}),
        "",  # a blank line is skipped
        json.dumps({"id": "2", "text": SOLAR}),
        json.dumps({"id": 3, "text": None}),  # no text: no labels
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, said = _map(str(source), "-o", str(out), "--explain")
    assert code == 0, said
    assert "1 blank texts got no labels" in said
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(g["id"], g["labels"][:1]) for g in got] == [("1", ["6"]), ("2", ["7"]), ("3", [])]
    assert len(got[0]["labels"]) == len(got[0]["scores"])
    assert all(isinstance(s, float) for s in got[0]["scores"])
    assert set(got[0]["explanation"]) == set(got[0]["labels"])
    assert got[0]["explanation"]["6"]["terms"]
    assert got[2]["explanation"] == {}
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": 1, "text": WATER}) + "\n{oops\n[1]\n", encoding="utf-8")
    code, said = _map(str(bad), "-o", str(tmp_path / "no.jsonl"))
    assert code == 2
    assert "line 2: is not JSON" in said and "line 3: is not a JSON object" in said
    assert not (tmp_path / "no.jsonl").exists()


def test_cp1252_is_refused_with_advice_then_read_with_encoding(tmp_path: Path) -> None:
    source = tmp_path / "excel.csv"
    text = f"id;text\nplain;{WATER}\ncafé-2;{SOLAR} – 20 € each\n"
    source.write_bytes(text.encode("cp1252"))
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "-o", str(out))
    assert code == 2
    assert "excel.csv: line 3 (byte offset" in said and "0xE9 is not UTF-8 text" in said
    assert "--encoding cp1252" in said
    assert not out.exists()  # nothing written: the encoding is checked first
    code, said = _map(str(source), "--encoding", "cp1252", "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("plain", "6"), ("café-2", "7")]
    assert out.read_bytes().decode("utf-8")  # the output is UTF-8 whatever the input
    code, said = _map(str(source), "--encoding", "klingon")
    assert code == 2 and "'klingon' is not an encoding" in said


def test_a_byte_order_mark_decides_the_encoding(tmp_path: Path) -> None:
    # Excel's "Unicode text" is UTF-16 with a mark, tab-separated; a UTF-8 mark beats a
    # wrong --encoding.
    unicode_text = tmp_path / "unicode.txt"
    unicode_text.write_bytes(f"id\ttext\r\nü1\t{SOLAR}\r\n".encode("utf-16"))
    out = tmp_path / "out.csv"
    code, said = _map(str(unicode_text), "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("ü1", "7")]
    marked = tmp_path / "marked.csv"
    marked.write_bytes(f"\ufeffid,text\né1,{WATER}\n".encode())
    code, said = _map(str(marked), "--encoding", "cp1252", "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("é1", "6")]


def test_duplicate_ids_are_refused_with_both_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = [f"p{i},{WATER}" for i in range(3000)]
    rows[2500] = f"p17,{SOLAR}"  # line 2502 repeats line 19
    source.write_text("id,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "-o", str(out))
    assert code == 2
    assert "line 2502, column 'id': id 'p17' repeats line 19" in said
    assert not out.exists()


def test_missing_column_empty_id_and_blank_text(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,text\n1,{WATER}\n, {SOLAR}\n3,\n4,   \n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "--text-column", "body", "-o", str(out))
    assert code == 2 and "in.csv: has no column 'body' (columns: 'id', 'text')" in said
    assert not out.exists()
    code, said = _map(str(source), "-o", str(out))
    assert code == 2 and "in.csv: line 3: column 'id' is empty" in said
    assert not out.exists()
    source.write_text(f"id,text\n1,{WATER}\n3,\n4,   \n5,{SOLAR}\n", encoding="utf-8")
    code, said = _map(str(source), "-o", str(out))  # without --allow-empty …
    assert code == 0, said
    # … a blank text still gets no label: a "best" label for no text would be noise.
    got = [(r["id"], r["labels"], r["scores"]) for r in _rows(out)]
    assert got[1:3] == [("3", "", ""), ("4", "", "")]
    assert [(i, labels.split(";")[0]) for i, labels, _ in (got[0], got[3])] == [
        ("1", "6"),
        ("5", "7"),
    ]
    assert "2 blank texts got no labels" in said


def test_unquoted_delimiter_in_a_text_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id;text\n1;{WATER}\n2;water; sanitation\n", encoding="utf-8")
    code, said = _map(str(source), "-o", str(tmp_path / "out.csv"))
    assert code == 2
    assert "line 3: has 3 cells, the header 2: a semicolon in a text without quotes" in said
    assert not (tmp_path / "out.csv").exists()


def test_resume_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    texts = [WATER, SOLAR, MALARIA] * 5
    source.write_text(
        "id,text\n" + "".join(f"{i},{t}\n" for i, t in enumerate(texts)), encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), "--batch-size", "4", "--explain"]
    code, said = _map(*args)
    assert code == 0, said
    full = out.read_text(encoding="utf-8")
    lines = full.splitlines(keepends=True)
    assert len(lines) == 15
    out.write_text("".join(lines[:7]) + lines[7][:9], encoding="utf-8")  # killed mid-line
    code, said = _map(*args, "--resume")
    assert code == 0, said
    assert "Mapped 8 texts (7 already done)" in said
    assert out.read_text(encoding="utf-8") == full
    # The same output resumed without --explain, or after another input, is refused.
    code, said = _map(*args[:-1], "--resume")
    assert code == 2 and "was written with --explain" in said
    other = tmp_path / "other.csv"
    other.write_text("id,text\nx,water\n", encoding="utf-8")
    code, said = _map(str(other), "-o", str(out), "--explain", "--resume")
    assert code == 2 and "has 1 rows, but the output already has 15" in said
    assert out.read_text(encoding="utf-8") == full


def test_xlsx_output_and_no_resume(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,text\n=1+2,{WATER}\n2,{SOLAR}\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    code, said = _map(str(source), "-o", str(out), "--explain")
    assert code == 0, said
    book = load_workbook(out)
    sheet = book.active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["id", "labels", "scores", "explanation"]
    assert [v[0] for v in values[1:]] == ["=1+2", "2"]
    assert sheet["A2"].data_type == "s"  # an id that looks like a formula stays text
    assert values[1][1].split(";")[0] == "6"
    code, said = _map(str(source), "-o", str(out), "--resume")
    assert code == 2 and "cannot be resumed" in said and "write .csv or .jsonl" in said


def test_output_cannot_be_the_input(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,text\n1,{WATER}\n", encoding="utf-8")
    code, said = _map(str(source), "-o", str(source))
    assert code == 2 and "would overwrite INPUT" in said
    assert source.read_text(encoding="utf-8") == f"id,text\n1,{WATER}\n"


def test_table_error_lists_every_problem(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,text\n,a\n,b\nok,c\n,d\n", encoding="utf-8")
    table = open_table(source)
    with pytest.raises(TableError) as caught:
        table.check()
    assert [p.path for p in caught.value.problems] == ["line 2", "line 3", "line 5"]
    assert table.estimated_rows == 4
    source.write_text("id,text\n" + "x,a\n" * 30, encoding="utf-8")
    with pytest.raises(TableError) as caught:
        open_table(source).check()
    found = caught.value.problems
    assert len(found) == 21 and found[-1].message == "(the check stopped at 20)"
    assert found[0].path == "line 3, column 'id'" and "repeats line 2" in found[0].message


def test_an_unclosed_quote_in_a_tab_file_is_refused_not_swallowed(tmp_path: Path) -> None:
    source = tmp_path / "data.tsv"
    source.write_text(
        f'id\ttext\n1\t"12" pipes for {WATER}\n2\t"Solar\n3\t{MALARIA}\n4\tend" here\n',
        encoding="utf-8",
    )
    code, said = _map(str(source), "-o", str(tmp_path / "out.csv"))
    assert code == 2
    assert "line 3: a quote opens a cell here and runs to line 5" in said
    assert "--no-quotes" in said  # the way out is named
    assert not (tmp_path / "out.csv").exists()
    # Plain TSV whose quotes are text: every row is read as written, quotes kept.
    table = open_table(source, quotes=False)
    assert [(r.id, r.text) for r in table.records()] == [
        ("1", f'"12" pipes for {WATER}'),
        ("2", '"Solar'),
        ("3", MALARIA),
        ("4", 'end" here'),
    ]
    code, said = _map(str(source), "--no-quotes", "-o", str(tmp_path / "out.csv"))
    assert code == 0, said
    assert [r["id"] for r in _rows(tmp_path / "out.csv")] == ["1", "2", "3", "4"]


def test_no_quotes_is_only_for_delimited_text(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "1", "text": WATER}) + "\n", encoding="utf-8")
    code, said = _map(str(source), "--no-quotes", "-o", str(tmp_path / "out.csv"))
    assert code == 2 and "--no-quotes is for CSV and TSV, not jsonl" in said


def test_multi_line_cells_keep_line_numbers_right(tmp_path: Path) -> None:
    # A quoted text over three lines is fine; an error after it names the file's line.
    source = tmp_path / "in.csv"
    source.write_text(
        f'id,text\n1,"{WATER}\nsecond paragraph, with a comma\nthird"\n,{SOLAR}\n'
        f'"a\nb",{MALARIA}\n',
        encoding="utf-8",
    )
    code, said = _map(str(source), "-o", str(tmp_path / "out.csv"))
    assert code == 2
    assert "line 5: column 'id' is empty" in said
    assert "line 6: column 'id' holds a line break" in said


def test_options_that_do_not_fit_the_input_are_refused(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,text\n1,{WATER}\n", encoding="utf-8")
    code, said = _map(str(source), "--sheet", "Projects")
    assert code == 2 and "--sheet is for .xlsx workbooks" in said
    book = Workbook()
    book.save(tmp_path / "in.xlsx")
    code, said = _map(str(tmp_path / "in.xlsx"), "--delimiter", ";")
    assert code == 2 and "--delimiter is for CSV, not xlsx" in said
    code, said = _map(str(tmp_path / "in.xlsx"), "--encoding", "cp1252")
    assert code == 2 and "--encoding is for text files" in said


def test_json_lines_named_json_and_a_json_array(tmp_path: Path) -> None:
    lines = tmp_path / "in.json"
    lines.write_text(json.dumps({"id": "a", "text": SOLAR}) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, said = _map(str(lines), "-o", str(out))
    assert code == 0, said
    assert _firsts(out) == [("a", "7")]
    array = tmp_path / "array.json"
    array.write_text(json.dumps([{"id": "a", "text": SOLAR}]), encoding="utf-8")
    code, said = _map(str(array))
    assert code == 2 and "not JSON Lines: write one object per line" in said


def test_resume_csv_refuses_the_other_explain_setting(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"id,text\n1,{WATER}\n2,{SOLAR}\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, said = _map(str(source), "-o", str(out))
    assert code == 0, said
    before = out.read_text(encoding="utf-8")
    code, said = _map(str(source), "-o", str(out), "--explain", "--resume")
    assert code == 2 and "was written without --explain" in said
    assert out.read_text(encoding="utf-8") == before
