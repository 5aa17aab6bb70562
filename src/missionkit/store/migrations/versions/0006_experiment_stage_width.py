"""experiments.stage wide enough for its own values

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

``mission_definition`` (18 characters) and ``instrument_choice`` (17) did not fit the
16-character column: SQLite never checks a length, PostgreSQL refused the insert.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.alter_column("stage", type_=sa.String(32), existing_type=sa.String(16))


def downgrade() -> None:
    with op.batch_alter_table("experiments") as batch:
        batch.alter_column("stage", type_=sa.String(16), existing_type=sa.String(32))
