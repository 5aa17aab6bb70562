"""`missionkit experiment ...` through Typer's runner: JSON shapes, tables, and exit code 2
with the field named on bad input. Numbers are checked against the engine functions, which
are themselves checked against references in tests/test_experiments_*.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missionkit.cli import common
from missionkit.cli.main import app
from missionkit.experiments import design, did

runner = CliRunner()
SUMMARY = {
    "control": "A",
    "arms": {
        "A": {"n": 3407, "sum": 1396.87, "sum_squares": 52377.9},
        "B": {"n": 3461, "sum": 1500.25, "sum_squares": 62384.1},
    },
}
GBSTATS = json.loads((Path(__file__).parent / "data/gbstats/cases.json").read_text())


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as on a wide terminal: the console may have fixed its width on import from a
    COLUMNS the test runner's workers inherited, and wrapped headers would split words."""
    monkeypatch.setattr(common.out, "width", 250)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, doc: object, name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_commands_have_help() -> None:
    for name in ("analyze-ab", "did", "power"):
        code, out, _ = invoke("experiment", name, "--help")
        assert code == 0 and "Usage" in out, name


def test_analyze_ab_json_matches_gbstats(tmp_path: Path) -> None:
    # the first recorded gbstats 0.8.0 case is this summary
    code, out, err = invoke("experiment", "analyze-ab", write(tmp_path, SUMMARY), "--json")
    assert code == 0, err
    report = json.loads(out)
    (arm,) = report["arms"]
    ref = GBSTATS["cases"][0]["gbstats"]
    assert arm["arm"] == "B" and report["control"] == "A"
    assert arm["relative"]["estimate"] == pytest.approx(ref["frequentist_relative"]["expected"])
    assert [arm["relative"]["ci_low"], arm["relative"]["ci_high"]] == pytest.approx(
        ref["frequentist_relative"]["ci"]
    )
    assert arm["absolute"]["p_value"] == pytest.approx(ref["frequentist_absolute"]["p_value"])
    assert arm["chance_to_win"] == pytest.approx(ref["bayesian_relative"]["chance_to_win"])
    assert report["srm"]["p_value"] > 0.05 and report["assumptions"]


def test_analyze_ab_table_and_proportions(tmp_path: Path) -> None:
    doc = {"arms": {"old": {"n": 3407, "successes": 412}, "new": {"n": 3461, "successes": 468}}}
    code, out, err = invoke("experiment", "analyze-ab", write(tmp_path, doc))
    assert code == 0, err
    assert "control old" in out and "new" in out and "chance to win" in out
    assert "sample-ratio check" in out


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"arms": {"A": {"n": 10, "successes": 3}, "B": {"n": 10, "successes": 11}}},
            "arms.B.successes: must be <= n",
        ),
        ({**SUMMARY, "control": "C"}, "control: must name one of the arms"),
        ({"arms": {"A": {"n": 10}, "B": {"n": 10}}}, "arms.A.sum: is required"),
    ],
)
def test_analyze_ab_bad_input_exits_2_naming_the_field(
    tmp_path: Path, doc: object, message: str
) -> None:
    code, _, err = invoke("experiment", "analyze-ab", write(tmp_path, doc))
    assert code == 2
    assert message in err


def test_analyze_ab_rejects_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    code, _, err = invoke("experiment", "analyze-ab", str(path))
    assert code == 2 and "not valid JSON" in err


def _organ_csv(tmp_path: Path) -> tuple[str, list[dict[str, str]]]:
    from causaldata import organ_donations

    od = organ_donations.load_pandas().data
    od["treated"] = ((od.State == "California") & (od.Quarter_Num >= 4)).astype(int)
    path = tmp_path / "organ.csv"
    od.to_csv(path, index=False)
    return str(path), list(csv.DictReader(path.open()))


def test_did_json_on_organ_donations(tmp_path: Path) -> None:
    path, rows = _organ_csv(tmp_path)
    args = ["--outcome", "Rate", "--treated", "treated", "--unit", "State", "--time", "Quarter"]
    code, out, err = invoke("experiment", "did", path, *args, "--json")
    assert code == 0, err
    got = json.loads(out)
    ref = did.twfe(
        [float(r["Rate"]) for r in rows],
        [float(r["treated"]) for r in rows],
        [r["State"] for r in rows],
        [r["Quarter"] for r in rows],
    )
    assert got["estimate"]["estimate"] == pytest.approx(ref.estimate.estimate)
    assert got["estimate"]["se"] == pytest.approx(ref.estimate.se)
    assert got["n_clusters"] == 27
    assert any("only 27 clusters" in w for w in got["warnings"])
    assert got["bootstrap"]["n_clusters"] == 27 and 0 < got["bootstrap"]["p_value"] < 1
    code, out, _ = invoke("experiment", "did", path, *args)
    assert code == 0 and "27 (State)" in out and "warning" in out
    assert "p (wild bootstrap)" in out


