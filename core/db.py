"""The application database: declarative ``Base``, ``utcnow``, engine and sessions (SQLite by default, PostgreSQL in
production). Every models module (knowledge base, hand-off, Telegram bridge) builds on this ``Base``; the one
Alembic history in ``migrations/`` covers them all."""

from __future__ import annotations

import datetime as dt
import math
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.settings import DatabaseSettings


class Base(DeclarativeBase):
    pass


def utcnow() -> dt.datetime:
    """Now in UTC, without time zone (how every timestamp column stores it)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def database_url() -> str:
    """The application database URL: ``KB_DATABASE_URL`` or the embedded SQLite file under ``var/``."""
    return DatabaseSettings.from_env().database_url


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite:///"):
        private_file(Path(url.removeprefix("sqlite:///")))
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten with zeros, not left in free pages
    cursor.close()
    _sqlite_functions(dbapi_connection)


def private_file(path: Path) -> None:
    """Create a database file (and its directory) readable by the owner only: 0600 and 0700. SQLite gives its
    journal and WAL files the mode of the database file. An existing file keeps its mode."""
    if str(path) in ("", ":memory:"):
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _sqlite_functions(dbapi_connection) -> None:  # type: ignore[no-untyped-def]
    """The offer search computes distances in SQL. SQLite has math functions only when compiled with them
    (Python's own builds are); elsewhere Python's ``math`` stands in."""
    try:
        dbapi_connection.execute("SELECT sin(1), cos(1), asin(0.5), sqrt(4), radians(1)").fetchone()
    except sqlite3.OperationalError:
        for name in ("sin", "cos", "asin", "sqrt", "radians"):
            dbapi_connection.create_function(name, 1, getattr(math, name), deterministic=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def analyze(session: Session) -> None:
    """Refresh the query planner's statistics after a bulk change of offers, so that SQLite and PostgreSQL pick the
    right one of the covering search indexes (occupation-, type- or place-first)."""
    session.execute(text("ANALYZE"))
