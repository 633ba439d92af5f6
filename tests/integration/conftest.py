"""Real PostgreSQL and Redis services (production set-up). Skipped with a reason where they are missing;
under CI (CI=true) they must be there."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import require_ci_service

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))


def _admin() -> psycopg.Connection:
    return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="test", autocommit=True,
                           connect_timeout=3)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database, dropped afterwards."""
    try:
        admin = _admin()
    except psycopg.OperationalError as exc:
        require_ci_service("PostgreSQL", f"{PG_HOST}:{PG_PORT}: {exc}")
    name = f"bo_test_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_url(pg_database: str) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{pg_database}"


@pytest.fixture(scope="session")
def redis_available() -> None:
    import socket

    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=3) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                raise OSError("no PONG")
    except OSError as exc:
        require_ci_service("Redis", f"{REDIS_HOST}:{REDIS_PORT}: {exc}")
