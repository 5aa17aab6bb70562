"""The layers of docs/architecture.md, checked on the source: engines and the domain stay
pure; the web layer holds no SQL."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import missionkit

PACKAGE = Path(missionkit.__file__).parent
WEB_AND_DB = ("fastapi", "starlette", "sqlalchemy", "alembic", "jinja2", "typer", "uvicorn")
OUTER_LAYERS = tuple(
    f"missionkit.{layer}" for layer in ("store", "services", "api", "web", "cli", "connectors")
)
PURE = ("trajectory", "portfolio", "mapping", "experiments", "domain")


def imports(folder: Path) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every import in every module below ``folder``."""
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                yield from ((path.name, a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                yield path.name, node.module


@pytest.mark.parametrize("package", PURE)
def test_engines_and_the_domain_import_no_web_database_or_outer_layer(package: str) -> None:
    found = list(imports(PACKAGE / package))
    assert len(found) > 10, "the check must see the package's modules"
    wrong = [(f, m) for f, m in found if m.startswith(WEB_AND_DB + OUTER_LAYERS)]
    assert wrong == []


def test_the_web_layer_holds_no_sql() -> None:
    """Pages may hold the database handle and name a session's type; every query lives in
    a service."""
    allowed = ("sqlalchemy.orm", "missionkit.store.db")
    wrong = [
        (f, m)
        for f, m in imports(PACKAGE / "web")
        if m.startswith(("sqlalchemy", "missionkit.store")) and m not in allowed
    ]
    assert wrong == []


def test_the_check_would_catch_an_offending_import(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("from sqlalchemy import select\nimport missionkit.api\n")
    found = [m for _, m in imports(tmp_path)]
    assert [m for m in found if m.startswith(WEB_AND_DB + OUTER_LAYERS)] == found
