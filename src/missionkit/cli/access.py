"""`missionkit user|token|role|audit`: who may see and change what, and what they changed."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from missionkit.cli.common import DatabaseOption, cli_actor, err, open_db, out, print_problems
from missionkit.domain.access import ROLES, SCOPES
from missionkit.domain.problems import InvalidInput
from missionkit.services import accounts, audit, roles, tokens
from missionkit.services.errors import Conflict, NotFound
from missionkit.services.maps import mission_id_for

users_app = typer.Typer(help="Add, list, disable and enable users.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: scoped, revocable, shown once.", no_args_is_help=True)
roles_app = typer.Typer(help="Roles per mission: " + ", ".join(ROLES) + ".", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def _writing(database: str | None) -> Iterator[Session]:
    """One transaction; a refused change prints why and exits 1, having written nothing."""
    db = open_db(database)
    try:
        with db.transaction() as session:
            yield session
    except InvalidInput as e:
        print_problems(e.problems)
        raise typer.Exit(1) from None
    except (NotFound, Conflict) as e:
        err.print(f"[red]{e}[/red]", highlight=False)
        raise typer.Exit(1) from None


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    out.print(table)


@users_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, . _ -")],
    admin: Annotated[
        bool, typer.Option("--admin", help="May manage users and every mission.")
    ] = False,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Add a user. Without --password-stdin a random password is printed, once."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with _writing(database) as session:
        new = accounts.add_user(
            session, username, password, display_name=name, is_admin=admin, actor=cli_actor()
        )
    out.print(f"Added {new.user['username']}{' (administrator)' if admin else ''}.")
    if new.password:
        out.print(f"Password (shown once, not stored): {new.password}", highlight=False)


@users_app.command("list")
def user_list(as_json: JsonOption = False, database: DatabaseOption = None) -> None:
    """List users."""
    with open_db(database).reading() as session:
        rows = accounts.list_users(session)
    _table(rows, ("username", "display_name", "is_admin", "disabled", "last_sign_in_at"), as_json)


def _set_disabled(username: str, disabled: bool, database: str | None) -> None:
    with _writing(database) as session:
        accounts.set_disabled(session, username, disabled, actor=cli_actor())
    out.print(f"{username} {'disabled; their sessions ended' if disabled else 'enabled'}.")


@users_app.command("disable")
def user_disable(username: str, database: DatabaseOption = None) -> None:
    """Disable a user: no sign-in, no token works, sessions end. Their history stays."""
    _set_disabled(username, True, database)


@users_app.command("enable")
def user_enable(username: str, database: DatabaseOption = None) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, False, database)


@users_app.command("password")
def user_password(username: str, database: DatabaseOption = None) -> None:
    """Set a user's password, read from standard input (ends their sessions)."""
    password = sys.stdin.readline().rstrip("\n")
    with _writing(database) as session:
        accounts.set_password(session, username, password, actor=cli_actor())
    out.print(f"Password of {username} changed; their sessions ended.")


def _future(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None
    return dt.datetime.combine(day, dt.time(), dt.UTC)


@tokens_app.command("create")
def token_create(
    username: str,
    name: Annotated[str, typer.Option(help="What will use the token, e.g. 'nightly import'.")],
    scope: Annotated[
        list[str], typer.Option(help=f"Repeatable: {', '.join(SCOPES)}.", show_default=False)
    ],
    mission: Annotated[
        str | None, typer.Option(help="Limit the token to this mission (id or slug).")
    ] = None,
    expires: Annotated[str | None, typer.Option(help="Expiry date, YYYY-MM-DD.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Create a token for a user; the token is printed once and only its hash is kept."""
    expires_at = _future(expires)
    with _writing(database) as session:
        mission_id = None if mission is None else mission_id_for(session, mission)
        new = tokens.create_token(
            session,
            username,
            name,
            scope,
            mission_id=mission_id,
            expires_at=expires_at,
            actor=cli_actor(),
        )
    out.print(f"Token {new.token['lookup']} for {username} ({', '.join(new.token['scopes'])}).")
    out.print(f"Token (shown once, not stored): {new.secret}", highlight=False)


@tokens_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option(help="Only this user's tokens.")] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """List tokens (never their secrets)."""
    with open_db(database).reading() as session:
        rows = tokens.list_tokens(session, user)
    columns = (
        "lookup",
        "user",
        "name",
        "scopes",
        "mission_id",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    _table(rows, columns, as_json)


@tokens_app.command("revoke")
def token_revoke(lookup: str, database: DatabaseOption = None) -> None:
    """Revoke a token by its lookup id (the part after mk_); it stops working at once."""
    with _writing(database) as session:
        tokens.revoke_token(session, lookup, actor=cli_actor())
    out.print(f"Token {lookup} revoked.")


@roles_app.command("grant")
def role_grant(
    username: str,
    mission: Annotated[str, typer.Argument(help="Mission id or slug.")],
    role: Annotated[str, typer.Argument(help=", ".join(ROLES))],
    database: DatabaseOption = None,
) -> None:
    """Give a user a role on one mission (replacing an earlier one); not on its children."""
    with _writing(database) as session:
        roles.grant(session, username, mission, role, actor=cli_actor())
    out.print(f"{username} is now {role} of {mission}.")


@roles_app.command("revoke")
def role_revoke(username: str, mission: str, database: DatabaseOption = None) -> None:
    """Take a user's role on a mission away."""
    with _writing(database) as session:
        roles.revoke(session, username, mission, actor=cli_actor())
    out.print(f"{username} has no role on {mission} any more.")


@roles_app.command("list")
def role_list(mission: str, as_json: JsonOption = False, database: DatabaseOption = None) -> None:
    """Who has which role on a mission."""
    with _writing(database) as session:
        rows = roles.members(session, mission)
    _table(rows, ("username", "role"), as_json)


def audit_command(
    mission: Annotated[
        str | None, typer.Argument(help="Mission id or slug \\[default: the whole installation].")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File \\[default: standard output].")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest entries to export.")] = 10_000,
    database: DatabaseOption = None,
) -> None:
    """Export the audit trail: who changed what, when, through which interface."""
    if format_ not in ("csv", "json"):
        raise typer.BadParameter("choose csv or json", param_hint="--format")
    with _writing(database) as session:
        mission_id = None if mission is None else mission_id_for(session, mission)
        items = audit.entries(session, mission_id, limit=limit)
    text = (
        json.dumps(items, ensure_ascii=False, indent=1)
        if format_ == "json"
        else "".join(audit.csv_lines(items))
    )
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    err.print(f"{len(items)} entries written to {output}")


def register(app: typer.Typer) -> None:
    """Add ``user``, ``token``, ``role`` and ``audit`` to ``app``."""
    app.add_typer(users_app, name="user")
    app.add_typer(tokens_app, name="token")
    app.add_typer(roles_app, name="role")
    app.command("audit")(audit_command)
