"""The store: SQLAlchemy 2 tables, Alembic migrations, engines and sessions."""
