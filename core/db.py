"""The application database: declarative ``Base``, ``utcnow``, engine and sessions (SQLite by default, PostgreSQL in
production). Every models module (knowledge base, hand-off, Telegram bridge) builds on this ``Base``; the one
Alembic history in ``migrations/`` covers them all."""

from __future__ import annotations

import datetime as dt
import math
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
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    _sqlite_functions(dbapi_connection)


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
