"""Telegram bridge: how many parts of a long adviser reply went out, so a retry after a failed part sends only the
rest instead of showing the first parts twice. Rows written before this revision were complete deliveries.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_outbox_delivered", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("complete", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM telegram_outbox_delivered WHERE NOT complete"))
    with op.batch_alter_table("telegram_outbox_delivered", schema=None) as batch_op:
        batch_op.drop_column("complete")
        batch_op.drop_column("parts_sent")
