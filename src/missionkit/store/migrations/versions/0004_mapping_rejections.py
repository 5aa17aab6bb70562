"""mapping: remember rejected suggestions

A reviewer's rejection of a suggested contribution (activity → objective) is kept so the
pair is never suggested again and the mapper can learn from it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mapping_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_mapping_rejections_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objectives.id"],
            name=op.f("fk_mapping_rejections_objective_id_objectives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_rejections")),
        sa.UniqueConstraint(
            "activity_id", "objective_id", name=op.f("uq_mapping_rejections_activity_id")
        ),
    )
    with op.batch_alter_table("mapping_rejections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mapping_rejections_objective_id"), ["objective_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mapping_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mapping_rejections_objective_id"))
    op.drop_table("mapping_rejections")
