"""Statistics of the dashboard: hand-offs per day by channel and by reason, waiting time until the first adviser
reply (office-hours minutes, median and 90th percentile against the target), most asked topics.

Aggregates only. Days are local days of the office time zone (``HANDOFF_TIMEZONE``): a hand-off at 23:30 UTC
in winter belongs to the next Berlin day; a period's bounds are local midnights, so days of the DST switch have
23 or 25 hours. What counts follows the console's need-to-know rule (an adviser's numbers cover the hand-offs
they may see; an admin's cover all). Topics are free text of users: a topic is listed only when at least
``MIN_TOPIC_COUNT`` hand-offs named it, so a single person's words do not show up on the dashboard.

Satisfaction and the bot's misses come from ``handoff.feedback`` (``rating_summary`` / ``missed_summary``)
when that module exists; :func:`compute` leaves them ``None`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff import service, targets
from handoff.models import Adviser, Handoff
from handoff.office_hours import OfficeHours

MAX_DAYS = 366
MIN_TOPIC_COUNT = 2
TOP_TOPICS = 10
_TOPIC_TRIM = re.compile(r"^[\W_]+|[\W_]+$")


@dataclass(frozen=True)
class Period:
    """Local days ``start`` … ``end`` (both included) in ``tz``."""

    start: dt.date
    end: dt.date
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("Das Ende des Zeitraums liegt vor seinem Anfang.")
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValueError(f"Der Zeitraum darf höchstens {MAX_DAYS} Tage lang sein.")

    @classmethod
    def last_days(cls, days: int, today: dt.date, tz: ZoneInfo) -> Period:
        return cls(today - dt.timedelta(days=days - 1), today, tz)

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Naive UTC [from, to): local midnight of the first day to local midnight after the last."""
        return _utc(self.start, self.tz), _utc(self.end + dt.timedelta(days=1), self.tz)


def _utc(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tz).astimezone(dt.UTC).replace(tzinfo=None)


def local_day(when: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The local day of a stored (naive UTC) time."""
    aware = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when
    return aware.astimezone(tz).date()


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0–100); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def normalise_topic(text: str) -> str:
    """Case, surrounding punctuation and repeated spaces do not make a different topic."""
    return _TOPIC_TRIM.sub("", " ".join(text.split()).casefold())[:80]


@dataclass(frozen=True)
class Waits:
    target_minutes: int
    answered: int  # hand-offs with a first adviser reply
    unanswered: int  # still without one
    within_target: int  # answered within the target
    median: float | None  # office-hours minutes until the first reply
    p90: float | None


@dataclass
class DashboardStats:
    period: Period
    total: int
    channels: list[str]
    reasons: list[str]
    by_channel: dict[dt.date, Counter[str]]
    by_reason: dict[dt.date, Counter[str]]
    waits: Waits
    topics: list[tuple[str, int]]
    # Slots filled from handoff.feedback (helper module of the satisfaction and "missed messages" features):
    ratings: dict[str, Any] | None = None
    missed: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        days = self.period.days()
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "timezone": self.period.tz.key,
            "total": self.total,
            "per_day": [
                {"day": d.isoformat(), "total": sum(self.by_channel[d].values()),
                 "by_channel": dict(self.by_channel[d]), "by_reason": dict(self.by_reason[d])}
                for d in days
            ],
            "channels": self.channels,
            "reasons": self.reasons,
            "first_reply": {
                "target_minutes": self.waits.target_minutes,
                "answered": self.waits.answered,
                "unanswered": self.waits.unanswered,
                "within_target": self.waits.within_target,
                "median_minutes": self.waits.median,
                "p90_minutes": self.waits.p90,
            },
            "topics": [{"topic": t, "count": n} for t, n in self.topics],
            "ratings": self.ratings,
            "missed": self.missed,
        }


def compute(session: Session, period: Period, hours: OfficeHours, target_minutes: int,
            viewer: Adviser | None = None) -> DashboardStats:
    start, end = period.bounds()
    query = select(Handoff).where(Handoff.created_at >= start, Handoff.created_at < end).order_by(Handoff.id)
    rule = service._visible_to(viewer) if viewer is not None else None  # the console's need-to-know rule
    if rule is not None:
        query = query.where(rule)
    handoffs = list(session.scalars(query))

    days = period.days()
    by_channel: dict[dt.date, Counter[str]] = {d: Counter() for d in days}
    by_reason: dict[dt.date, Counter[str]] = {d: Counter() for d in days}
    topics: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for h in handoffs:
        day = local_day(h.created_at, period.tz)
        if day not in by_channel:  # cannot happen with the bounds above; kept safe for odd zone data
            continue
        by_channel[day][h.channel] += 1
        by_reason[day][h.reason] += 1
        raw = h.topic or str((h.summary or {}).get("topic") or "")
        key = normalise_topic(raw)
        if key:
            topics[key] += 1
            spelling.setdefault(key, " ".join(raw.split())[:80])

    replies = targets.first_reply_times(session, (h.id for h in handoffs))
    waits = [targets.office_minutes(h.created_at, replies[h.id], hours) for h in handoffs if h.id in replies]
    result = DashboardStats(
        period=period,
        total=len(handoffs),
        channels=sorted({h.channel for h in handoffs}),
        reasons=sorted({h.reason for h in handoffs}),
        by_channel=by_channel,
        by_reason=by_reason,
        waits=Waits(
            target_minutes=target_minutes,
            answered=len(waits),
            unanswered=sum(1 for h in handoffs if h.id not in replies and h.status != "closed"),
            within_target=sum(1 for w in waits if w <= target_minutes),
            median=round(statistics.median(waits), 1) if waits else None,
            p90=round(p90, 1) if (p90 := percentile(waits, 90)) is not None else None,
        ),
        topics=[(spelling[k], n) for k, n in topics.most_common() if n >= MIN_TOPIC_COUNT][:TOP_TOPICS],
    )
    _add_feedback(session, result)
    return result


def _add_feedback(session: Session, result: DashboardStats) -> None:
    """Satisfaction and the bot's misses from ``handoff.feedback`` (issue 14, part C: ``rating_summary`` and
    ``missed_summary``), imported on use so the dashboard works without that feature."""
    try:
        feedback = importlib.import_module("handoff.feedback")
    except ModuleNotFoundError:
        return
    start, end = result.period.bounds()
    if callable(getattr(feedback, "rating_summary", None)):
        r = feedback.rating_summary(session, start, end)
        result.ratings = {"count": r.count, "average": r.average, "comments": r.comments,
                          "distribution": {str(k): v for k, v in r.distribution.items()}}
    if callable(getattr(feedback, "missed_summary", None)):
        m = feedback.missed_summary(session, start, end)
        result.missed = {
            "conversations_total": m.conversations_total,
            "conversations_with_missed": m.conversations_with_missed,
            "share": m.share,
            # normalised and grouped texts, newest first (never the original wording of one person)
            "questions": [{"text": g.normalized, "count": g.count, "last_at": g.last_at.isoformat()}
                          for g in m.groups],
        }
