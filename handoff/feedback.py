"""Satisfaction ratings and what the bot missed: recording, review, export and the dashboard's numbers.

How the console learns of turns: after every bot turn that is not paused, Rasa's REST channel calls
``rasa_plugins.usage.report_turn`` (fire and forget). It reads the turn's intent and confidence from the tracker and
posts them with the conversation's *pseudonym* to the console (``protocol.CONSOLE_USAGE_PATH``); the text travels
only when the bot missed the message (``nlu_fallback``, core fallback or confidence below
``protocol.MISSED_CONFIDENCE``). :func:`record_turn` turns that into daily counts (no text) and a
:class:`MissedMessage`.

Ratings: when an adviser closes a case and the bot is resumed, :func:`rating_question` is dispatched once to the
user's channel (buttons 1–5, payload ``/rate_handoff{"handoff_rating":"4"}``); the action server stores the answer
with :func:`rate_latest` and the optional comment with :func:`add_comment`.

Days are calendar days in Europe/Berlin (:data:`ZONE`); timestamps are stored in UTC without zone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.protocol import MAX_MISSED_TEXT, BotMessage
from handoff.feedback_models import (
    MAX_COMMENT,
    MAX_LABEL,
    ConversationDay,
    HandoffRating,
    MissedMessage,
    TopicDay,
)
from handoff.models import Adviser, Handoff

__all__ = [
    "ConversationDay", "HandoffRating", "MissedMessage", "TopicDay", "MissedGroup", "MissedSummary", "RatingSummary",
    "add_comment", "delete_pseudonym", "export_training_yaml", "missed_groups", "missed_summary", "normalize",
    "purge_feedback", "rate_latest", "rating_for", "rating_payload", "rating_question", "rating_summary",
    "record_turn", "review_counts", "review_group", "top_topics",
]

ZONE = ZoneInfo("Europe/Berlin")
DEFAULT_RETENTION_DAYS = 90
RATING_WINDOW = dt.timedelta(days=14)  # a closed hand-off can be rated this long
COMMENT_WINDOW = dt.timedelta(hours=24)  # the comment follows the rating within this time
RATING_INTENT = "rate_handoff"
RATING_ENTITY = "handoff_rating"
OUT_OF_SCOPE = "out_of_scope"
LABEL_INTENT = "intent:"
LABEL_ARTICLE = "article:"
# Intents that are no topic ("most asked topics" leaves them out).
NOT_TOPICS = frozenset({
    "nlu_fallback", "greet", "goodbye", "thanks", "affirm", "deny", "skip", "help", "bot_challenge",
    RATING_INTENT, "inform_parent", "inform_student", "request_data_deletion", "request_data_export",
    "request_more_results", "widen_radius",
})
_MAX_CHANNEL = 30
_MAX_INTENT = 100
_PSEUDONYM = re.compile(r"^G-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{2}$")
_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)
_LABEL = re.compile(r"^(intent:[A-Za-z0-9_]{1,100}|article:[A-Za-z0-9_.-]{1,80}|out_of_scope)$")


class FeedbackError(ValueError):
    """A value from outside (usage report, review form) that cannot be stored."""


# --- helpers ---------------------------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """The grouping key of a missed message: lower case, words only, single spaces ("Wie viel Geld??" and
    "wie viel geld" are one group)."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).replace("_", " ").split())[:MAX_MISSED_TEXT]


def local_day(moment: dt.datetime) -> dt.date:
    """The Europe/Berlin calendar day of a UTC timestamp (naive = UTC, as stored)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZONE).date()


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _day_range(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The Berlin days a period [start, end) touches, as an inclusive range."""
    last = end - dt.timedelta(microseconds=1)
    return local_day(start), local_day(max(last, start))


