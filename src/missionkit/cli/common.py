"""What every command module shares: the consoles, the database option, error printing."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from missionkit.domain.access import Actor, Interface, system_actor
from missionkit.domain.problems import Problem
from missionkit.services.setup import open_database
from missionkit.store.db import ENV_VAR, Database, resolve_url

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help=f"SQLAlchemy URL or SQLite file path \\[env: {ENV_VAR}; default: missionkit.sqlite]",
        show_default=False,
    ),
]


def open_db(database: str | None) -> Database:
    try:
        return open_database(database)
    except Exception as e:  # the URL or server is wrong: say which, not a traceback
        err.print(f"[red]Cannot open database {resolve_url(database)}:[/red] {e}")
        raise typer.Exit(2) from None


def print_problems(problems: list[Problem]) -> None:
    err.print(f"[red]{len(problems)} problem{'s' if len(problems) != 1 else ''}:[/red]")
    for p in problems:
        err.print(f"  {p.path or '(document)'}: {p.message}", markup=False, highlight=False)


def cli_actor(interface: Interface = "cli") -> Actor:
    """Whoever runs a command at the machine: named in the audit trail by their login."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        login = "unknown"
    return system_actor(interface, f"cli:{login}"[:64])


def progress_bar(label: str) -> Progress:
    """The bar long commands draw on standard error (hidden when it is not a terminal)."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
