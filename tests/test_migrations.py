"""Migrations build, from empty, exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from missionkit.store.db import Database
from missionkit.store.migrate import current_revision, head_revision, upgrade
from missionkit.store.tables import Base


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current_revision(db.engine) == head_revision(db.engine)
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrade_from_empty_and_again_is_harmless(tmp_path) -> None:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert current_revision(database.engine) is None
    upgrade(database.engine)
    upgrade(database.engine)
    tables = set(inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revision(database.engine) == head_revision(database.engine)
