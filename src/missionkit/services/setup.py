"""Opening a database ready for use: migrated to the newest schema."""

from __future__ import annotations

from missionkit.store.db import Database
from missionkit.store.migrate import upgrade


def open_database(database: str | None = None) -> Database:
    """Open (creating an SQLite file if needed) and migrate; safe to call on every start."""
    db = Database.open(database)
    upgrade(db.engine)
    return db
