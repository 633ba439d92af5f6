"""Which new hand-offs the team was told about by e-mail (table ``handoff_notification``).

The console's background task asks :func:`due` for waiting hand-offs without a sent notification, *claims*
each one (:func:`claim`: a row inserted, or its attempt counter moved on, in its own transaction — two console
workers never send the same e-mail), sends, and marks it sent (:func:`mark_sent`). A failed send keeps the
claim's back-off time, so the hand-off is tried again later, at most ``MAX_ATTEMPTS`` times. Only hand-offs of
the last ``LOOKBACK`` are considered, so switching e-mail on does not mail the whole history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from handoff.models import Handoff

LOOKBACK = dt.timedelta(hours=24)
MAX_ATTEMPTS = 8
FIRST_RETRY = dt.timedelta(minutes=1)  # doubles with every attempt
MAX_RETRY = dt.timedelta(hours=1)


class HandoffNotification(Base):
    __tablename__ = "handoff_notification"

    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff.id", ondelete="CASCADE"), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)  # also the claim: nobody else before then
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)


def backoff(attempts: int) -> dt.timedelta:
    delay: dt.timedelta = FIRST_RETRY * (2 ** max(0, attempts - 1))
    return min(delay, MAX_RETRY)


def due(session: Session, now: dt.datetime, limit: int = 20) -> list[int]:
    """Ids of waiting hand-offs of the last ``LOOKBACK`` whose e-mail is not sent and may be tried now."""
    rows = session.execute(
        select(Handoff.id)
        .outerjoin(HandoffNotification, HandoffNotification.handoff_id == Handoff.id)
        .where(
            Handoff.status == "waiting",
            Handoff.created_at >= now - LOOKBACK,
            or_(
                HandoffNotification.handoff_id.is_(None),
                and_(HandoffNotification.notified_at.is_(None), HandoffNotification.next_attempt_at <= now,
                     HandoffNotification.attempts < MAX_ATTEMPTS),
            ),
        )
        .order_by(Handoff.id)
        .limit(limit)
    )
    return [int(hid) for (hid,) in rows]


def claim(session: Session, handoff_id: int, now: dt.datetime) -> bool:
    """Take the next attempt for this hand-off (commits). False if another worker has it or it is done."""
    row = session.get(HandoffNotification, handoff_id)
    if row is None:
        session.add(HandoffNotification(handoff_id=handoff_id, attempts=1, next_attempt_at=now + backoff(1)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
        return True
    if row.notified_at is not None or row.next_attempt_at > now or row.attempts >= MAX_ATTEMPTS:
        return False
    result = session.execute(
        update(HandoffNotification)
        .where(HandoffNotification.handoff_id == handoff_id,
               HandoffNotification.attempts == row.attempts,
               HandoffNotification.notified_at.is_(None))
        .values(attempts=row.attempts + 1, next_attempt_at=now + backoff(row.attempts + 1))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0) == 1


def mark_sent(session: Session, handoff_id: int, now: dt.datetime) -> None:
    session.execute(update(HandoffNotification).where(HandoffNotification.handoff_id == handoff_id)
                    .values(notified_at=now).execution_options(synchronize_session=False))
    session.commit()


def state(session: Session, handoff_id: int) -> HandoffNotification | None:
    return session.get(HandoffNotification, handoff_id)
