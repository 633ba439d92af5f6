"""Retention of hand-off data and the guard of the retention job (issue 12, DSGVO: nothing is kept longer than
needed).

* ``purge_handoffs``: hand-offs ``handoff_days`` (180) after closing — or after opening, if never closed — with
  thread, notes, transcript and summary; audit entries stay but lose the link and any free text (as on a deletion
  on request).
* ``purge_outbox``: delivered outbox messages after ``outbox_days`` (7), undelivered ones after ``handoff_days``.
* ``acquire`` / ``release``: a lease in the table ``retention_run`` (migration ``0007``), so that only one process
  purges at a time and a scheduled run happens once per interval however many console workers schedule it.

The whole job (Rasa's trackers, Telegram mappings, console sessions) is put together in ``channels/retention.py``;
the trackers are purged with ``handoff/trackers.py``. Functions take the caller's session; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, DateTime, String, and_, or_, select
from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from handoff import feedback
from handoff.models import OPEN_STATUSES, AuditEntry, Handoff, HandoffMessage, HandoffNote, OutboxMessage

JOB = "purge"
CHUNK = 500  # ids per IN (…) list


@dataclass(frozen=True)
class Policy:
    """How long what is kept, in days."""

    conversation_days: int = 90
    handoff_days: int = 180
    outbox_days: int = 7
    missed_days: int = 90

    def conversation_cutoff(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.conversation_days)

    def handoff_cutoff(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.handoff_days)

    def outbox_cutoff(self, now: dt.datetime) -> dt.datetime:
        return now - dt.timedelta(days=self.outbox_days)


class RetentionRun(Base):
    """One row per job: who may run it (``locked_until``) and when it last ran, with its counts."""

    __tablename__ = "retention_run"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def open_conversations(session: Session) -> set[str]:
    """Conversation ids with an open hand-off: their trackers are kept (the bot is paused for them)."""
    return set(session.scalars(select(Handoff.conversation_id).where(Handoff.status.in_(OPEN_STATUSES))))


def purge_handoffs(session: Session, now: dt.datetime, policy: Policy) -> int:
    """Delete hand-offs closed (or, never closed, opened) before the cutoff, with messages and notes."""
    cutoff = policy.handoff_cutoff(now)
    ids = list(session.scalars(select(Handoff.id).where(or_(
        Handoff.closed_at < cutoff,
        and_(Handoff.closed_at.is_(None), Handoff.created_at < cutoff),
    ))))
    for chunk in _chunks(ids):
        session.execute(sa_update(AuditEntry).where(AuditEntry.handoff_id.in_(chunk))
                        .values(handoff_id=None, detail=""))
        session.execute(sa_delete(HandoffMessage).where(HandoffMessage.handoff_id.in_(chunk)))
        session.execute(sa_delete(HandoffNote).where(HandoffNote.handoff_id.in_(chunk)))
        session.execute(sa_delete(Handoff).where(Handoff.id.in_(chunk)))
    return len(ids)


def purge_outbox(session: Session, now: dt.datetime, policy: Policy) -> int:
    """Delete delivered outbox messages after ``outbox_days`` and undelivered ones after ``handoff_days``."""
    result = session.execute(sa_delete(OutboxMessage).where(or_(
        OutboxMessage.delivered_at < policy.outbox_cutoff(now),
        OutboxMessage.created_at < policy.handoff_cutoff(now),
    )))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_feedback(session: Session, now: dt.datetime, policy: Policy) -> int:
    """Messages the bot missed (console page /verpasst) and daily usage counts after ``missed_days``."""
    return feedback.purge_feedback(session, now, retention_days=policy.missed_days)


# --- one run at a time ----------------------------------------------------------------------------------------


def acquire(session: Session, now: dt.datetime, lease: dt.timedelta, due_after: dt.timedelta | None = None,
            job: str = JOB) -> bool:
    """Take the job's lease for ``lease`` if nobody holds it (and, with ``due_after``, if the last run is at
    least that long ago). One UPDATE with the condition in its WHERE clause: on SQLite and PostgreSQL two
    processes cannot both get a row count of 1. Commits."""
    if session.get(RetentionRun, job) is None:
        try:
            with session.begin_nested():
                session.add(RetentionRun(name=job))
        except IntegrityError:
            pass  # another process created it at the same moment
    conditions = [RetentionRun.name == job,
                  or_(RetentionRun.locked_until.is_(None), RetentionRun.locked_until < now)]
    if due_after is not None:
        conditions.append(or_(RetentionRun.last_run_at.is_(None), RetentionRun.last_run_at <= now - due_after))
    result = session.execute(sa_update(RetentionRun).where(*conditions).values(locked_until=now + lease))
    session.commit()
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def release(session: Session, now: dt.datetime, counts: dict[str, int] | None, job: str = JOB) -> None:
    """Give the lease back; with ``counts`` (a finished run) also record the run. Commits."""
    values: dict[str, Any] = {"locked_until": None}
    if counts is not None:
        values.update(last_run_at=now, last_counts=counts)
    session.execute(sa_update(RetentionRun).where(RetentionRun.name == job).values(**values))
    session.commit()
