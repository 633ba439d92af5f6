"""Response targets: how long a hand-off has waited for its first adviser reply, counted within office hours,
and how urgent that makes it (``CONSOLE_FIRST_REPLY_TARGET_MINUTES``).

A hand-off that arrives on Friday evening has waited 0 minutes until Monday 9:00: only office-hours time counts.
Times in the database are naive UTC; the office hours know their time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handoff.models import Handoff, HandoffMessage
from handoff.office_hours import OfficeHours

SOON_SHARE = 0.75  # from three quarters of the target on a waiting hand-off is "bald fällig"
LEVELS = ("overdue", "soon", "ok", "answered", "closed")  # most urgent first
LEVEL_LABELS = {
    "overdue": "überfällig",
    "soon": "bald fällig",
    "ok": "im Zeitziel",
    "answered": "beantwortet",
    "closed": "abgeschlossen",
}
_MAX_DAYS = 400  # office time beyond this is not counted (a forgotten hand-off is overdue anyway)


def _aware(value: dt.datetime) -> dt.datetime:
    """Naive values are UTC (as stored)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def office_minutes(start: dt.datetime, end: dt.datetime, hours: OfficeHours) -> float:
    """Minutes between ``start`` and ``end`` that lie within office hours (0 if ``end`` is not after ``start``)."""
    begin, finish = _aware(start), _aware(end)
    if finish <= begin:
        return 0.0
    first = begin.astimezone(hours.tz).date()
    last = min(finish.astimezone(hours.tz).date(), first + dt.timedelta(days=_MAX_DAYS))
    seconds = 0.0
    day = first
    while day <= last:
        for w_start, w_end in hours.windows_on(day):
            lo, hi = max(w_start, begin), min(w_end, finish)
            if hi > lo:
                seconds += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return seconds / 60


@dataclass(frozen=True)
class Urgency:
    level: str  # one of LEVELS
    waited_minutes: int  # office-hours minutes until the first reply (or until now)
    target_minutes: int

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def rank(self) -> tuple[int, float]:
        """Sort key: most urgent first (level, then longest waited)."""
        return LEVELS.index(self.level), -self.waited_minutes


def urgency(created_at: dt.datetime, first_reply_at: dt.datetime | None, status: str, now: dt.datetime,
            hours: OfficeHours, target_minutes: int) -> Urgency:
    """The level of one hand-off: waiting for a first reply → ok / soon / overdue against the target;
    answered or closed otherwise."""
    waited = office_minutes(created_at, first_reply_at or now, hours)
    if status == "closed":
        level = "closed"
    elif first_reply_at is not None:
        level = "answered"
    elif waited >= target_minutes:
        level = "overdue"
    elif waited >= target_minutes * SOON_SHARE:
        level = "soon"
    else:
        level = "ok"
    return Urgency(level, int(waited), target_minutes)


def first_reply_times(session: Session, handoff_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """hand-off id → time of its first adviser reply (only those with one)."""
    ids = list(handoff_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(HandoffMessage.handoff_id, func.min(HandoffMessage.created_at))
        .where(HandoffMessage.handoff_id.in_(ids), HandoffMessage.role == "adviser")
        .group_by(HandoffMessage.handoff_id)
    )
    return {int(hid): when for hid, when in rows if when is not None}


def by_urgency(session: Session, handoffs: Sequence[Handoff], now: dt.datetime, hours: OfficeHours,
               target_minutes: int) -> list[tuple[Handoff, Urgency]]:
    """The hand-offs with their urgency, most urgent first (stable: equally urgent stay oldest first)."""
    replies = first_reply_times(session, (h.id for h in handoffs))
    rated = [(h, urgency(h.created_at, replies.get(h.id), h.status, now, hours, target_minutes)) for h in handoffs]
    return sorted(rated, key=lambda pair: pair[1].rank)