def test_did_bad_column_and_bad_value_exit_2(tmp_path: Path) -> None:
    path, _ = _organ_csv(tmp_path)
    code, _, err = invoke(
        "experiment", "did", path, "--outcome", "Nope", "--treated", "treated",
        "--unit", "State", "--time", "Quarter",
    )  # fmt: skip
    assert code == 2 and "--outcome column 'Nope' not found" in err
    text = Path(path).read_text().splitlines()
    text[3] = text[3].replace(text[3].split(",")[2], "n/a", 1)
    Path(path).write_text("\n".join(text) + "\n")
    code, _, err = invoke(
        "experiment", "did", path, "--outcome", "Rate", "--treated", "treated",
        "--unit", "State", "--time", "Quarter",
    )  # fmt: skip
    assert code == 2 and "row 4, column 'Rate' (--outcome): 'n/a' is not a number" in err


def test_power_json_matches_engine() -> None:
    code, out, err = invoke(
        "experiment", "power", "--metric", "mean", "--sd", "1", "--effect", "0.5", "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["n_control"] == 64 and got["solved_for"] == "sample_size"  # Cohen's d = 0.5
    code, out, _ = invoke(
        "experiment", "power", "--metric", "proportion", "--baseline", "0.1", "--n", "2000",
        "--icc", "0.01", "--cluster-size", "20", "--ratio", "2", "--json",
    )  # fmt: skip
    assert code == 0
    got = json.loads(out)
    ref = design.proportions(
        baseline=0.1, n_control=2000, power=0.8, icc=0.01, cluster_size=20, ratio=2
    )
    assert got["effect"] == pytest.approx(ref.effect) and got["n_treatment"] == 4000
    code, out, _ = invoke("experiment", "power", "--metric", "mean", "--sd", "2", "--n", "50")
    assert code == 0 and "solved for mde" in out


def test_power_bad_input_exits_2() -> None:
    code, _, err = invoke("experiment", "power", "--metric", "mean", "--effect", "1")
    assert code == 2 and "--sd is required" in err
    code, _, err = invoke(
        "experiment", "power", "--metric", "mean", "--sd", "1", "--effect", "1", "--icc", "2"
    )
    assert code == 2 and "icc: must be between 0 and 1" in err


def test_analyze_ab_sequential_matches_gbstats(tmp_path: Path) -> None:
    path = write(tmp_path, SUMMARY)
    code, out, err = invoke("experiment", "analyze-ab", path, "--sequential", "--json")
    assert code == 0, err
    arm = json.loads(out)["arms"][0]
    ref = GBSTATS["cases"][0]["gbstats"]["sequential_absolute"]  # gbstats 0.8.0, tuning 5000
    got = arm["sequential_absolute"]
    assert [got["ci_low"], got["ci_high"]] == pytest.approx(ref["ci"])
    assert got["p_value"] == pytest.approx(ref["p_value"])
    code, out, _ = invoke("experiment", "analyze-ab", path, "--sequential")
    assert code == 0 and "always-valid" in out


def test_did_staggered_and_event_study_on_mpdta(tmp_path: Path) -> None:
    # mpdta with a treated-now column; CS aggregations as published by R did (aggte examples)
    rows = list(csv.DictReader((Path(__file__).parent / "data/did/mpdta.csv").open()))
    path = tmp_path / "mpdta.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["county", "year", "lemp", "D"])
        for r in rows:
            g, t = float(r["first.treat"]), float(r["year"])
            w.writerow([r["countyreal"], r["year"], r["lemp"], int(0 < g <= t)])
    args = ["--outcome", "lemp", "--treated", "D", "--unit", "county", "--time", "year"]
    code, out, err = invoke(
        "experiment", "did", str(path), *args, "--staggered", "--event-study", "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    aggs = got["callaway_santanna"]["aggregations"]
    assert aggs["simple"]["overall"]["estimate"] == pytest.approx(-0.0400, abs=5e-5)
    assert aggs["group"]["overall"]["estimate"] == pytest.approx(-0.0310, abs=5e-5)
    assert got["callaway_santanna"]["pretrend_p_value"] == pytest.approx(0.16812, abs=5e-6)
    assert len(got["callaway_santanna"]["effects"]) == 12
    assert [e["event_time"] for e in got["event_study"]["effects"]] == [-4, -3, -2, 0, 1, 2, 3]
    assert got["n_clusters"] == 500
    code, out, _ = invoke("experiment", "did", str(path), *args, "--staggered")
    assert code == 0 and "Callaway-Sant'Anna" in out and "simple" in out
    svg = tmp_path / "es.svg"
    code, out, _ = invoke("experiment", "did", str(path), *args, "--plot", str(svg))
    assert code == 0 and "Event study" in out
    assert svg.read_text().startswith("<svg") and 'class="reference"' in svg.read_text()


def test_every_experiment_command_option_and_route_is_documented() -> None:
    # docs drift fails the build: each command, option and API route is in docs/experiments.md
    import typer.main

    from missionkit.api.experiments import experiments_router
    from missionkit.cli.experiment import experiment_app

    docs = (Path(__file__).parents[1] / "docs" / "experiments.md").read_text()
    group = typer.main.get_command(experiment_app)
    commands = group.commands  # type: ignore[attr-defined]
    assert set(commands) == {"analyze-ab", "did", "power", "randomise", "learning"}
    for name, command in commands.items():
        assert f"missionkit experiment {name}" in docs, name
        assert command.help, name
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in docs, (name, opt)
    for route in experiments_router(None).routes:  # type: ignore[arg-type]
        for method in route.methods:  # type: ignore[attr-defined]
            path = route.path.replace("{experiment_id}", "{id}")  # type: ignore[attr-defined]
            assert f"`{method} {path}`" in docs, (method, path)
