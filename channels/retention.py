"""The retention job: ``python -m channels.retention [--dry-run]`` (the console runs it every
``RETENTION_INTERVAL_HOURS`` as ``--scheduled``).

Deletes, in this order:

1. Rasa's trackers whose last event is older than ``RETENTION_CONVERSATION_DAYS`` (90), except conversations with
   an open hand-off (``handoff/trackers.py``: SQL on the tracker store's ``events`` table);
2. hand-offs ``RETENTION_HANDOFF_DAYS`` (180) after closing, with thread, notes, transcript; delivered outbox
   messages after ``RETENTION_OUTBOX_DAYS`` (7) (``handoff/retention.py``);
3. Telegram mappings (chat ↔ conversation) of purged or idle conversations and their queued messages;
4. ended console sessions and old failed logins; messages the bot missed and usage counts after
   ``RETENTION_MISSED_DAYS`` (``handoff.feedback.purge_feedback``).

One process at a time (a lease in ``retention_run``); ``--scheduled`` also skips when the last run is more recent
than 90 % of the interval, so several console workers do not each purge. ``--dry-run`` does everything in
transactions that are rolled back and prints what would be deleted. The log line has counts only.

This module sits beside the channel packages, not in one of them: it touches the console's and the Telegram
bridge's tables, and those two packages must not import each other (the console starts it as a process).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from channels.console.models import ConsoleSession, LoginFailure
from channels.telegram import store as telegram_store
from core.db import make_engine, make_session_factory, utcnow
from core.errors import SettingsError
from core.migrate import upgrade
from core.settings import RetentionSettings
from handoff import retention, trackers

log = logging.getLogger("retention")
LEASE = dt.timedelta(hours=1)
LOGIN_FAILURE_DAYS = 1  # the throttling window is minutes; a day is plenty for anything still counting


def policy_of(settings: RetentionSettings) -> retention.Policy:
    return retention.Policy(settings.conversation_days, settings.handoff_days, settings.outbox_days,
                            settings.missed_days)


def purge_console(session: Session, now: dt.datetime) -> tuple[int, int]:
    """Console sessions that ended (expired or revoked) and failed logins older than a day."""
    sessions = session.execute(delete(ConsoleSession).where(
        or_(ConsoleSession.expires_at < now, ConsoleSession.revoked_at.is_not(None))))
    failures = session.execute(delete(LoginFailure).where(
        LoginFailure.at < now - dt.timedelta(days=LOGIN_FAILURE_DAYS)))
    return int(sessions.rowcount or 0), int(failures.rowcount or 0)  # type: ignore[attr-defined]


def _tracker_engine(settings: RetentionSettings):  # type: ignore[no-untyped-def]
    """The tracker store's engine; None when its SQLite file does not exist (nothing to purge, nothing created)."""
    if not settings.tracker_db_url and not Path(settings.tracker_db_path).exists():
        return None
    return make_engine(settings.tracker_url)


def run(settings: RetentionSettings, *, dry_run: bool = False, scheduled: bool = False,
        now: dt.datetime | None = None) -> dict[str, int] | None:
    """One run; the counts of deleted rows, or None if another process holds the lease (or, ``scheduled``, the
    last run is recent)."""
    now = now or utcnow()
    policy = policy_of(settings)
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    tracker_engine = _tracker_engine(settings)
    guard = factory()
    try:
        if not dry_run:
            due = dt.timedelta(hours=settings.interval_hours * 0.9) if scheduled else None
            if not retention.acquire(guard, now, LEASE, due):
                return None
        counts: dict[str, int] | None = None
        try:
            counts = _purge(factory, tracker_engine, policy, now, dry_run)
        finally:
            if not dry_run:
                retention.release(guard, utcnow(), counts)
        return counts
    finally:
        guard.close()
        engine.dispose()
        if tracker_engine is not None:
            tracker_engine.dispose()


def _purge(factory, tracker_engine, policy: retention.Policy, now: dt.datetime,  # type: ignore[no-untyped-def]
           dry_run: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    session: Session = factory()
    try:
        keep = retention.open_conversations(session)
        purged: list[str] = []
        if tracker_engine is not None:
            with tracker_engine.connect() as conn:
                cutoff = policy.conversation_cutoff(now)
                purged = trackers.idle_conversations(conn, cutoff, keep)
                counts["tracker_events"] = trackers.delete_conversations(conn, purged, cutoff)
                if dry_run:
                    conn.rollback()
                else:
                    conn.commit()
        counts["conversations"] = len(purged)
        counts["handoffs"] = retention.purge_handoffs(session, now, policy)
        counts["outbox"] = retention.purge_outbox(session, now, policy)
        counts["telegram_chats"], counts["telegram_pending"] = telegram_store.purge_idle(
            session, policy.conversation_cutoff(now), purged)
        counts["console_sessions"], counts["login_failures"] = purge_console(session, now)
        counts["missed_and_usage"] = retention.purge_feedback(session, now, policy)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    return counts


def describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{name}={value}" for name, value in counts.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.retention",
                                     description="Alte Gespräche, Übergaben und Sitzungen löschen (Aufbewahrungsfristen)")
    parser.add_argument("--dry-run", action="store_true", help="nur zählen, nichts löschen")
    parser.add_argument("--scheduled", action="store_true",
                        help="geplanter Lauf: überspringen, wenn der letzte Lauf jünger als das Intervall ist")
    parser.add_argument("--json", action="store_true", help="Zahlen als JSON ausgeben")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = RetentionSettings.from_env()
    except SettingsError as exc:
        print(f"Einstellung ungültig: {exc}", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    counts = run(settings, dry_run=args.dry_run, scheduled=args.scheduled)
    if counts is None:
        log.info("retention: skipped (another run holds the lease or the last run is recent)")
        return 0
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, **counts}))
    log.info("retention%s: %s", " (dry run, nothing deleted)" if args.dry_run else "", describe(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
