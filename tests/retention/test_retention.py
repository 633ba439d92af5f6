"""The retention job on SQLite and PostgreSQL with old and new data: only the old is gone, the counts are right,
the rows are really gone, a dry run deletes nothing, two runs never overlap, SQLite overwrites deleted rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from channels.console.models import ConsoleSession, LoginFailure
from channels.retention import LEASE, run
from channels.telegram.models import TelegramChat, TelegramPending
from core.db import make_engine, make_session_factory, session_scope, utcnow
from core.settings import RetentionSettings
from handoff import retention
from handoff.feedback_models import MissedMessage
from handoff.models import Adviser, AuditEntry, Handoff, HandoffMessage, HandoffNote, OutboxMessage

NOW = utcnow()
SECRET = "geheimer-text-7f3a"


def days(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def settings_for(app_url: str, tracker_url: str, **extra: str) -> RetentionSettings:
    return RetentionSettings.from_env({"KB_DATABASE_URL": app_url, "RETENTION_TRACKER_DB_URL": tracker_url, **extra})


def add_events(tracker_url: str, conversation: str, *ages_in_days: float) -> None:
    engine = make_engine(tracker_url)
    with engine.begin() as conn:
        for age in ages_in_days:
            ts = days(age).replace(tzinfo=dt.UTC).timestamp()
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                         {"s": conversation, "t": ts, "d": f'{{"text": "{SECRET}"}}'})
    engine.dispose()


def event_counts(tracker_url: str) -> dict[str, int]:
    engine = make_engine(tracker_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all()
    engine.dispose()
    return {sender: int(n) for sender, n in rows}


def handoff(session: Session, conversation: str, created: dt.datetime, closed: dt.datetime | None) -> Handoff:
    h = Handoff(conversation_id=conversation, channel="rest", status="closed" if closed else "waiting",
                reason="request", created_at=created, closed_at=closed, transcript=[{"role": "user", "text": SECRET}],
                summary={"topic": SECRET})
    session.add(h)
    session.flush()
    session.add(HandoffMessage(handoff_id=h.id, role="user", text=SECRET, created_at=created))
    session.add(HandoffNote(handoff_id=h.id, text=SECRET, created_at=created))
    session.add(AuditEntry(action="close", handoff_id=h.id, detail=SECRET, at=created))
    return h


def seed(app_url: str, tracker_url: str) -> None:
    # trackers: idle 100 days (purged), active yesterday (kept), old but with an open hand-off (kept),
    # old and recent events (kept: the last event counts)
    add_events(tracker_url, "old-conv", 120, 100)
    add_events(tracker_url, "new-conv", 3, 1)
    add_events(tracker_url, "open-conv", 150, 95)
    add_events(tracker_url, "mixed-conv", 200, 2)
    add_events(tracker_url, "tg-old", 100)
    with session_scope(make_session_factory(make_engine(app_url))) as s:
        adviser = Adviser(username="ret", display_name="Ret", password_hash="x", role="adviser")
        s.add(adviser)
        s.flush()
        handoff(s, "old-conv", days(300), days(200))  # closed 200 days ago: purged
        handoff(s, "new-conv", days(200), days(10))  # opened long ago, closed 10 days ago: kept
        handoff(s, "open-conv", days(30), None)  # open: kept, and its tracker too
        handoff(s, "stale-open", days(400), None)  # never closed, opened 400 days ago: purged
        s.add_all([
            OutboxMessage(conversation_id="new-conv", channel="rest", payload={"text": SECRET},
                          created_at=days(12), delivered_at=days(10)),  # delivered 10 days ago: purged
            OutboxMessage(conversation_id="new-conv", channel="rest", payload={"text": "neu"},
                          created_at=days(1), delivered_at=days(1)),  # kept
            OutboxMessage(conversation_id="open-conv", channel="telegram", payload={"text": "wartet"},
                          created_at=days(2)),  # undelivered, young: kept
            OutboxMessage(conversation_id="x", channel="telegram", payload={"text": SECRET},
                          created_at=days(190)),  # undelivered for 190 days: purged
        ])
        s.add_all([
            TelegramChat(chat_id=111, conversation_id="tg-old", created_at=days(200), last_seen_at=days(100)),
            TelegramChat(chat_id=222, conversation_id="tg-new", created_at=days(200), last_seen_at=days(1)),
            TelegramChat(chat_id=333, conversation_id="old-conv", created_at=days(100), last_seen_at=days(5)),
        ])
        s.add_all([
            TelegramPending(chat_id=111, text=SECRET, received_at=days(100)),
            TelegramPending(chat_id=222, text="neu", received_at=days(1)),
            TelegramPending(chat_id=333, text=SECRET, received_at=days(5)),
            TelegramPending(chat_id=444, text=SECRET, received_at=days(95)),  # a queue without a chat, old
        ])
        s.add_all([
            ConsoleSession(id="a" * 64, adviser_id=adviser.id, expires_at=NOW - dt.timedelta(hours=1)),
            ConsoleSession(id="b" * 64, adviser_id=adviser.id, expires_at=NOW + dt.timedelta(hours=1),
                           revoked_at=NOW - dt.timedelta(minutes=5)),
            ConsoleSession(id="c" * 64, adviser_id=adviser.id, expires_at=NOW + dt.timedelta(hours=1)),
            LoginFailure(username_key="k", address="127.0.0.1", at=days(2)),
            LoginFailure(username_key="k", address="127.0.0.1", at=NOW - dt.timedelta(minutes=1)),
        ])
        s.add_all([  # messages the bot missed: kept RETENTION_MISSED_DAYS (90)
            MissedMessage(pseudonym="G-OLD", channel="rest", text=SECRET, normalized="x", created_at=days(100)),
            MissedMessage(pseudonym="G-NEW", channel="rest", text="neu", normalized="y", created_at=days(1)),
        ])


def app_rows(app_url: str) -> dict[str, object]:
    with session_scope(make_session_factory(make_engine(app_url))) as s:
        def count(model: type) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "handoffs": sorted(s.scalars(select(Handoff.conversation_id))),
            "messages": count(HandoffMessage), "notes": count(HandoffNote),
            "audit_linked": int(s.scalar(select(func.count()).select_from(AuditEntry)
                                         .where(AuditEntry.handoff_id.is_not(None))) or 0),
            "audit": count(AuditEntry),
            "audit_with_text": int(s.scalar(select(func.count()).select_from(AuditEntry)
                                            .where(AuditEntry.detail == SECRET)) or 0),
            "outbox": sorted(str(m.payload["text"]) for m in s.scalars(select(OutboxMessage))),
            "chats": sorted(s.scalars(select(TelegramChat.chat_id))),
            "pending": sorted(s.scalars(select(TelegramPending.chat_id))),
            "sessions": sorted(s.scalars(select(ConsoleSession.id)))[:],
            "failures": count(LoginFailure),
            "missed": sorted(s.scalars(select(MissedMessage.pseudonym))),
        }


def test_only_old_data_is_deleted_and_counted(urls: tuple[str, str]) -> None:
    app_url, tracker_url = urls
    seed(app_url, tracker_url)

    counts = run(settings_for(app_url, tracker_url), now=NOW)

    assert counts == {
        "tracker_events": 3, "conversations": 2, "handoffs": 2, "outbox": 2, "telegram_chats": 2,
        "telegram_pending": 3, "console_sessions": 2, "login_failures": 1, "missed_and_usage": 1,
    }
    assert event_counts(tracker_url) == {"new-conv": 2, "open-conv": 2, "mixed-conv": 2}
    rows = app_rows(app_url)
    assert rows["handoffs"] == ["new-conv", "open-conv"]
    assert (rows["messages"], rows["notes"]) == (2, 2)
    assert rows["audit"] == 4 and rows["audit_linked"] == 2  # entries stay, without link …
    assert rows["audit_with_text"] == 2  # … and without their text
    assert rows["outbox"] == ["neu", "wartet"]
    assert rows["chats"] == [222]  # idle chat and the chat of a purged conversation are gone
    assert rows["pending"] == [222]
    assert rows["sessions"] == ["c" * 64]
    assert rows["failures"] == 1
    assert rows["missed"] == ["G-NEW"]


def test_dry_run_counts_but_deletes_nothing(urls: tuple[str, str]) -> None:
    app_url, tracker_url = urls
    seed(app_url, tracker_url)
    before = (event_counts(tracker_url), app_rows(app_url))

    counts = run(settings_for(app_url, tracker_url), dry_run=True, now=NOW)

    assert counts is not None and counts["conversations"] == 2 and counts["handoffs"] == 2
    assert (event_counts(tracker_url), app_rows(app_url)) == before
    assert run(settings_for(app_url, tracker_url), now=NOW) == counts  # the real run deletes what was counted


def test_second_run_in_parallel_or_too_soon_is_skipped(urls: tuple[str, str]) -> None:
    app_url, tracker_url = urls
    settings = settings_for(app_url, tracker_url, RETENTION_INTERVAL_HOURS="24")
    factory = make_session_factory(make_engine(app_url))
    with factory() as holder:
        assert retention.acquire(holder, NOW, LEASE)  # another worker is purging right now
        assert run(settings, now=NOW) is None
        assert run(settings, scheduled=True, now=NOW) is None
        retention.release(holder, NOW, {"x": 0})
    assert run(settings, scheduled=True, now=NOW + dt.timedelta(hours=1)) is None  # last run an hour ago
    assert run(settings, scheduled=True, now=NOW + dt.timedelta(hours=22)) is not None  # due (90 % of 24 h)
    assert run(settings, now=NOW + dt.timedelta(hours=23)) is not None  # by hand: whenever nobody else runs
    assert run(settings, now=NOW + LEASE * 3, ) is not None
    with factory() as holder:  # a crashed run's lease expires
        assert retention.acquire(holder, NOW, LEASE)
    assert run(settings, now=NOW + LEASE + dt.timedelta(seconds=1)) is not None


def test_missing_tracker_file_is_not_created(tmp_path: Path) -> None:
    app_url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    from core.migrate import upgrade

    upgrade(app_url)
    settings = RetentionSettings.from_env({"KB_DATABASE_URL": app_url, "TRACKER_DB_PATH": str(tmp_path / "t.db")})
    counts = run(settings, now=NOW)
    assert counts is not None and counts["conversations"] == 0
    assert not (tmp_path / "t.db").exists()


def test_sqlite_overwrites_deleted_rows(tmp_path: Path) -> None:
    """``PRAGMA secure_delete`` is on for the application's SQLite connections: the purged text is not left in
    the file's free pages."""
    app_url, tracker_url = f"sqlite:///{tmp_path / 'kb.sqlite3'}", f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    from core.migrate import upgrade

    upgrade(app_url)
    engine = make_engine(tracker_url)
    with engine.begin() as conn:
        assert conn.execute(text("PRAGMA secure_delete")).scalar() == 1
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name "
                          "VARCHAR(255), timestamp FLOAT, data TEXT)"))
    engine.dispose()
    add_events(tracker_url, "old-conv", *([100] * 50))
    with session_scope(make_session_factory(make_engine(app_url))) as s:
        assert s.execute(text("PRAGMA secure_delete")).scalar() == 1
        handoff(s, "old-conv", days(300), days(200))
    for path in (tmp_path / "kb.sqlite3", tmp_path / "tracker.sqlite3"):
        assert SECRET.encode() in path.read_bytes()

    counts = run(settings_for(app_url, tracker_url), now=NOW)

    assert counts and counts["tracker_events"] == 50 and counts["handoffs"] == 1
    for path in (tmp_path / "kb.sqlite3", tmp_path / "tracker.sqlite3"):
        assert SECRET.encode() not in path.read_bytes(), path.name
    plain = sqlite3.connect(tmp_path / "plain.sqlite3")  # the check can fail: without the pragma the text stays
    plain.execute("PRAGMA secure_delete=OFF")
    plain.execute("CREATE TABLE t (x TEXT)")
    plain.executemany("INSERT INTO t VALUES (?)", [(SECRET,)] * 50)
    plain.commit()
    plain.execute("DELETE FROM t")
    plain.commit()
    plain.close()
    assert SECRET.encode() in (tmp_path / "plain.sqlite3").read_bytes()


def test_database_files_are_private(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'kb.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "new" / "kb.sqlite3").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("argv", [["--dry-run", "--json"]])
def test_cli_prints_counts(tmp_path: Path, argv: list[str], monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from channels.retention import main

    monkeypatch.setenv("KB_DATABASE_URL", f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    monkeypatch.setenv("TRACKER_DB_PATH", str(tmp_path / "none.sqlite3"))
    monkeypatch.delenv("RETENTION_TRACKER_DB_URL", raising=False)
    assert main(argv) == 0
    assert '"dry_run": true' in capsys.readouterr().out
