"""`missionkit assess` through Typer's runner, on a local app (``register`` adds it)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from missionkit.cli.assess import parse_series, register

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Test app."""


register(app)
runner = CliRunner()
SERIES = "2015:20,2016:19.5,2017:19,2018:18.2,2019:18,2020:17.1"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["assess", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def test_json_output_has_the_documented_fields() -> None:
    code, out, _ = invoke(
        "--method", "statcan", "--direction", "decrease", "--target", "10",
        "--target-year", "2030", "--series", SERIES, "--json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    for field in ("method", "category", "ratio", "score", "cagr_observed", "cagr_required"):
        assert field in data
    assert data["method"] == "statcan" and data["category"] == "moderate_progress"
    # HAND: (17.1/20)^(1/5) - 1 over (10/20)^(1/15) - 1, with d = -1
    expected = -((17.1 / 20) ** 0.2 - 1) / abs(0.5 ** (1 / 15) - 1)
    assert data["ratio"] == pytest.approx(expected)


def test_sentence_output() -> None:
    code, out, _ = invoke(
        "--direction", "decrease", "--target", "10", "--target-year", "2030", "--series", SERIES
    )
    assert code == 0
    assert out.startswith("needs acceleration (statcan: moderate progress).")
    assert "Ratio 0.683" in out and "-4.52 %/yr needed to reach 10 by 2030" in out


def test_without_target_and_with_limit() -> None:
    code, out, _ = invoke(
        "--direction", "increase", "--limit", "100", "--series", "2015:95,2020:97", "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["ratio"] is None and data["cagr_required"] is None
    assert data["category"] == "substantial_progress"
    assert data["coefficient"] == pytest.approx(1 - 0.95**4.44)


@pytest.mark.parametrize("method", ["sdsn", "projection"])
def test_other_methods(method: str) -> None:
    code, out, _ = invoke(
        "--method", method, "--direction", "decrease", "--target", "10",
        "--target-year", "2030", "--series", SERIES, "--json",
    )  # fmt: skip
    data = json.loads(out)
    assert code == 0 and data["method"] == method and data["status"] == "needs_acceleration"
    if method == "projection":
        assert data["forecast"]["probability"] is not None


def test_refused_data_is_an_answer_not_an_error() -> None:
    code, out, _ = invoke("--direction", "increase", "--series", "2015:20", "--json")
    data = json.loads(out)
    assert code == 0 and data["status"] == "insufficient_data"
    assert "too few observations" in data["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--direction", "increase", "--series", "2015:20,2016:x"], "item 2 '2016:x'"),
        (["--direction", "increase", "--series", "2015:20,,2016:3"], "item 2 is empty"),
        (["--direction", "increase", "--series", "2015-20"], "expected YEAR:VALUE"),
        (["--direction", "increase", "--series", "15:20,2016:3"], "is not a year"),
        (["--direction", "increase", "--series", "2015:1,2015:2"], "already given in item 1"),
        (["--direction", "increase", "--series", "2015:nan,2016:2"], "not a finite number"),
        (["--direction", "increase", "--series", "2016-02-30:1"], "item 1"),
        (["--series", "2015:1,2016:2"], "--direction"),
        (["--direction", "increase", "--target", "5", "--series", "2015:1,2016:2"], "target-year"),
        (["--direction", "increase"], "exactly one of --series or --csv"),
        (["--direction", "sideways", "--series", "2015:1,2016:2"], "sideways"),
        (["--method", "eurostat", "--direction", "increase", "--series", "2015:1"], "eurostat"),
        (["--direction", "increase", "--level", "2", "--series", "2015:1"], "--level"),
    ],
)
def test_bad_input_exits_2_and_names_the_problem(args: list[str], message: str) -> None:
    code, out, err = invoke(*args)
    assert code == 2
    assert message in err + out


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "indicators.csv"
    path.write_text(text, encoding="utf-8")
    return path


CSV = """id,region,method,direction,target,target_year,base_year,limit,series
poverty,,,decrease,10,2030,,,"2015:20,2016:19.5,2017:19,2018:18.2,2019:18,2020:17.1"
coverage,,,increase,,,,100,"2015:95,2020:97"
broadband,FR10,sdsn,increase,90,2030,2015,,"2015:50,2018:NA,2020:60"
broadband,ITC4,sdsn,increase,90,2030,2015,,"2015:40,2020:38"
thin,,projection,increase,5,2030,,,"2015:1,2016:2"
"""


def test_csv_gives_one_row_per_indicator(tmp_path: Path) -> None:
    code, out, _ = invoke("--csv", str(write_csv(tmp_path, CSV)))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["id"], r["region"]) for r in rows] == [
        ("poverty", ""),
        ("coverage", ""),
        ("broadband", "FR10"),
        ("broadband", "ITC4"),
        ("thin", ""),
    ]
    assert [r["method"] for r in rows] == ["statcan", "statcan", "sdsn", "sdsn", "projection"]
    assert [r["status"] for r in rows] == [
        "needs_acceleration",
        "on_track",
        "needs_acceleration",
        "wrong_direction",
        "insufficient_data",
    ]
    assert rows[4]["reason"].startswith("too few observations")
    assert rows[0]["ratio"] and not rows[1]["ratio"]


def test_csv_json_and_default_method(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, 'id,direction,target,target_year,series\nx,increase,90,2030,"2015:50,2020:60"\n'
    )
    code, out, _ = invoke("--csv", str(path), "--json", "--method", "sdsn")
    data = json.loads(out)
    assert code == 0 and len(data) == 1 and data[0]["method"] == "sdsn" and data[0]["id"] == "x"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,direction\nx,increase\n", "missing column(s) series"),
        ("id,direction,series,colour\nx,increase,2015:1,red\n", "unknown column(s) colour"),
        ("id,direction,series\nx,up,2015:1\n", "line 2 (id 'x'), column 'direction'"),
        ('id,direction,series\nx,increase,"2015:1,2016:oops"\n', "column 'series': item 2"),
        ("id,direction,target,series\nx,increase,5,2015:1\n", "needs a target year"),
        ("id,direction,target_year,series\nx,increase,20x0,2015:1\n", "column 'target_year'"),
        ("id,direction,series\nx,increase,2015:1\nx,increase,2015:2\n", "repeats line 2"),
        ("id,direction,series\n,increase,2015:1\n", "column 'id': is empty"),
        ("id,direction,method,series\nx,increase,magic,2015:1\n", "column 'method'"),
    ],
)
def test_bad_csv_exits_2_naming_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    code, out, err = invoke("--csv", str(write_csv(tmp_path, text)))
    assert code == 2
    assert message in err + out


def test_csv_and_per_series_options_do_not_mix(tmp_path: Path) -> None:
    path = write_csv(tmp_path, CSV)
    code, out, err = invoke("--csv", str(path), "--direction", "increase")
    assert code == 2 and "goes in the CSV" in err + out


def test_missing_csv_file_exits_2(tmp_path: Path) -> None:
    code, _, _ = invoke("--csv", str(tmp_path / "nope.csv"))
    assert code == 2


def test_parse_series_accepts_dates_and_na() -> None:
    import datetime as dt

    assert parse_series("2016-03-31:1.5, 2016-06-30:NA") == [
        (dt.date(2016, 3, 31), 1.5),
        (dt.date(2016, 6, 30), None),
    ]
