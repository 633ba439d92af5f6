"""Hand-off actions: office hours, the consent form, the hand-off record (real SQLite KB with migration 0003)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import handoff_actions
from actions.handoff_actions import (
    SKIPPED,
    ActionAskHandoffContact,
    ActionHandoffCreate,
    ValidateHandoffForm,
    clean_contact,
    clean_topic,
    handoff_reason,
    transcript,
)
from actions.kb import kb_session
from actions.topic_actions import ActionAnswerTopic
from handoff import office_hours
from handoff.models import Handoff

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_10 = dt.datetime(2026, 11, 24, 10, 0, tzinfo=BERLIN)  # a Tuesday, office open
FRIDAY_18 = dt.datetime(2026, 11, 27, 18, 30, tzinfo=BERLIN)  # after closing time before the weekend
T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC).timestamp()


@pytest.fixture(autouse=True)
def _default_office_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HANDOFF_OFFICE_HOURS", "HANDOFF_TIMEZONE", "HANDOFF_CLOSED_DAYS"):
        monkeypatch.delenv(name, raising=False)


# --- office hours -----------------------------------------------------------------------------------------


def test_default_office_hours_and_wording() -> None:
    hours = office_hours.configured()
    assert hours.describe() == "Mo–Fr 9–17 Uhr"
    assert hours.is_open(TUESDAY_10)
    assert not hours.is_open(FRIDAY_18)
    assert not hours.is_open(dt.datetime(2026, 11, 28, 11, 0, tzinfo=BERLIN))  # Saturday
    assert office_hours.until_wording(TUESDAY_10) == "heute bis 17 Uhr"
    assert office_hours.until_wording(FRIDAY_18) == ""


@pytest.mark.parametrize(
    ("now", "opening", "wording"),
    [
        (TUESDAY_10, TUESDAY_10, "jetzt"),
        (dt.datetime(2026, 11, 24, 7, 15, tzinfo=BERLIN), dt.datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN),
         "heute ab 9 Uhr"),
        (dt.datetime(2026, 11, 24, 17, 0, tzinfo=BERLIN), dt.datetime(2026, 11, 25, 9, 0, tzinfo=BERLIN),
         "morgen ab 9 Uhr"),
        (FRIDAY_18, dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN), "am Montag ab 9 Uhr"),
        (dt.datetime(2026, 11, 29, 23, 59, tzinfo=BERLIN), dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN),
         "morgen ab 9 Uhr"),
    ],
)
def test_next_opening(now: dt.datetime, opening: dt.datetime, wording: str) -> None:
    assert office_hours.next_opening(now) == opening
    assert office_hours.opening_wording(now) == wording


def test_utc_input_is_converted_to_berlin_time() -> None:
    # 08:30 UTC on a Tuesday in winter is 09:30 in Berlin
    assert office_hours.is_open(dt.datetime(2026, 11, 24, 8, 30, tzinfo=dt.UTC))
    assert not office_hours.is_open(dt.datetime(2026, 11, 24, 7, 30, tzinfo=dt.UTC))


def test_office_hours_are_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "Mo-Do 08:30-16:00; Fr 08:30-12:30")
    monkeypatch.setenv("HANDOFF_CLOSED_DAYS", "2026-12-24, 2026-12-25")
    hours = office_hours.configured()
    assert hours.describe() == "Mo–Do 8:30–16 Uhr, Fr 8:30–12:30 Uhr"
    friday_13 = dt.datetime(2026, 11, 27, 13, 0, tzinfo=BERLIN)
    assert not hours.is_open(friday_13)
    assert office_hours.opening_wording(friday_13) == "am Montag ab 8:30 Uhr"
    christmas_eve = dt.datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN)  # a Thursday, closed day
    assert not hours.is_open(christmas_eve)
    assert office_hours.next_opening(christmas_eve) == dt.datetime(2026, 12, 28, 8, 30, tzinfo=BERLIN)


def test_opening_more_than_a_week_away_names_the_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_CLOSED_DAYS", ",".join(f"2027-01-{d:02d}" for d in range(1, 11)))
    wording = office_hours.opening_wording(dt.datetime(2026, 12, 31, 18, 0, tzinfo=BERLIN))
    assert wording == "am Montag, 11.1., ab 9 Uhr"


def test_unreadable_office_hours_fall_back_to_default(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HANDOFF_OFFICE_HOURS", "werktags neun bis fünf")
    with caplog.at_level(logging.ERROR):
        hours = office_hours.configured()
    assert hours.describe() == "Mo–Fr 9–17 Uhr"
    assert "HANDOFF_OFFICE_HOURS" in caplog.text


@pytest.mark.parametrize("spec", ["Mo-Fr 17:00-09:00", "Xy 09:00-17:00", "Mo-Fr 9-17", "Fr-Mo 09:00-17:00", ""])
def test_invalid_specs_are_rejected(spec: str) -> None:
    with pytest.raises(ValueError):
        office_hours.parse(spec)


# --- answers in the form --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ich hab Stress mit meinem Chef", "Ich hab Stress mit meinem Chef"),
        ("egal", SKIPPED),
        ("Nein danke", SKIPPED),
        ("Überspringen", SKIPPED),
        ("/skip", SKIPPED),
        ("-", SKIPPED),
        ("ja", None),
        ("x" * 300, "x" * 200),
    ],
)
def test_clean_topic(text: str, expected: str | None) -> None:
    assert clean_topic(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("meine Mail ist lena.m@example.org danke", "lena.m@example.org"),
        ("Ruft mich an: 0171 234 5678", "0171 234 5678"),
        ("+49 (69) 123456", "+49 (69) 123456"),
        ("Ich schau morgen Abend wieder hier rein", "Ich schau morgen Abend wieder hier rein"),
        ("nein", SKIPPED),
        ("lieber nicht", SKIPPED),
        ("bla " * 60, None),
    ],
)
def test_clean_contact(text: str, expected: str | None) -> None:
    assert clean_contact(text) == expected


def form_tracker(text: str, intent: str, requested: str | None, **slots: Any) -> Tracker:
    return Tracker(
        sender_id="form",
        slots={"requested_slot": requested, **slots},
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": "handoff_form"},
        latest_action_name="action_listen",
    )


def form_run(validator: ValidateHandoffForm, t: Tracker) -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    domain = {"forms": {"handoff_form": {"required_slots": ["handoff_consent", "handoff_topic", "handoff_contact"]}},
              "slots": {}}
    events = asyncio.run(validator.run(dispatcher, t, domain))
    return [m.get("response") for m in dispatcher.messages], {e["name"]: e["value"] for e in events}


def test_contact_is_asked_only_outside_office_hours() -> None:
    inside, outside = ValidateHandoffForm(lambda: TUESDAY_10), ValidateHandoffForm(lambda: FRIDAY_18)
    t = form_tracker("Stress mit dem Chef", "ask_training_problems", "handoff_topic", handoff_consent=True,
                     handoff_topic="Stress mit dem Chef")
    t.events.append({"event": "slot", "name": "handoff_topic", "value": "Stress mit dem Chef"})
    _, slots = form_run(inside, t)
    assert slots["requested_slot"] is None  # done: no contact question in office hours
    t = form_tracker("Stress mit dem Chef", "ask_training_problems", "handoff_topic", handoff_consent=True,
                     handoff_topic="Stress mit dem Chef")
    t.events.append({"event": "slot", "name": "handoff_topic", "value": "Stress mit dem Chef"})
    _, slots = form_run(outside, t)
    assert "requested_slot" not in slots  # all three slots: Rasa's form asks for handoff_contact next


def test_consent_other_words() -> None:
    validator = ValidateHandoffForm(lambda: TUESDAY_10)
    _, slots = form_run(validator, form_tracker("passt schon", "nlu_fallback", "handoff_consent"))
    assert slots["handoff_consent"] is True
    assert slots["requested_slot"] == "handoff_topic"
    responses, slots = form_run(validator, form_tracker("was ist BAB", "ask_funding", "handoff_consent"))
    assert responses == ["utter_handoff_consent_unclear"]
    assert slots["handoff_consent"] is None
    assert slots["requested_slot"] == "handoff_consent"  # asked again, never a hand-off without a clear yes
    for intent in ("deny", "ask_privacy", "goodbye"):  # left to the rules (rejecting the form)
        responses, slots = form_run(validator, form_tracker("…", intent, "handoff_consent"))
        assert responses == [] and "handoff_consent" not in slots


def test_topic_request_human_counts_as_skipped() -> None:
    validator = ValidateHandoffForm(lambda: TUESDAY_10)
    t = form_tracker("ich will einfach nen Menschen", "request_human", "handoff_topic", handoff_consent=True)
    t.events.append({"event": "slot", "name": "handoff_topic", "value": "ich will einfach nen Menschen"})
    _, slots = form_run(validator, t)
    assert slots["handoff_topic"] == SKIPPED


def test_contact_question_says_when_advisers_answer() -> None:
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAskHandoffContact(lambda: FRIDAY_18).run(dispatcher, form_tracker("", "affirm", None), {}))
    assert dispatcher.messages[0]["response"] == "utter_ask_handoff_contact"
    assert dispatcher.messages[0]["when"] == "am Montag ab 9 Uhr"
    assert dispatcher.messages[0]["hours"] == "Mo–Fr 9–17 Uhr"


# --- the hand-off record --------------------------------------------------------------------------------


def user(text: str, intent: str, at: float) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": at, "input_channel": "rest",
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": []}}


def bot(text: str, at: float, buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": at, "data": {"buttons": buttons} if buttons else {}}


OFFER_BUTTONS = [{"title": "Mit einer Beraterin sprechen", "payload": "/request_human"},
                 {"title": "Nein, danke", "payload": "/deny"}]


def conversation(sender: str, **slots: Any) -> Tracker:
    """Training problems → article → offer → button → consent → topic."""
    events = [
        {"event": "action", "name": "action_session_start", "timestamp": T0},
        {"event": "session_started", "timestamp": T0},
        {"event": "action", "name": "action_listen", "timestamp": T0},
        user("Ich will meine Ausbildung als Koch abbrechen", "ask_training_problems", T0 + 1),
        {"event": "action", "name": "action_answer_topic", "timestamp": T0 + 2},
        bot("Probleme in der Ausbildung – was tun?", T0 + 2),
        bot("Manches lässt sich besser persönlich besprechen.", T0 + 2, OFFER_BUTTONS),
        {"event": "action", "name": "action_listen", "timestamp": T0 + 2},
        user("/request_human", "request_human", T0 + 10),
        {"event": "action", "name": "handoff_form", "timestamp": T0 + 11},
        {"event": "active_loop", "name": "handoff_form", "timestamp": T0 + 11},
        bot("Bist du damit einverstanden?", T0 + 11, [{"title": "Ja, einverstanden", "payload": "/affirm"}]),
        user("/affirm", "affirm", T0 + 20),
        user("Mein Chef schreit mich jeden Tag an", "ask_training_problems", T0 + 30),
        {"event": "active_loop", "name": None, "timestamp": T0 + 31},
    ]
    all_slots = {"persona": None, "occupation": "Koch/Köchin", "topic": "beratung", "requested_slot": None,
                 "handoff_consent": True, "handoff_topic": "Mein Chef schreit mich jeden Tag an",
                 "handoff_contact": None, "session_started_metadata": None, **slots}
    return Tracker(
        sender_id=sender, slots=all_slots, latest_message=events[-2]["parse_data"] | {"text": events[-2]["text"]},
        events=events, paused=False,
        followup_action=None, active_loop={}, latest_action_name="handoff_form",
    )


def create(t: Tracker, now: dt.datetime = TUESDAY_10) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHandoffCreate(lambda: now).run(dispatcher, t, {}))
    return dispatcher.messages, events


def stored(sender: str) -> list[Handoff]:
    with kb_session() as session:
        return list(session.scalars(select(Handoff).where(Handoff.conversation_id == sender)))


@pytest.mark.usefixtures("actions_kb")
def test_handoff_created_with_transcript_and_summary_then_paused() -> None:
    sender = f"t-{uuid.uuid4()}"
    messages, events = create(conversation(sender))
    assert [m["response"] for m in messages] == ["utter_handoff_started"]
    assert messages[0]["until"] == "heute bis 17 Uhr"
    assert events[-1]["event"] == "pause"
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"} == {
        "handoff_consent": None, "handoff_topic": None, "handoff_contact": None}

    [handoff] = stored(sender)
    assert handoff.status == "waiting"
    assert handoff.channel == "rest"
    assert handoff.reason == "sensitive_topic"
    assert handoff.topic == "Mein Chef schreit mich jeden Tag an"
    assert handoff.contact is None
    first, *_ = handoff.transcript
    assert first == {"role": "user", "text": "Ich will meine Ausbildung als Koch abbrechen",
                     "at": "2026-11-24T09:00:01+00:00", "intent": "ask_training_problems"}
    clicked = next(line for line in handoff.transcript if line.get("button"))
    assert clicked["text"] == "Mit einer Beraterin sprechen"  # the title of the button, not "/request_human"
    offer = next(line for line in handoff.transcript if line.get("buttons"))
    assert offer["role"] == "bot" and offer["buttons"] == ["Mit einer Beraterin sprechen", "Nein, danke"]
    assert [line["role"] for line in handoff.transcript] == ["user", "bot", "bot", "user", "bot", "user", "user"]
    summary = handoff.summary
    assert summary["reason"] == "sensitive_topic"
    assert summary["occupation"] == "Koch/Köchin"
    assert summary["topic"] == "Mein Chef schreit mich jeden Tag an"
    assert summary["intents"] == ["ask_training_problems", "request_human", "affirm"]
    assert summary["slots"]["topic"] == "beratung"
    assert "requested_slot" not in summary["slots"] and "handoff_contact" not in summary["slots"]


@pytest.mark.usefixtures("actions_kb")
def test_second_call_returns_the_open_handoff() -> None:
    sender = f"t-{uuid.uuid4()}"
    create(conversation(sender))
    messages, events = create(conversation(sender))
    assert len(stored(sender)) == 1
    assert events[-1]["event"] == "pause"
    assert messages[0]["response"] == "utter_handoff_started"


@pytest.mark.usefixtures("actions_kb")
def test_outside_office_hours_says_when_to_expect_an_answer() -> None:
    sender = f"t-{uuid.uuid4()}"
    messages, events = create(conversation(sender, handoff_topic=SKIPPED, handoff_contact="0171 2345678"), FRIDAY_18)
    assert messages[0]["response"] == "utter_handoff_started_later"
    assert messages[0]["when"] == "am Montag ab 9 Uhr"
    assert messages[0]["hours"] == "Mo–Fr 9–17 Uhr"
    assert events[-1]["event"] == "pause"
    [handoff] = stored(sender)
    assert handoff.contact == "0171 2345678"
    assert handoff.topic == "Probleme in der Ausbildung"  # skipped: the sensitive topic names it


@pytest.mark.usefixtures("actions_kb")
def test_database_failure_apologises_and_does_not_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    real_session = handoff_actions.kb_session
    calls = []

    @contextmanager
    def failing_first():  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        with real_session() as session:
            yield session

    monkeypatch.setattr(handoff_actions, "kb_session", failing_first)
    sender = f"t-{uuid.uuid4()}"
    messages, events = create(conversation(sender))
    assert [m["response"] for m in messages][:2] == ["utter_handoff_failed", "utter_article"]
    assert messages[1]["title"].startswith("Beratung")
    assert all(e["event"] != "pause" for e in events)
    assert stored(sender) == []


@pytest.mark.usefixtures("actions_kb")
def test_commit_failure_is_not_reported_as_success(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Handoff:
        raise RuntimeError("disk full")

    monkeypatch.setattr(handoff_actions.service, "create_handoff", broken)
    messages, events = create(conversation(f"t-{uuid.uuid4()}"))
    assert messages[0]["response"] == "utter_handoff_failed"
    assert "utter_handoff_started" not in [m["response"] for m in messages]
    assert all(e["event"] != "pause" for e in events)


@pytest.mark.usefixtures("actions_kb")
def test_no_handoff_without_consent() -> None:
    sender = f"t-{uuid.uuid4()}"
    messages, events = create(conversation(sender, handoff_consent=None))
    assert messages == [] and all(e["event"] != "pause" for e in events)
    assert stored(sender) == []


def test_reason_from_intents() -> None:
    def events(*intents: str) -> list[dict[str, Any]]:
        evs = [user("x", i, T0 + n) for n, i in enumerate(intents)]
        return [*evs, {"event": "active_loop", "name": "handoff_form"}, user("ja", "affirm", T0 + 99)]

    assert handoff_reason(events("greet", "request_human")) == "request"
    assert handoff_reason(events("nlu_fallback", "nlu_fallback", "affirm")) == "fallback"
    assert handoff_reason(events("nlu_fallback", "ask_funding", "nlu_fallback", "request_human")) == "request"
    assert handoff_reason(events("ask_discrimination", "request_human")) == "sensitive_topic"
    assert handoff_reason(events("ask_training_problems", "ask_privacy", "affirm")) == "sensitive_topic"


def test_transcript_keeps_the_latest_messages() -> None:
    events = [user(f"m{n}", "greet", T0 + n) for n in range(10)]
    assert [line["text"] for line in transcript(events, limit=3)] == ["m7", "m8", "m9"]


@pytest.mark.usefixtures("actions_kb")
def test_declined_consent_is_answered_with_the_advice_article() -> None:
    t = form_tracker("nein", "deny", None)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerTopic().run(dispatcher, t, {}))
    assert dispatcher.messages[0]["response"] == "utter_article"
    assert {"event": "slot", "name": "topic", "value": "beratung", "timestamp": None} in events


@pytest.mark.usefixtures("actions_kb")
def test_handoff_tables_exist() -> None:
    with kb_session() as session:
        assert session.scalar(select(func.count()).select_from(Handoff)) is not None
