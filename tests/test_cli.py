"""The `missionkit` command, through Typer's runner and through a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missionkit.cli.main import app
from missionkit.store.db import Database
from tests.factories import document, variant, write

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


def test_every_command_has_help_and_a_docstring() -> None:
    commands = app.registered_commands
    assert {c.name or c.callback.__name__ for c in commands} >= {
        "init",
        "serve",
        "demo",
        "import",
        "export",
        "check",
        "tree",
    }
    for command in commands:
        assert command.callback is not None and command.callback.__doc__, command.name
        name = command.name or command.callback.__name__
        code, out, _ = invoke(name, "--help")
        assert code == 0 and "Usage" in out, name


def test_init_import_tree_export(db: Database, tmp_path: Path) -> None:
    url = db.url
    assert invoke("init", "--database", url)[0] == 0
    code, out, err = invoke("import", str(write(document(), tmp_path / "d.json")), "-d", url)
    assert code == 0, err
    assert "Imported 1 mission(s) (clean-air), 3 activities" in out
    code, out, _ = invoke("tree", "clean-air", "-d", url)
    assert code == 0
    assert "Electric buses" in out and "A-0 Electric bus pilot 0" in out
    assert "github:city/buses#0 Procure buses [open]" in out
    assert "NO2 annual mean: 35.1" in out
    target = tmp_path / "out.json"
    code, _, err = invoke("export", "-d", url, "-o", str(target))
    assert code == 0, err
    assert json.loads(target.read_text())["missions"][0]["slug"] == "clean-air"


def test_import_failure_lists_problems_and_writes_nothing(db: Database, tmp_path: Path) -> None:
    doc = variant(document())
    doc["missions"][0]["activities"][1]["currency"] = "EUX"
    code, _, err = invoke("import", str(write(doc, tmp_path / "bad.json")), "-d", db.url)
    assert code == 1
    assert "missions[0].activities[1].currency: unknown currency 'EUX'" in err
    assert "Nothing was written." in err
    code, _, err = invoke("tree", "clean-air", "-d", db.url)
    assert code == 1 and "no mission 'clean-air'" in err


def test_check_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    doc = variant(document())
    doc["missions"][0]["deadline"] = "2000-01-01"
    doc["missions"][0]["activities"][0]["total_cost"] = -5
    code, _, err = invoke("check", str(write(doc, tmp_path / "bad.json")))
    assert code == 1
    assert "2 problems" in err
    assert "missions[0].deadline" in err and "missions[0].activities[0].total_cost" in err
    code, out, _ = invoke("check", str(write(document(), tmp_path / "good.json")))
    assert code == 0 and "no problems found" in out


def test_bad_database_url_is_a_clear_error() -> None:
    code, _, err = invoke("init", "-d", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert code == 2 and "Cannot open database" in err


def test_demo_builds_without_serving(shared_data: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    code, out, err = invoke("demo", "--no-serve", "--data-dir", str(shared_data), "-d", url)
    assert code == 0, err
    assert "eu-climate-adaptation" in out
    assert "Administrator admin, password (shown once, not stored): " in out
    # Building twice replaces the demo instead of failing on existing missions, and
    # leaves the administrator's password alone.
    code, out, _ = invoke("demo", "--no-serve", "--data-dir", str(shared_data), "-d", url)
    assert code == 0 and "password" not in out
    code, out, _ = invoke("tree", "eu-climate-adaptation", "-d", url, "--limit", "1")
    assert code == 0 and "46 activities" in out


def test_real_process_check_and_help(tmp_path: Path) -> None:
    path = write(document(), tmp_path / "d.json")
    done = subprocess.run(
        [sys.executable, "-m", "missionkit", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no problems found" in done.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "missionkit", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert helped.returncode == 0 and "demo" in helped.stdout


@pytest.mark.parametrize("missing", ["nope.json"])
def test_missing_file_is_a_usage_error(missing: str) -> None:
    code, _, err = invoke("check", missing)
    assert code == 2 and "does not exist" in err


def test_help_texts_escape_square_brackets_from_rich_markup() -> None:
    # Rich reads "[default: x]" in a help text as a markup tag and drops it from --help;
    # "\[" keeps it. Every help text of every command is checked.
    import re
    from typing import Any

    import typer.main

    from missionkit.cli.main import app

    def walk(command: Any, path: str) -> list[tuple[str, str]]:
        found = [(path, command.help or "")]
        found += [(f"{path} {p.name}", getattr(p, "help", None) or "") for p in command.params]
        if hasattr(command, "commands"):  # a group (typer's own click, or click's)
            for name, sub in command.commands.items():
                found += walk(sub, f"{path} {name}")
        return found

    texts = walk(typer.main.get_command(app), "missionkit")
    assert len(texts) > 100  # the walk reached the commands' options
    tag = re.compile(r"(?<!\\)\[[a-z/]")
    assert [where for where, text in texts if tag.search(text)] == []
