"""handoff.feedback: recording turns, ratings, review, export, retention and the dashboard's numbers
(Europe/Berlin days, empty periods) on a migrated SQLite database."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory
from core.migrate import upgrade
from core.protocol import pseudonym
from handoff import feedback, service
from handoff.feedback_models import HandoffRating, MissedMessage
from handoff.models import Adviser
from tests.conftest import require_ci_service
from tests.integration.conftest import PG_HOST, PG_PORT, PG_USER, _admin

BERLIN = ZoneInfo("Europe/Berlin")
P1 = pseudonym("k", "conv-1")
P2 = pseudonym("k", "conv-2")
P3 = pseudonym("k", "conv-3")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("feedback") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this module (tests roll back, nothing is committed)."""
    try:
        admin = _admin()
    except Exception as exc:  # noqa: BLE001
        require_ci_service("PostgreSQL", f"{PG_HOST}:{PG_PORT}: {exc}")
    name = f"feedback_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    upgrade(url)
    yield url
    with _admin() as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request: pytest.FixtureRequest, tmp_path: Path, template: Path) -> Iterator[Session]:
    if request.param == "sqlite":
        target = tmp_path / "db.sqlite3"
        shutil.copy(template, target)
        factory = make_session_factory(make_engine(f"sqlite:///{target}"))
        with factory() as s:
            yield s
        return
    engine = make_engine(request.getfixturevalue("pg_url"))
    with engine.connect() as conn:
        transaction = conn.begin()
        with Session(bind=conn) as s:
            yield s
        transaction.rollback()
    engine.dispose()


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def turn(s: Session, p: str, at: dt.datetime, intent: str | None = "ask_funding", *, missed: bool = False,
         text: str | None = None) -> MissedMessage | None:
    return feedback.record_turn(s, pseudonym=p, channel="rest", intent=intent, confidence=0.9 if not missed else 0.3,
                                missed=missed, text=text, now=at)


def closed_handoff(s: Session, conversation_id: str, closed_at: dt.datetime, persona: str = "student") -> int:
    h = service.create_handoff(s, conversation_id=conversation_id, channel="rest", reason="request", topic=None,
                               contact=None, transcript=[], summary={"persona": persona})
    h.status = "closed"
    h.closed_at = closed_at.astimezone(dt.UTC).replace(tzinfo=None)
    s.flush()
    return h.id


def test_normalize_groups_spelling_variants() -> None:
    assert feedback.normalize("  Wie viel GELD bekomme ich??  ") == "wie viel geld bekomme ich"
    assert feedback.normalize("wie viel geld bekomme ich") == feedback.normalize("Wie viel Geld – bekomme ich!")
    assert feedback.normalize("Über_Ausbildung") == "über ausbildung"


def test_record_turn_refuses_a_raw_conversation_id(session: Session) -> None:
    with pytest.raises(feedback.FeedbackError):
        feedback.record_turn(session, pseudonym="conv-1", channel="rest", intent=None, confidence=None,
                             missed=True, text="hallo")


def test_missed_text_is_bounded_and_only_kept_when_missed(session: Session) -> None:
    now = utc(2026, 3, 10, 12)
    assert turn(session, P1, now, text="wird nicht gespeichert") is None
    stored = turn(session, P1, now, "nlu_fallback", missed=True, text="x" * 2000)
    assert stored is not None and len(stored.text) == 500
    assert session.query(MissedMessage).count() == 1


def test_empty_period(session: Session) -> None:
    start, end = berlin(2026, 3, 1), berlin(2026, 3, 8)
    ratings = feedback.rating_summary(session, start, end)
    assert (ratings.count, ratings.average, ratings.comments) == (0, None, 0)
    assert ratings.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    missed = feedback.missed_summary(session, start, end)
    assert (missed.conversations_total, missed.conversations_with_missed, missed.groups, missed.share) == (0, 0, [], None)
    assert feedback.top_topics(session, start, end) == []