def _clean_text(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


# --- recording turns ---------------------------------------------------------------------------------------------


def record_turn(
    session: Session,
    *,
    pseudonym: str,
    channel: str,
    intent: str | None,
    confidence: float | None,
    missed: bool,
    text: str | None,
    now: dt.datetime | None = None,
) -> MissedMessage | None:
    """Count one bot turn of a conversation (by pseudonym) and keep the text if the bot missed it. Returns the
    stored missed message, if any. Raises :class:`FeedbackError` for values that are not a report."""
    if not _PSEUDONYM.match(pseudonym or ""):
        raise FeedbackError("pseudonym")
    now = _utc_naive(now or utcnow())
    day = local_day(now)
    channel = (channel or "rest")[:_MAX_CHANNEL]
    intent = intent[:_MAX_INTENT] if intent else None
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        confidence = None
    row = session.get(ConversationDay, (day, pseudonym))
    if row is None:
        row = ConversationDay(day=day, pseudonym=pseudonym, channel=channel, turns=0, missed=0)
        session.add(row)
    row.turns += 1
    cleaned = _clean_text(text or "", MAX_MISSED_TEXT)
    if missed:
        row.missed += 1
    elif intent and intent not in NOT_TOPICS:
        topic = session.get(TopicDay, (day, intent))
        if topic is None:
            session.add(TopicDay(day=day, topic=intent, count=1))
        else:
            topic.count += 1
    session.flush()
    if not missed or not cleaned:
        return None
    message = MissedMessage(pseudonym=pseudonym, channel=channel, text=cleaned, normalized=normalize(cleaned) or "-",
                            intent=intent, confidence=confidence, created_at=now)
    session.add(message)
    session.flush()
    return message


# --- ratings -----------------------------------------------------------------------------------------------------


def rating_payload(rating: int) -> str:
    """The button payload that Rasa's RegexMessageHandler turns into intent ``rate_handoff`` with the rating."""
    return "/" + RATING_INTENT + json.dumps({RATING_ENTITY: str(rating)}, separators=(",", ":"))


_FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"}


def rating_question(persona: str | None) -> BotMessage:
    """The question after a closed hand-off (du, or Sie for parents), with the buttons 1–5."""
    if persona == "parent":
        text = ("Wie zufrieden waren Sie mit der Beratung? Bitte wählen Sie von 1 (gar nicht) bis 5 (sehr). "
                "Ihre Antwort hilft dem Beratungsteam.")
    else:
        text = ("Wie zufrieden warst du mit der Beratung? Wähl einfach von 1 (gar nicht) bis 5 (sehr). "
                "Deine Antwort hilft dem Beratungsteam.")
    buttons = [{"title": f"{n} {_FACES[n]}", "payload": rating_payload(n)} for n in range(1, 6)]
    return {"text": text, "buttons": buttons}


def rating_for(session: Session, handoff_id: int) -> HandoffRating | None:
    return session.scalar(select(HandoffRating).where(HandoffRating.handoff_id == handoff_id))


def parse_rating(value: Any) -> int | None:
    """1–5 from a slot value or typed text ("4", "4 Sterne", 4.0); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer():
        number = int(value)
        return number if 1 <= number <= 5 else None
    if isinstance(value, str):
        match = re.search(r"(?<!\d)([1-5])(?!\d)", value)
        return int(match.group(1)) if match else None
    return None


def rate_latest(session: Session, conversation_id: str, rating: int, now: dt.datetime | None = None) -> HandoffRating | None:
    """Store the rating of the conversation's most recently closed hand-off (closed within
    :data:`RATING_WINDOW`, not rated yet). None if there is nothing to rate (also: already rated)."""
    if not 1 <= rating <= 5:
        raise FeedbackError("rating")
    now = _utc_naive(now or utcnow())
    handoff = session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status == "closed",
               Handoff.closed_at >= now - RATING_WINDOW)
        .order_by(Handoff.closed_at.desc(), Handoff.id.desc())
        .limit(1)
    )
    if handoff is None or rating_for(session, handoff.id) is not None:
        return None
    stored = HandoffRating(handoff_id=handoff.id, rating=rating, created_at=now)
    session.add(stored)
    session.flush()
    return stored


def add_comment(session: Session, conversation_id: str, comment: str, now: dt.datetime | None = None) -> bool:
    """Attach the comment (cut to 1,000 characters) to the conversation's latest rating without one, given within
    :data:`COMMENT_WINDOW`. Returns whether it was stored."""
    text = comment.strip()[:MAX_COMMENT]
    if not text:
        return False
    now = _utc_naive(now or utcnow())
    rating = session.scalar(
        select(HandoffRating)
        .join(Handoff, Handoff.id == HandoffRating.handoff_id)
        .where(Handoff.conversation_id == conversation_id, HandoffRating.comment.is_(None),
               HandoffRating.created_at >= now - COMMENT_WINDOW)
        .order_by(HandoffRating.created_at.desc(), HandoffRating.id.desc())
        .limit(1)
    )
    if rating is None:
        return False
    rating.comment = text
    session.flush()
    return True


# --- review of missed messages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissedGroup:
    normalized: str
    count: int
    last_at: dt.datetime
    example: str = ""  # the newest original text of the group (for the review page only)
    intent: str | None = None  # the classifier's best guess of the newest message
    label: str | None = None  # the newest review of the group
    reviewed: bool = False  # every message of the group has a label


def _retained(now: dt.datetime, retention_days: int) -> dt.datetime:
    return _utc_naive(now) - dt.timedelta(days=retention_days)


def missed_groups(
    session: Session,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 200,
) -> list[MissedGroup]:
    """Missed messages grouped by normalized text, newest group first."""
    query = select(
        MissedMessage.normalized,
        func.count(MissedMessage.id),
        func.max(MissedMessage.created_at),
        func.max(MissedMessage.id),
        func.count(MissedMessage.label),
    ).group_by(MissedMessage.normalized)
    if start is not None:
        query = query.where(MissedMessage.created_at >= _utc_naive(start))
    if end is not None:
        query = query.where(MissedMessage.created_at < _utc_naive(end))
    rows = session.execute(query.order_by(func.max(MissedMessage.created_at).desc()).limit(limit)).all()
    newest_ids = [row[3] for row in rows]
    newest = {m.id: m for m in session.scalars(select(MissedMessage).where(MissedMessage.id.in_(newest_ids)))}
    labels: dict[str, str] = {}
    if rows:
        for normalized, label in session.execute(
            select(MissedMessage.normalized, MissedMessage.label)
            .where(MissedMessage.normalized.in_([row[0] for row in rows]), MissedMessage.label.is_not(None))
            .order_by(MissedMessage.reviewed_at)
        ):
            if label:
                labels[normalized] = label  # the newest review wins
    groups = []
    for normalized, count, last_at, newest_id, labelled in rows:
        message = newest.get(newest_id)
        groups.append(MissedGroup(
            normalized=normalized, count=int(count), last_at=last_at,
            example=message.text if message else "", intent=message.intent if message else None,
            label=labels.get(normalized), reviewed=int(labelled) == int(count),
        ))
    return groups


def review_counts(session: Session) -> tuple[int, int]:
    """(groups reviewed completely, groups) of the missed messages kept."""
    rows = session.execute(
        select(func.count(MissedMessage.id), func.count(MissedMessage.label)).group_by(MissedMessage.normalized)
    ).all()
    return sum(1 for total, labelled in rows if total == labelled), len(rows)


def valid_label(label: str, intents: set[str], articles: set[str]) -> bool:
    if not _LABEL.match(label) or len(label) > MAX_LABEL:
        return False
    if label.startswith(LABEL_INTENT):
        return label[len(LABEL_INTENT):] in intents
    if label.startswith(LABEL_ARTICLE):
        return label[len(LABEL_ARTICLE):] in articles
    return label == OUT_OF_SCOPE


def review_group(session: Session, normalized: str, label: str, adviser: Adviser, now: dt.datetime | None = None) -> int:
    """Label every message of a group (intent:NAME, article:SLUG or out_of_scope; the caller checks the name
    against the domain and the knowledge base with :func:`valid_label`). Returns the number of messages."""
    if not _LABEL.match(label):
        raise FeedbackError("label")
    result = session.execute(
        update(MissedMessage)
        .where(MissedMessage.normalized == normalized)
        .values(label=label, reviewed_by=adviser.id, reviewed_at=_utc_naive(now or utcnow()))
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def _example(text: str) -> str:
    """One line of Rasa's NLU format: no line breaks, no entity markup."""
    return " ".join(text.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")").split())


