"""`missionkit user|token|role|audit` through Typer's runner, on a real SQLite file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from missionkit.cli.access import register
from missionkit.cli.main import app
from tests.factories import document, write

runner = CliRunner()


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    assert invoke("import", str(write(document(2), tmp_path / "d.json")), "-d", url)[0] == 0
    return url


def test_every_access_command_has_help() -> None:
    assert register.__doc__
    for group in ("user", "token", "role"):
        code, out, _ = invoke(group, "--help")
        assert code == 0 and "Usage" in out
    for command in (
        "user add",
        "user list",
        "user disable",
        "user enable",
        "user password",
        "token create",
        "token list",
        "token revoke",
        "role grant",
        "role revoke",
        "role list",
        "audit",
    ):
        code, out, _ = invoke(*command.split(), "--help")
        assert code == 0 and "Usage" in out, command


def test_users_are_added_once_with_a_password_shown_once(url: str) -> None:
    code, out, _ = invoke("user", "add", "ana", "--name", "Ana Lima", "-d", url)
    assert code == 0
    password = re.search(r"shown once, not stored\): (\S+)", out)
    assert password is not None and len(password.group(1)) >= 12
    code, _, err = invoke("user", "add", "ana", "-d", url)
    assert code == 1 and "exists" in err
    code, _, err = invoke("user", "add", "Bad Name", "--password-stdin", "-d", url, stdin="x\n")
    assert code == 1 and "username:" in err and "password:" in err
    code, out, _ = invoke(
        "user", "add", "ben", "--password-stdin", "-d", url, stdin="a long enough passphrase\n"
    )
    assert code == 0 and "shown once" not in out
    code, out, _ = invoke("user", "list", "--json", "-d", url)
    assert [u["username"] for u in json.loads(out)] == ["ana", "ben"]
    assert "password" not in out


def test_roles_tokens_and_the_audit_trail_from_the_command_line(url: str, tmp_path: Path) -> None:
    assert invoke("user", "add", "ana", "-d", url)[0] == 0
    assert invoke("role", "grant", "ana", "clean-air", "editor", "-d", url)[0] == 0
    code, _, err = invoke("role", "grant", "ana", "clean-air", "emperor", "-d", url)
    assert code == 1 and "role:" in err
    code, _, err = invoke("role", "grant", "ana", "no-such-mission", "viewer", "-d", url)
    assert code == 1 and "no-such-mission" in err
    code, out, _ = invoke("role", "list", "clean-air", "--json", "-d", url)
    assert json.loads(out) == [{"username": "ana", "role": "editor"}]

    code, out, _ = invoke(
        "token",
        "create",
        "ana",
        "--name",
        "nightly",
        "--scope",
        "read",
        "--mission",
        "clean-air",
        "-d",
        url,
    )
    assert code == 0
    secret = re.search(r"not stored\): (mk_\S+)", out)
    assert secret is not None
    code, out, _ = invoke("token", "list", "--json", "-d", url)
    (listed,) = json.loads(out)
    assert listed["scopes"] == ["read"] and secret.group(1) not in out
    code, _, err = invoke("token", "create", "ana", "--name", "x", "--scope", "root", "-d", url)
    assert code == 1 and "scopes[0]" in err
    code, _, err = invoke(
        "token",
        "create",
        "ana",
        "--name",
        "x",
        "--scope",
        "read",
        "--expires",
        "tomorrow",
        "-d",
        url,
    )
    assert code == 2 and "ISO date" in err
    assert invoke("token", "revoke", listed["lookup"], "-d", url)[0] == 0
    assert invoke("token", "revoke", "nope", "-d", url)[0] == 1
    assert invoke("user", "disable", "ana", "-d", url)[0] == 0

    code, out, _ = invoke("audit", "clean-air", "--format", "json", "-d", url)
    trail = json.loads(out)
    assert [(e["action"], e["entity"]) for e in trail] == [
        ("revoke", "token"),
        ("create", "token"),
        ("grant", "role"),
        ("import", "missions"),
    ]
    assert {e["interface"] for e in trail} == {"cli", "import"}
    assert all(e["username"].startswith("cli:") for e in trail)
    target = tmp_path / "audit.csv"
    code, _, err = invoke("audit", "-o", str(target), "-d", url)
    assert code == 0 and "entries written" in err
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,at,username") and len(lines) == 1 + 6  # + user add/disable
    code, _, _ = invoke("audit", "--format", "xml", "-d", url)
    assert code == 2