def test_days_are_berlin_days(session: Session) -> None:
    # 23:30 UTC on 9 March is 00:30 on 10 March in Berlin (CET): it belongs to the 10th
    turn(session, P1, utc(2026, 3, 9, 23, 30), "ask_parttime")
    turn(session, P2, utc(2026, 3, 9, 22, 30), "ask_abroad")  # 23:30 on the 9th in Berlin
    tenth = feedback.missed_summary(session, berlin(2026, 3, 10), berlin(2026, 3, 11))
    assert tenth.conversations_total == 1
    assert feedback.top_topics(session, berlin(2026, 3, 10), berlin(2026, 3, 11)) == [("ask_parttime", 1)]
    assert feedback.top_topics(session, berlin(2026, 3, 9), berlin(2026, 3, 10)) == [("ask_abroad", 1)]
    # summer time (CEST, UTC+2): 22:30 UTC on 1 July is 00:30 on 2 July
    turn(session, P3, utc(2026, 7, 1, 22, 30), "ask_funding")
    assert feedback.top_topics(session, berlin(2026, 7, 2), berlin(2026, 7, 3)) == [("ask_funding", 1)]


def test_share_of_conversations_with_missed_messages_and_topics(session: Session) -> None:
    day = utc(2026, 3, 10, 9)
    for p in (P1, P2, P3):
        turn(session, p, day, "ask_funding")
        turn(session, p, day + dt.timedelta(days=1), "ask_funding")  # the next day: still one conversation each
    turn(session, P1, day, "ask_parttime")
    turn(session, P1, day, "greet")  # not a topic
    turn(session, P2, day, "nlu_fallback", missed=True, text="Was ist mit Bafög??")
    turn(session, P2, day + dt.timedelta(hours=1), "ask_funding", missed=True, text="was ist mit bafög")
    summary = feedback.missed_summary(session, berlin(2026, 3, 9), berlin(2026, 3, 16))
    assert (summary.conversations_total, summary.conversations_with_missed) == (3, 1)
    assert summary.share == pytest.approx(1 / 3)
    assert len(summary.groups) == 1 and summary.groups[0].count == 2
    assert summary.groups[0].example == "was ist mit bafög"  # the newest text
    assert feedback.top_topics(session, berlin(2026, 3, 9), berlin(2026, 3, 16)) == [
        ("ask_funding", 6), ("ask_parttime", 1)]
    assert feedback.top_topics(session, berlin(2026, 3, 9), berlin(2026, 3, 16), limit=1) == [("ask_funding", 6)]


def test_groups_newest_first(session: Session) -> None:
    turn(session, P1, utc(2026, 3, 10, 9), missed=True, text="alt")
    turn(session, P1, utc(2026, 3, 11, 9), missed=True, text="neu")
    assert [g.normalized for g in feedback.missed_groups(session)] == ["neu", "alt"]


def test_rating_once_for_the_latest_closed_handoff_of_the_conversation(session: Session) -> None:
    now = utc(2026, 3, 10, 12)
    older = closed_handoff(session, "conv-1", now - dt.timedelta(days=2))
    latest = closed_handoff(session, "conv-1", now - dt.timedelta(minutes=5))
    closed_handoff(session, "conv-2", now - dt.timedelta(minutes=1))
    rating = feedback.rate_latest(session, "conv-1", 4, now)
    assert rating is not None and rating.handoff_id == latest
    assert feedback.rate_latest(session, "conv-1", 1, now) is None  # once
    assert feedback.rating_for(session, older) is None
    assert feedback.rate_latest(session, "conv-unknown", 5, now) is None
    assert feedback.add_comment(session, "conv-1", "  Sehr hilfreich <b>danke</b> " + "x" * 2000, now)
    stored = feedback.rating_for(session, latest)
    assert stored is not None and stored.comment is not None and len(stored.comment) == 1000
    assert stored.comment.startswith("Sehr hilfreich <b>danke</b>")
    assert not feedback.add_comment(session, "conv-1", "noch einer", now)  # the comment is taken
    with pytest.raises(feedback.FeedbackError):
        feedback.rate_latest(session, "conv-2", 6, now)


def test_a_long_closed_handoff_cannot_be_rated(session: Session) -> None:
    now = utc(2026, 3, 30)
    closed_handoff(session, "conv-1", now - dt.timedelta(days=20))
    assert feedback.rate_latest(session, "conv-1", 5, now) is None


