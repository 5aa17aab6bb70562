"""indicators: assessment method, natural limit, expected update frequency

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicators") as batch:
        batch.add_column(
            sa.Column("method", sa.String(length=16), nullable=False, server_default="statcan")
        )
        batch.add_column(sa.Column("natural_limit", sa.Float(), nullable=True))
        batch.add_column(sa.Column("update_frequency_months", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indicators") as batch:
        batch.drop_column("update_frequency_months")
        batch.drop_column("natural_limit")
        batch.drop_column("method")
