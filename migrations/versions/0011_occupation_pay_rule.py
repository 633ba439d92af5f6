"""Occupations: the pay rule of school-based trainings (issue 11 §4): the key of the article that says what applies
instead of the BBiG minimum training pay (Pflegeberufegesetz, Fachschule …); empty for dual trainings.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("occupation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pay_rule", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("occupation", schema=None) as batch_op:
        batch_op.drop_column("pay_rule")
