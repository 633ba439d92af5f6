"""Console 2.0: teams, routing, transfers, profile card (issue 14).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False, unique=True),
        sa.Column("region", sa.JSON(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("is_fallback", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "team_member",
        sa.Column("team_id", sa.Integer(), sa.ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("adviser_id", sa.Integer(), sa.ForeignKey("adviser.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_team_member_adviser_id", "team_member", ["adviser_id"])
    with op.batch_alter_table("handoff") as batch:
        batch.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_handoff_team_id", "team", ["team_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_handoff_team_id", ["team_id"])


def downgrade() -> None:
    with op.batch_alter_table("handoff") as batch:
        batch.drop_index("ix_handoff_team_id")
        batch.drop_constraint("fk_handoff_team_id", type_="foreignkey")
        batch.drop_column("team_id")
    op.drop_index("ix_team_member_adviser_id", table_name="team_member")
    op.drop_table("team_member")
    op.drop_table("team")
