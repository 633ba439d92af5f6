"""Knowledge-base access for the action server: one engine, sessions per call, a cached alias index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from knowledge_base.resolve import AliasIndex

_lock = threading.Lock()
_factory: sessionmaker[Session] | None = None
_index: AliasIndex | None = None


def _session_factory() -> sessionmaker[Session]:
    global _factory
    with _lock:
        if _factory is None:
            _factory = make_session_factory(make_engine())
        return _factory


@contextmanager
def kb_session() -> Iterator[Session]:
    with session_scope(_session_factory()) as session:
        yield session


def alias_index(session: Session) -> AliasIndex:
    """Built on first use and kept: content changes need an action-server restart (``make run`` does that)."""
    global _index
    if _index is None:
        index = AliasIndex.build(session)
        with _lock:
            _index = index
    return _index


def reset() -> None:
    """Forget engine and index (tests switch databases)."""
    global _factory, _index
    with _lock:
        _factory, _index = None, None