def test_rating_summary(session: Session) -> None:
    for i, (rating, comment) in enumerate([(5, "super"), (4, None), (4, None), (1, "nicht geholfen")]):
        hid = closed_handoff(session, f"c{i}", utc(2026, 3, 10))
        session.add(HandoffRating(handoff_id=hid, rating=rating, comment=comment,
                                  created_at=dt.datetime(2026, 3, 10, 10 + i)))
    session.add(HandoffRating(handoff_id=closed_handoff(session, "c9", utc(2026, 3, 1)), rating=1,
                              created_at=dt.datetime(2026, 3, 1)))  # before the period
    summary = feedback.rating_summary(session, berlin(2026, 3, 9), berlin(2026, 3, 16))
    assert summary.count == 4 and summary.average == 3.5 and summary.comments == 2
    assert summary.distribution == {1: 1, 2: 0, 3: 0, 4: 2, 5: 1}


def test_rating_question_and_payload() -> None:
    question = feedback.rating_question("parent")
    assert "Sie" in question["text"] and len(question["buttons"]) == 5
    assert question["buttons"][3]["payload"] == '/rate_handoff{"handoff_rating":"4"}'
    assert "warst du" in feedback.rating_question(None)["text"]
    assert feedback.parse_rating("4") == 4 and feedback.parse_rating("5 Sterne") == 5
    assert feedback.parse_rating("10") is None and feedback.parse_rating(True) is None


def test_review_export_and_counts(session: Session) -> None:
    adviser = Adviser(username="a", display_name="A", password_hash="x")
    session.add(adviser)
    session.flush()
    at = utc(2026, 3, 10, 9)
    turn(session, P1, at, missed=True, text="Wie viel Geld gibt es [dafür]?")
    turn(session, P2, at, missed=True, text="wie viel geld gibt es dafür")
    turn(session, P1, at, missed=True, text="Wo wohnt der Papst")
    turn(session, P3, at, missed=True, text="Teilzeit mit Kind")
    turn(session, P3, at, missed=True, text="noch offen")
    assert feedback.review_counts(session) == (0, 4)
    groups = {g.example: g.normalized for g in feedback.missed_groups(session)}
    assert feedback.review_group(session, feedback.normalize("wie viel geld gibt es dafür"),
                                 "intent:ask_training_pay", adviser) == 2
    feedback.review_group(session, groups["Wo wohnt der Papst"], "out_of_scope", adviser)
    feedback.review_group(session, groups["Teilzeit mit Kind"], "article:teilzeit", adviser)
    assert feedback.review_counts(session) == (3, 4)
    exported = feedback.export_training_yaml(session, at)
    data = yaml.safe_load(exported)
    by_intent = {item["intent"]: item["examples"] for item in data["nlu"]}
    assert by_intent["ask_training_pay"] == "- Wie viel Geld gibt es (dafür)?\n- wie viel geld gibt es dafür\n"
    assert by_intent["out_of_scope"] == "- Wo wohnt der Papst\n"
    assert "# article: teilzeit" in exported and "#   - Teilzeit mit Kind" in exported
    assert "noch offen" not in exported  # reviewed only
    assert feedback.valid_label("intent:ask_funding", {"ask_funding"}, set())
    assert not feedback.valid_label("intent:erfunden", {"ask_funding"}, set())
    assert not feedback.valid_label("article:x", set(), {"y"})
    with pytest.raises(feedback.FeedbackError):
        feedback.review_group(session, "x", "intent:\n- böse", adviser)


def test_empty_export_is_valid_yaml(session: Session) -> None:
    assert yaml.safe_load(feedback.export_training_yaml(session)) == {"version": "3.1", "nlu": []}


def test_purge_feedback_keeps_the_retention_period(session: Session) -> None:
    now = utc(2026, 6, 30, 12)
    turn(session, P1, now - dt.timedelta(days=91), missed=True, text="alt")
    turn(session, P2, now - dt.timedelta(days=89), missed=True, text="neu")
    assert feedback.purge_feedback(session, now) == 2  # the old message and its day row
    assert [m.text for m in session.query(MissedMessage)] == ["neu"]
    assert feedback.missed_summary(session, now - dt.timedelta(days=100), now).conversations_total == 1
    assert feedback.purge_feedback(session, now, retention_days=30) == 2
    assert session.query(MissedMessage).count() == 0


def test_delete_pseudonym(session: Session) -> None:
    turn(session, P1, utc(2026, 3, 10), missed=True, text="meins")
    turn(session, P2, utc(2026, 3, 10), missed=True, text="deins")
    assert feedback.delete_pseudonym(session, P1) == 2
    assert [m.text for m in session.query(MissedMessage)] == ["deins"]
