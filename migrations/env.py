"""Alembic environment: the URL comes from the caller (core.migrate) or KB_DATABASE_URL.

The one place that imports every models module: all tables share the application database and this history.
"""

from alembic import context

import channels.console.models  # noqa: F401  (console sessions, login failures)
import channels.telegram.models  # noqa: F401  (Telegram bridge tables)
import handoff.canned  # noqa: F401  (canned replies of the console)
import handoff.feedback_models  # noqa: F401  (ratings, missed messages, daily usage)
import handoff.models  # noqa: F401  (hand-off tables)
import handoff.notifications  # noqa: F401  (e-mail notifications of new hand-offs)
import handoff.retention  # noqa: F401  (retention job bookkeeping)
import handoff.teams  # noqa: F401  (teams and their members)
import knowledge_base.models  # noqa: F401  (knowledge base and offers)
from core.db import Base, make_engine

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
