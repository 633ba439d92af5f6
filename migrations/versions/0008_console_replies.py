"""Console 2.0: canned replies (Textbausteine) and e-mail notifications of new hand-offs (issue 14).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_reply",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(120), nullable=False, unique=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), sa.ForeignKey("adviser.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_table(
        "handoff_notification",
        sa.Column("handoff_id", sa.Integer(), sa.ForeignKey("handoff.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_handoff_notification_notified_at", "handoff_notification", ["notified_at"])


def downgrade() -> None:
    op.drop_index("ix_handoff_notification_notified_at", table_name="handoff_notification")
    op.drop_table("handoff_notification")
    op.drop_table("canned_reply")
