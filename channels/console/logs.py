"""The console's access log without conversation ids: the channel endpoints carry the id in the path
(``/api/outbox/{id}``, ``/api/conversations/{id}``, ``/api/export/{id}``); the log shows its pseudonym instead,
and no query string (search words of advisers). Installed by ``python -m channels.console``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import unquote

from core.protocol import CONSOLE_CONVERSATIONS_PATH, CONSOLE_EXPORT_PATH, CONSOLE_OUTBOX_PATH

ID_PATHS = tuple(prefix + "/" for prefix in (CONSOLE_OUTBOX_PATH, CONSOLE_CONVERSATIONS_PATH, CONSOLE_EXPORT_PATH))


def redact_path(path: str, pseudonym: Callable[[str], str]) -> str:
    path = path.split("?", 1)[0]
    for prefix in ID_PATHS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + pseudonym(unquote(path[len(prefix):]))
    return path


class RedactIds(logging.Filter):
    """For uvicorn's access records, whose arguments are (client, method, path, http version, status)."""

    def __init__(self, pseudonym: Callable[[str], str]) -> None:
        super().__init__()
        self.pseudonym = pseudonym

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2], self.pseudonym), *args[3:])
        return True


def install(pseudonym: Callable[[str], str]) -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactIds) for f in access.filters):
        access.addFilter(RedactIds(pseudonym))
