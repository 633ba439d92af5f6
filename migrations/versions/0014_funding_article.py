"""Funding programmes: the key of the FAQ article that answers a programme in the chat when the knowledge base has
one (Kindergeld, Schülerticket, EQ, BvB: the same question with the training-specific details and its own source);
empty for the others.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("funding_program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("article", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("funding_program", schema=None) as batch_op:
        batch_op.drop_column("article")
