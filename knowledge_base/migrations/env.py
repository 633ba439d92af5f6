"""Alembic environment: the URL comes from the caller (knowledge_base.migrate) or KB_DATABASE_URL."""

from alembic import context

import channels.handoff.models  # noqa: F401,E402  (hand-off tables share the application database)
import channels.telegram.models  # noqa: F401,E402  (so do the Telegram bridge tables)
from knowledge_base.db import make_engine
from knowledge_base.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.begin() as conn:
        _run(conn)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
