"""Console 2.0 domain: statistics (empty periods, Europe/Berlin days, DST), office-hours waiting time and urgency
order, canned-reply placeholders (safe substitution), e-mail notification claims."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from handoff import canned, notifications, office_hours, service, stats, targets
from handoff.models import Adviser, Handoff, HandoffMessage

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = office_hours.parse("Mo-Fr 09:00-17:00", "Europe/Berlin")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("c2") / "t.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def factory(tmp_path: Path, template: Path) -> sessionmaker[Session]:
    target = tmp_path / "db.sqlite3"
    target.write_bytes(template.read_bytes())
    return make_session_factory(make_engine(f"sqlite:///{target}"))


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args)  # naive UTC, as stored


def add(s: Session, created: dt.datetime, *, channel: str = "rest", reason: str = "request",
        topic: str | None = "Ausbildung", reply_after: dt.timedelta | None = None, status: str = "waiting",
        conv: str | None = None) -> Handoff:
    h = service.create_handoff(s, conversation_id=conv or f"c-{created.isoformat()}-{channel}-{topic}",
                               channel=channel, reason=reason, transcript=[], summary={"topic": topic}, topic=topic)
    h.created_at, h.status = created, status
    if reply_after is not None:
        s.add(HandoffMessage(handoff_id=h.id, role="adviser", text="Hallo", created_at=created + reply_after))
    s.flush()
    return h


# --- office-hours minutes and urgency ------------------------------------------------------------------------

def test_office_minutes_count_only_office_hours() -> None:
    # Fri 2026-11-27 16:30 Berlin (15:30 UTC) → Mon 09:15 Berlin: 30 min Friday + 15 min Monday
    assert targets.office_minutes(utc(2026, 11, 27, 15, 30), utc(2026, 11, 30, 8, 15), HOURS) == 45
    # a night: nothing counts
    assert targets.office_minutes(utc(2026, 11, 24, 20, 0), utc(2026, 11, 25, 7, 0), HOURS) == 0
    assert targets.office_minutes(utc(2026, 11, 25, 9, 0), utc(2026, 11, 25, 8, 0), HOURS) == 0
    closed = office_hours.parse("Mo-Fr 09:00-17:00", "Europe/Berlin", "2026-11-25")
    assert targets.office_minutes(utc(2026, 11, 25, 8, 0), utc(2026, 11, 25, 10, 0), closed) == 0


def test_office_hours_until_midnight_leave_no_gap() -> None:
    """``24:00`` ends a range at midnight: around the clock counts every minute, also across midnight and a
    change of daylight saving time (a console test that ran at night once counted 89 of 90 minutes with the old
    "00:00-23:59")."""
    always = office_hours.parse("Mo-So 00:00-24:00", "Europe/Berlin")
    assert targets.office_minutes(utc(2026, 11, 30, 22, 50), utc(2026, 12, 1, 0, 20), always) == 90
    assert targets.office_minutes(utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 2, 0), always) == 240
    assert always.is_open(dt.datetime(2026, 11, 30, 22, 59, 30, tzinfo=dt.UTC))
    assert always.describe() == "Mo–So 0–24 Uhr"
    evening = office_hours.parse("Fr 18:00-24:00", "Europe/Berlin")  # Sat 00:30 Berlin: closed until next Friday
    assert evening.next_opening(dt.datetime(2026, 11, 27, 23, 30, tzinfo=dt.UTC)) == dt.datetime(
        2026, 12, 4, 17, 0, tzinfo=dt.UTC)
    for wrong in ("Mo 00:00-24:30", "Mo 24:00-24:00", "Mo 09:00-25:00", "Mo 09:61-10:00"):
        with pytest.raises(ValueError):
            office_hours.parse(wrong)


def test_urgency_levels_against_target() -> None:
    start = utc(2026, 11, 24, 9, 0)  # Tue 10:00 Berlin
    level = [targets.urgency(start, None, "waiting", start + dt.timedelta(minutes=m), HOURS, 60).level
             for m in (10, 45, 60, 200)]
    assert level == ["ok", "soon", "overdue", "overdue"]
    answered = targets.urgency(start, start + dt.timedelta(minutes=90), "assigned", start + dt.timedelta(hours=5),
                               HOURS, 60)
    assert answered.level == "answered" and answered.waited_minutes == 90
    assert targets.urgency(start, None, "closed", start, HOURS, 60).label == "abgeschlossen"
    assert targets.LEVEL_LABELS["overdue"] == "überfällig"


def test_inbox_order_most_overdue_first(factory: sessionmaker[Session]) -> None:
    now = utc(2026, 11, 24, 14, 0)  # Tue 15:00 Berlin
    with session_scope(factory) as s:
        fresh = add(s, now - dt.timedelta(minutes=5), topic="neu")
        night = add(s, utc(2026, 11, 23, 22, 0), topic="nachts")  # Mon 23:00 → counts from Tue 9:00: 360 min
        evening = add(s, utc(2026, 11, 24, 7, 0), topic="frueh")  # Tue 8:00 → also 360 min (from 9:00)
        answered = add(s, utc(2026, 11, 20, 9, 0), topic="alt", reply_after=dt.timedelta(minutes=5),
                       status="assigned")
        soon = add(s, now - dt.timedelta(minutes=50), topic="bald")
        rated = targets.by_urgency(s, [fresh, night, evening, answered, soon], now, HOURS, 60)
        assert [h.topic for h, _ in rated] == ["nachts", "frueh", "bald", "neu", "alt"]
        assert [u.level for _, u in rated] == ["overdue", "overdue", "soon", "ok", "answered"]
        assert rated[0][1].waited_minutes == 360


# --- statistics ------------------------------------------------------------------------------------------------

def test_period_bounds_are_local_midnights_incl_dst() -> None:
    winter = stats.Period(dt.date(2026, 11, 24), dt.date(2026, 11, 24), BERLIN)
    assert winter.bounds() == (utc(2026, 11, 23, 23, 0), utc(2026, 11, 24, 23, 0))
    spring = stats.Period(dt.date(2026, 3, 29), dt.date(2026, 3, 29), BERLIN)  # 23-hour day
    start, end = spring.bounds()
    assert (end - start) == dt.timedelta(hours=23)
    autumn = stats.Period(dt.date(2026, 10, 25), dt.date(2026, 10, 25), BERLIN)  # 25-hour day
    start, end = autumn.bounds()
    assert (end - start) == dt.timedelta(hours=25)
    with pytest.raises(ValueError):
        stats.Period(dt.date(2026, 11, 2), dt.date(2026, 11, 1), BERLIN)
    with pytest.raises(ValueError):
        stats.Period(dt.date(2024, 1, 1), dt.date(2026, 1, 1), BERLIN)


def test_empty_period(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        result = stats.compute(s, stats.Period(dt.date(2026, 11, 1), dt.date(2026, 11, 7), BERLIN), HOURS, 60)
    data = result.as_json()
    assert data["total"] == 0 and len(data["per_day"]) == 7
    assert all(d["total"] == 0 for d in data["per_day"])
    assert data["first_reply"]["median_minutes"] is None and data["first_reply"]["p90_minutes"] is None
    assert data["topics"] == []


def test_days_channels_reasons_and_time_zone(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        add(s, utc(2026, 11, 23, 23, 30), channel="telegram")  # 23:30 UTC Mon = Tue 00:30 Berlin
        add(s, utc(2026, 11, 24, 10, 0), channel="rest", reason="fallback")
        add(s, utc(2026, 11, 22, 22, 59), channel="rest")  # Sun 23:59 Berlin: outside the period
        add(s, utc(2026, 10, 24, 22, 30), channel="web")  # Sun 25.10. 00:30 CEST (DST ends that night)
        add(s, utc(2026, 10, 25, 22, 30), channel="web")  # Sun 25.10. 23:30 CET: still the 25th
        week = stats.compute(s, stats.Period(dt.date(2026, 11, 23), dt.date(2026, 11, 29), BERLIN), HOURS, 60)
        dst = stats.compute(s, stats.Period(dt.date(2026, 10, 25), dt.date(2026, 10, 25), BERLIN), HOURS, 60)
    per_day = {d["day"]: d for d in week.as_json()["per_day"]}
    assert week.total == 2
    assert per_day["2026-11-23"]["total"] == 0
    assert per_day["2026-11-24"]["by_channel"] == {"telegram": 1, "rest": 1}
    assert per_day["2026-11-24"]["by_reason"] == {"request": 1, "fallback": 1}
    assert week.channels == ["rest", "telegram"] and week.reasons == ["fallback", "request"]
    assert dst.total == 2 and dst.as_json()["per_day"][0]["by_channel"] == {"web": 2}


def test_first_reply_median_p90_and_target(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        base = utc(2026, 11, 24, 9, 0)  # Tue 10:00 Berlin
        for minutes in (10, 20, 30, 40, 50, 60, 70, 80, 90, 300):
            add(s, base, reply_after=dt.timedelta(minutes=minutes), status="assigned", conv=f"m{minutes}")
        add(s, utc(2026, 11, 24, 15, 30), reply_after=dt.timedelta(hours=17), conv="night")  # 16:30 → next 9:30
        add(s, base, conv="open")  # no reply yet
        result = stats.compute(s, stats.Period(dt.date(2026, 11, 24), dt.date(2026, 11, 25), BERLIN), HOURS, 60)
    w = result.waits
    assert w.answered == 11 and w.unanswered == 1
    assert w.median == 60  # 10 … 90, 60 (the night one: 30 + 30 office minutes), 300
    assert w.p90 == 90
    assert w.within_target == 7  # 10, 20, 30, 40, 50, 60 and the night one (60)


def test_topics_grouped_and_only_repeated(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        day = utc(2026, 11, 24, 10, 0)
        for i, topic in enumerate(["Teilzeit", "teilzeit!", "  TEILZEIT ", "BAB", "bab", "Mein Name ist Max"]):
            add(s, day, topic=topic, conv=f"t{i}")
        result = stats.compute(s, stats.Period(dt.date(2026, 11, 24), dt.date(2026, 11, 24), BERLIN), HOURS, 60)
    assert result.topics == [("Teilzeit", 3), ("BAB", 2)]  # a topic named once is not shown


def test_stats_follow_need_to_know(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        a = Adviser(username="a", display_name="A", password_hash="x", role="adviser")
        b = Adviser(username="b", display_name="B", password_hash="x", role="adviser")
        s.add_all([a, b])
        s.flush()
        day = utc(2026, 11, 24, 10, 0)
        add(s, day, conv="w")  # unassigned waiting: visible to both
        mine = add(s, day, conv="mine", status="assigned")
        mine.assigned_to = a.id
        other = add(s, day, conv="other", status="closed")
        other.assigned_to = b.id
        s.flush()
        period = stats.Period(dt.date(2026, 11, 24), dt.date(2026, 11, 24), BERLIN)
        assert stats.compute(s, period, HOURS, 60, viewer=a).total == 2
        assert stats.compute(s, period, HOURS, 60).total == 3


def test_percentile_nearest_rank() -> None:
    assert stats.percentile([], 90) is None
    assert stats.percentile([5], 90) == 5
    assert stats.percentile([1, 2, 3, 4], 50) == 2


# --- canned replies ---------------------------------------------------------------------------------------------

def test_fill_is_a_safe_single_pass() -> None:
    values = {"berater_name": "Anna {sprechzeiten}", "sprechzeiten": "Mo–Fr 9–17 Uhr"}
    text = "Hallo, ich bin {berater_name}. Sprechzeiten: {sprechzeiten}. {unbekannt} {0.__class__} {{x}}"
    assert canned.fill(text, values) == (
        "Hallo, ich bin Anna {sprechzeiten}. Sprechzeiten: Mo–Fr 9–17 Uhr. {unbekannt} {0.__class__} {{x}}")
    assert canned.unknown_placeholders(text) == ["unbekannt", "x"]
    assert canned.fill("<script>{berater_name}</script>", {"berater_name": "<b>"}) == "<script><b></script>"


def test_canned_reply_crud_and_search(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        first = canned.create(s, "  Begrüßung  Schüler ", "Hallo, ich bin {berater_name}.", None)
        canned.create(s, "Sprechzeiten", "Wir sind {sprechzeiten} da. 100% sicher_", None)
        assert first.title == "Begrüßung Schüler"
        with pytest.raises(canned.CannedReplyError):
            canned.create(s, "sprechzeiten", "doppelt", None)
        with pytest.raises(canned.CannedReplyError):
            canned.create(s, "leer", "   ", None)
        assert [r.title for r in canned.search(s, "sprech")] == ["Sprechzeiten"]
        assert [r.title for r in canned.search(s, "hallo berater")] == ["Begrüßung Schüler"]
        assert [r.title for r in canned.search(s, "100%")] == ["Sprechzeiten"]
        assert canned.search(s, "r%") == [] and canned.search(s, "o_s") == []  # LIKE wildcards are escaped
        canned.update(s, first.id, "Begrüßung", "Hallo!", None)
        assert canned.get(s, first.id).text == "Hallo!"  # type: ignore[union-attr]
        assert canned.delete(s, first.id) and not canned.delete(s, first.id)


# --- e-mail notification claims ----------------------------------------------------------------------------------

def test_notification_claims_and_backoff(factory: sessionmaker[Session]) -> None:
    now = utc(2026, 11, 24, 10, 0)
    with session_scope(factory) as s:
        new = add(s, now - dt.timedelta(minutes=1), conv="new").id
        add(s, now - dt.timedelta(days=3), conv="old")  # before the look-back: never mailed
        add(s, now - dt.timedelta(minutes=1), conv="closed", status="closed")
    with factory() as s:
        assert notifications.due(s, now) == [new]
        assert notifications.claim(s, new, now)
        assert not notifications.claim(s, new, now)  # claimed: not again before the back-off
        assert notifications.due(s, now) == []
        later = now + notifications.backoff(1)
        assert notifications.due(s, later) == [new] and notifications.claim(s, new, later)
        notifications.mark_sent(s, new, later)
        assert notifications.due(s, later + dt.timedelta(hours=2)) == []


def test_deleting_a_conversation_removes_its_notification_row(factory: sessionmaker[Session]) -> None:
    now = utc(2026, 11, 24, 10, 0)
    with session_scope(factory) as s:
        hid = add(s, now, conv="to-delete").id
    with factory() as s:
        assert notifications.claim(s, hid, now)
    with session_scope(factory) as s:
        assert service.delete_conversation(s, "to-delete") == 1
    with factory() as s:
        assert notifications.state(s, hid) is None