def export_training_yaml(session: Session, now: dt.datetime | None = None) -> str:
    """Suggested NLU training examples from the reviewed missed messages (Rasa's nlu format, per intent; article
    labels as comments for the article's example questions). For the content team to review — never trained
    automatically."""
    by_intent: dict[str, list[str]] = {}
    by_article: dict[str, list[str]] = {}
    rows = session.execute(
        select(MissedMessage.label, MissedMessage.text)
        .where(MissedMessage.label.is_not(None))
        .order_by(MissedMessage.label, MissedMessage.created_at)
    )
    for label, text in rows:
        line = _example(text)
        if not line or not label:
            continue
        if label == OUT_OF_SCOPE:
            target = by_intent.setdefault(OUT_OF_SCOPE, [])
        elif label.startswith(LABEL_INTENT):
            target = by_intent.setdefault(label[len(LABEL_INTENT):], [])
        else:
            target = by_article.setdefault(label[len(LABEL_ARTICLE):], [])
        if line not in target:
            target.append(line)
    stamp = local_day(_utc_naive(now or utcnow())).isoformat()
    out = [
        "# Vorschläge für NLU-Trainingsbeispiele aus der Konsole (Seite /verpasst), Stand " + stamp + ".",
        "# Bitte prüfen, bevor etwas nach nlu_data/ übernommen wird — es wird nichts automatisch trainiert.",
        'version: "3.1"',
        "nlu:" if by_intent else "nlu: []",
    ]
    for intent in sorted(by_intent):
        out.append(f"- intent: {intent}")
        out.append("  examples: |")
        out.extend(f"    - {line}" for line in by_intent[intent])
    if by_article:
        out.append("# Fragen zu Wissensartikeln (als Beispielfragen des Artikels in knowledge_base/content prüfen):")
        for slug in sorted(by_article):
            out.append(f"# article: {slug}")
            out.extend(f"#   - {line}" for line in by_article[slug])
    return "\n".join(out) + "\n"


