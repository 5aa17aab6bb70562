"""Every database test runs twice: on an SQLite file and on PostgreSQL.

The schema is migrated once per session (per database); each test then starts from
empty tables, so tests share no state and may run in any order. Without a reachable
PostgreSQL the PostgreSQL half is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings
from sqlalchemy import create_engine, text

from missionkit.api.app import create_app
from missionkit.services import accounts, tokens
from missionkit.store.db import Database
from missionkit.store.migrate import upgrade
from missionkit.store.tables import Base

ADMIN_URL = os.environ.get(
    "MISSIONKIT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

# Property tests explore new examples on every local run (that is how they find edge cases);
# CI (`HYPOTHESIS_PROFILE=ci`, set by .ci/run) replays a fixed set, so a landing never
# hinges on the draw. A case found locally becomes an explicit test.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as e:  # any failure to connect means: skip, and say why
        return f"PostgreSQL not reachable at {ADMIN_URL}: {type(e).__name__}: {e}".splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway database for this test session (one per xdist worker), migrated once."""
    problem = _postgres_problem()
    if problem and os.environ.get("MISSIONKIT_REQUIRE_POSTGRES"):
        pytest.fail(f"{problem} (MISSIONKIT_REQUIRE_POSTGRES is set, as in CI)")
    if problem:
        pytest.skip(problem)
    name = f"missionkit_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    database.dispose()
    return path


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "missionkit.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "eu-adaptation-mission" / "projects.csv").is_file():
        pytest.skip(f"shared data sets not found at {SHARED_DATA}")
    return SHARED_DATA.resolve()


ADMIN_PASSWORD = "a long test-only passphrase"


def bearer(db: Database, username: str, scopes: list[str], **user: Any) -> dict[str, str]:
    """A user (added if new) and an API token for them, as request headers."""
    with db.transaction() as session:
        if not any(u["username"] == username for u in accounts.list_users(session)):
            accounts.add_user(session, username, ADMIN_PASSWORD, **user)
        secret = tokens.create_token(session, username, "tests", scopes).secret
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    """HTTP through the ASGI app in process, over the test's database, as an administrator
    (access rules have their own tests; see `anonymous`)."""
    headers = bearer(db, "root", ["admin"], is_admin=True)
    with TestClient(create_app(db), headers=headers) as c:
        yield c


@pytest.fixture
def anonymous(db: Database) -> Iterator[TestClient]:
    """HTTP as nobody in particular: no token, no session."""
    with TestClient(create_app(db)) as c:
        yield c
