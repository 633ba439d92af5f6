"""Run the Alembic migrations of the application database programmatically (no alembic.ini needed); the scripts
live in ``migrations/`` at the top of the repository."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.db import database_url
from core.settings import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"


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
