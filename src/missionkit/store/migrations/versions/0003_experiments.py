"""experiments: registry, locked plans, assignments, decisions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_id", sa.Integer(), nullable=False),
        sa.Column("objective_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("design", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("instrument", sa.String(length=16), nullable=True),
        sa.Column("call", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("randomised_plan", sa.Integer(), nullable=True),
        sa.Column("last_analysis", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_experiments_activity_id_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["missions.id"],
            name=op.f("fk_experiments_mission_id_missions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objectives.id"],
            name=op.f("fk_experiments_objective_id_objectives"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("mission_id", "slug", name=op.f("uq_experiments_mission_id")),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiments_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_experiments_mission_id"), ["mission_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_experiments_objective_id"), ["objective_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_experiments_status"), ["status"], unique=False)

    op.create_table(
        "experiment_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("arm", sa.String(length=80), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=True),
        sa.Column("cluster", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_assignments_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_assignments")),
        sa.UniqueConstraint(
            "experiment_id", "unit", name=op.f("uq_experiment_assignments_experiment_id")
        ),
    )
    with op.batch_alter_table("experiment_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_assignments_experiment_id"), ["experiment_id"], unique=False
        )

    op.create_table(
        "experiment_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("plan_number", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=500), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("learning", sa.Text(), nullable=False),
        sa.Column("deviations", sa.JSON(), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_decisions_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_decisions")),
    )
    with op.batch_alter_table("experiment_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_decisions_experiment_id"), ["experiment_id"], unique=False
        )

    op.create_table(
        "experiment_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_plans_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_plans")),
        sa.UniqueConstraint(
            "experiment_id", "number", name=op.f("uq_experiment_plans_experiment_id")
        ),
    )
    with op.batch_alter_table("experiment_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_experiment_plans_experiment_id"), ["experiment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_plans_experiment_id"))

    op.drop_table("experiment_plans")
    with op.batch_alter_table("experiment_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_decisions_experiment_id"))

    op.drop_table("experiment_decisions")
    with op.batch_alter_table("experiment_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_assignments_experiment_id"))

    op.drop_table("experiment_assignments")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiments_status"))
        batch_op.drop_index(batch_op.f("ix_experiments_objective_id"))
        batch_op.drop_index(batch_op.f("ix_experiments_mission_id"))
        batch_op.drop_index(batch_op.f("ix_experiments_activity_id"))

    op.drop_table("experiments")