# --- retention and deletion --------------------------------------------------------------------------------------


def purge_feedback(session: Session, now: dt.datetime, retention_days: int = DEFAULT_RETENTION_DAYS) -> int:
    """Delete missed messages and daily counts older than the retention period (ratings go with their hand-off).
    Returns the number of rows deleted. Called by the retention job."""
    cutoff = _retained(now, retention_days)
    cutoff_day = local_day(cutoff)
    deleted = 0
    for statement in (
        delete(MissedMessage).where(MissedMessage.created_at < cutoff),
        delete(ConversationDay).where(ConversationDay.day < cutoff_day),
        delete(TopicDay).where(TopicDay.day < cutoff_day),
    ):
        deleted += int(getattr(session.execute(statement), "rowcount", 0) or 0)
    session.flush()
    return deleted


def delete_pseudonym(session: Session, pseudonym: str) -> int:
    """Delete the missed messages and daily rows of one conversation (the user asked to delete their data)."""
    deleted = 0
    for statement in (
        delete(MissedMessage).where(MissedMessage.pseudonym == pseudonym),
        delete(ConversationDay).where(ConversationDay.pseudonym == pseudonym),
    ):
        deleted += int(getattr(session.execute(statement), "rowcount", 0) or 0)
    session.flush()
    return deleted


# --- the dashboard's numbers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: float | None
    distribution: dict[int, int]  # rating 1–5 → count (every key present)
    comments: int  # ratings with a comment


@dataclass(frozen=True)
class MissedSummary:
    conversations_total: int
    conversations_with_missed: int
    groups: list[MissedGroup] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        """Share of conversations with at least one missed message (None without conversations)."""
        return self.conversations_with_missed / self.conversations_total if self.conversations_total else None


def rating_summary(session: Session, start: dt.datetime, end: dt.datetime) -> RatingSummary:
    """Ratings given in [start, end) (aware or naive-UTC datetimes)."""
    rows = session.execute(
        select(HandoffRating.rating, HandoffRating.comment).where(
            HandoffRating.created_at >= _utc_naive(start), HandoffRating.created_at < _utc_naive(end))
    ).all()
    distribution = dict.fromkeys(range(1, 6), 0)
    distribution.update(Counter(int(r) for r, _ in rows if 1 <= int(r) <= 5))
    count = len(rows)
    average = round(sum(int(r) for r, _ in rows) / count, 2) if count else None
    return RatingSummary(count=count, average=average, distribution=distribution,
                         comments=sum(1 for _, c in rows if c))


def missed_summary(session: Session, start: dt.datetime, end: dt.datetime, limit: int = 50) -> MissedSummary:
    """Conversations active on the Europe/Berlin days of [start, end), how many had a missed message, and the
    missed messages of the period grouped by normalized text (newest first). A conversation active on several
    days counts once."""
    first, last = _day_range(start, end)
    in_period = (ConversationDay.day >= first, ConversationDay.day <= last)
    total = session.scalar(select(func.count(func.distinct(ConversationDay.pseudonym))).where(*in_period)) or 0
    with_missed = session.scalar(
        select(func.count(func.distinct(ConversationDay.pseudonym))).where(*in_period, ConversationDay.missed > 0)
    ) or 0
    return MissedSummary(conversations_total=int(total), conversations_with_missed=int(with_missed),
                         groups=missed_groups(session, start=start, end=end, limit=limit))


def top_topics(session: Session, start: dt.datetime, end: dt.datetime, limit: int = 10) -> list[tuple[str, int]]:
    """The most recognised intents (topics) on the Europe/Berlin days of [start, end): (intent, count), most first."""
    first, last = _day_range(start, end)
    total = func.sum(TopicDay.count)
    rows = session.execute(
        select(TopicDay.topic, total).where(TopicDay.day >= first, TopicDay.day <= last)
        .group_by(TopicDay.topic).order_by(total.desc(), TopicDay.topic).limit(limit)
    ).all()
    return [(topic, int(count)) for topic, count in rows]
