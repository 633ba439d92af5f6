"""Telegram bridge: chat ↔ conversation mapping, queue of unanswered messages, update ids taken, long button
payloads;
index for collecting a push channel's undelivered outbox messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_chat",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
        sa.UniqueConstraint("conversation_id"),
    )
    op.create_table(
        "telegram_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_telegram_pending_chat", "telegram_pending", ["chat_id", "id"], unique=False)
    op.create_table(
        "telegram_update",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id"),
    )
    op.create_index("ix_telegram_update_received_at", "telegram_update", ["received_at"], unique=False)
    op.create_table(
        "telegram_button",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_outbox_channel_pending", "outbox_message", ["channel", "delivered_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_pending", table_name="outbox_message")
    op.drop_table("telegram_button")
    op.drop_index("ix_telegram_update_received_at", table_name="telegram_update")
    op.drop_table("telegram_update")
    op.drop_index("ix_telegram_pending_chat", table_name="telegram_pending")
    op.drop_table("telegram_pending")
    op.drop_table("telegram_chat")
