"""FAQ articles: next step on articles, example questions per article.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("next_step", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("next_url", sa.String(length=500), nullable=True))
    op.create_table(
        "article_example",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "position"),
    )
    op.create_index("ix_article_example_article_id", "article_example", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_article_example_article_id", table_name="article_example")
    op.drop_table("article_example")
    with op.batch_alter_table("article") as batch:
        batch.drop_column("next_url")
        batch.drop_column("next_step")
