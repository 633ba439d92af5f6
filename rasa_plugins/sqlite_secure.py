"""SQLite in the Rasa server: ``PRAGMA secure_delete=ON`` and a private file (runs INSIDE the Rasa server).

Rasa's SQL tracker store on SQLite (``TRACKER_DB_PATH``, the default of ``make run``) opens its connections
through SQLAlchemy. A listener on every ``Engine``'s "connect" event turns on ``secure_delete`` for each SQLite
connection, so deleted events (a deletion on request, the retention job) are overwritten with zeros instead of
staying readable in the file's free pages, and makes the database file readable by its owner only (0600).
Other databases (PostgreSQL) are left alone. Imported by ``rasa_plugins/__init__.py``, i.e. before Rasa loads
the REST channel from ``bot/credentials.yml`` and long before the agent creates its tracker store.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA secure_delete=ON")
        for _, name, path in cursor.execute("PRAGMA database_list").fetchall():
            if name == "main" and path:
                private(path)
    finally:
        cursor.close()


def private(path: str) -> None:
    """Mode 0600 for a database file of this user (nothing else is touched)."""
    try:
        info = os.stat(path)
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass


def install() -> None:
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)


install()
