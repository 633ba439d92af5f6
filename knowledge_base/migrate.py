"""Run the Alembic migrations of the knowledge base programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from knowledge_base.db import database_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url or database_url())
    return cfg


def upgrade(url: str | None = None) -> None:
    command.upgrade(alembic_config(url), "head")


def revision(message: str, url: str | None = None) -> None:
    """Autogenerate a new migration from the models (developer command)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
