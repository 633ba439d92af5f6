"""Telegram bridge: outbox ids already delivered, so an adviser reply that reaches the bridge twice (push and
collector racing, or a retried push) is shown to the user once.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_outbox_delivered",
        sa.Column("outbox_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("outbox_id"),
    )
    op.create_index("ix_telegram_outbox_delivered_delivered_at", "telegram_outbox_delivered", ["delivered_at"],
                    unique=False)


def downgrade() -> None:
    op.drop_index("ix_telegram_outbox_delivered_delivered_at", table_name="telegram_outbox_delivered")
    op.drop_table("telegram_outbox_delivered")
