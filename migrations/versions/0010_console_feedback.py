"""Console 2.0: satisfaction ratings, usage counts and missed messages (issue 14).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["handoff_id"], ["handoff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handoff_id"),
    )
    with op.batch_alter_table("handoff_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_rating_created_at"), ["created_at"], unique=False)

    op.create_table(
        "missed_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("normalized", sa.String(length=500), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["reviewed_by"], ["adviser.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("missed_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missed_message_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_missed_message_normalized"), ["normalized"], unique=False)
        batch_op.create_index(batch_op.f("ix_missed_message_pseudonym"), ["pseudonym"], unique=False)

    op.create_table(
        "usage_conversation_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("missed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "pseudonym"),
    )
    op.create_table(
        "usage_topic_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "topic"),
    )


def downgrade() -> None:
    op.drop_table("usage_topic_day")
    op.drop_table("usage_conversation_day")
    with op.batch_alter_table("missed_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missed_message_pseudonym"))
        batch_op.drop_index(batch_op.f("ix_missed_message_normalized"))
        batch_op.drop_index(batch_op.f("ix_missed_message_created_at"))
    op.drop_table("missed_message")
    with op.batch_alter_table("handoff_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_rating_created_at"))
    op.drop_table("handoff_rating")
