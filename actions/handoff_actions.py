"""Hand-off to a human adviser: the consent form, the hand-off record and pausing the bot.

Flow (rules in bot/data/rules_handoff.yml):

1. ``request_human`` (typed, or the button "Mit einer Beraterin sprechen" that the bot offers after a sensitive
   topic or two misunderstood messages in a row) starts ``handoff_form``.
2. The form asks for consent (the adviser will see this conversation), optionally for the topic and, only outside
   office hours, optionally for a way to reach the user (``ValidateHandoffForm``). "Nein" to the consent question
   stops the form (rule: ``utter_handoff_declined`` + the advice article).
3. ``action_handoff_create`` writes a ``Handoff`` (status ``waiting``) with transcript and summary, commits, and
   only then tells the user and returns ``ConversationPaused``. Rasa runs no policy while paused; the REST
   channel forwards the user's messages to the adviser console.
4. The console closes the hand-off, appends a ``resume`` event and executes ``utter_handoff_back`` through
   Rasa's HTTP API (handoff/rasa_client.py, handoff/lifecycle.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import latest_intent
from actions.handoff_profile import profile
from actions.kb import kb_session
from actions.topic_actions import send_article
from core.protocol import CHANNEL_REST
from handoff import office_hours, service
from knowledge_base.text import normalize

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]

FORM = "handoff_form"
SLOTS = ("handoff_consent", "handoff_topic", "handoff_contact")
SKIPPED = "keine Angabe"  # slot value for "egal" / "nein" / "Überspringen" (a form slot must not stay empty)
MAX_TOPIC = 200
MAX_CONTACT = 200
MAX_TRANSCRIPT = 200  # most recent messages kept in the hand-off record
DEFAULT_CHANNEL = CHANNEL_REST

# Intents that mean "this is a sensitive topic" (the bot offers the hand-off after its answer), with the label
# that becomes the hand-off topic when the user does not name one.
SENSITIVE_INTENTS = {
    "ask_training_problems": "Probleme in der Ausbildung",
    "ask_discrimination": "Diskriminierung oder Belästigung",
}
FALLBACK_INTENT = "nlu_fallback"
# Intents the custom consent extraction leaves alone: yes (mapped in the domain), digressions that a rule answers
# before the question is asked again (help, privacy, "bist du ein Bot?") and ways out (deny, goodbye, deletion).
NOT_AN_ANSWER = {"affirm", "request_human", "deny", "goodbye", "request_data_deletion", "ask_privacy", "crisis",
                 "bot_challenge", "help"}

_YES = {normalize(w) for w in (
    "ja", "jo", "jap", "jep", "jup", "jaa", "jaaa", "ja klar", "klar", "na klar", "ok", "okay", "oki", "ja ok",
    "ja okay", "passt", "passt schon", "gerne", "gern", "ja gerne", "ja bitte", "einverstanden", "in ordnung",
    "geht klar", "ist ok", "ist okay", "sicher", "auf jeden fall", "yes", "yep",
)}
_SKIP = {normalize(w) for w in (
    SKIPPED, "egal", "ist egal", "mir egal", "nein", "ne", "nee", "nö", "nein danke", "nö danke", "lieber nicht",
    "möchte ich nicht", "will ich nicht", "keine", "keins", "nichts", "nix", "weiß nicht", "keine ahnung",
    "überspringen", "skip", "später", "brauche ich nicht", "nicht nötig", "kein", "weiter",
)}
# Only the start of a contact answer is searched (it is at most MAX_CONTACT characters anyway), and the patterns
# are linear: a match starts only where its run of characters starts (lookbehind), every quantifier is bounded,
# and the parts of the e-mail pattern cannot overlap (a dot only between labels). The old patterns rescanned the
# same run from every position: 40,000 characters took seconds and blocked the action server.
CONTACT_WINDOW = 300
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,10}")
_PHONE = re.compile(r"(?<![\d+])\+?\d[\d /()-]{4,40}\d")


def is_yes(text: str) -> bool:
    return normalize(text) in _YES


def is_skip(text: str) -> bool:
    """"egal", "nein", "Überspringen" … or only punctuation ("-")."""
    norm = normalize(text)
    return not norm or norm in _SKIP


def clean_topic(text: str) -> str | None:
    """The user's own words for the topic (at most 200 characters), ``SKIPPED``, or None to ask again."""
    text = " ".join(str(text or "").split())
    if not text or text.startswith("/") or is_skip(text):
        return SKIPPED
    if is_yes(text):  # "ja" to "Worum geht es?" says nothing: ask again
        return None
    return text[:MAX_TOPIC]


def clean_contact(text: str) -> str | None:
    """An e-mail address, a phone number or a short free text (≤ 200 characters), ``SKIPPED``, or None (too long)."""
    text = " ".join(str(text or "").split())
    if not text or text.startswith("/") or is_skip(text):
        return SKIPPED
    window = text[:CONTACT_WINDOW]
    email = _EMAIL.search(window)
    if email and len(email.group(0)) <= MAX_CONTACT:
        return email.group(0)
    phone = _PHONE.search(window)
    if phone and sum(c.isdigit() for c in phone.group(0)) >= 6:
        return phone.group(0).strip()
    return text if len(text) <= MAX_CONTACT else None


def reset_slots() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in SLOTS]


class ValidateHandoffForm(FormValidationAction):
    """Consent (required), topic (optional), contact (optional, asked only outside office hours)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or office_hours.now

    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        slots = ["handoff_consent", "handoff_topic"]
        if not office_hours.is_open(self.clock()):
            slots.append("handoff_contact")
        return slots

    async def extract_handoff_consent(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any other answer to the consent question: "passt" and the like count as yes; anything unclear is asked
        again (a hand-off never starts without a clear yes). Digressions and "no" are left to the rules."""
        if tracker.get_slot("requested_slot") != "handoff_consent" or (tracker.active_loop or {}).get("name") != FORM:
            return {}
        if latest_intent(tracker) in NOT_AN_ANSWER:
            return {}
        if is_yes(tracker.latest_message.get("text") or ""):
            return {"handoff_consent": True}
        dispatcher.utter_message(response="utter_handoff_consent_unclear")
        return {"handoff_consent": None}

    def validate_handoff_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"handoff_consent": True if value is True else None}

    def validate_handoff_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if latest_intent(tracker) == "request_human":  # "einfach nur mit einem Menschen reden" names no topic
            return {"handoff_topic": SKIPPED}
        return {"handoff_topic": clean_topic(value)}

    def validate_handoff_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        contact = clean_contact(value)
        if contact is None:
            dispatcher.utter_message(response="utter_handoff_contact_too_long")
        return {"handoff_contact": contact}


class ActionAskHandoffContact(Action):
    """Asks for a way to reach the user and says when advisers are back (the form calls this outside hours)."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or office_hours.now

    def name(self) -> str:
        return "action_ask_handoff_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        hours = office_hours.configured()
        dispatcher.utter_message(
            response="utter_ask_handoff_contact",
            when=office_hours.opening_wording(self.clock(), hours),
            hours=hours.describe(),
        )
        return []


class ActionHandoffCreate(Action):
    """Writes the hand-off (committed), then tells the user and pauses the bot. On failure: apology, no pause."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or office_hours.now

    def name(self) -> str:
        return "action_handoff_create"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("handoff_consent") is not True:  # the form only completes with consent
            log.warning("action_handoff_create without consent")
            return reset_slots()
        try:
            record = handoff_record(tracker)
            with kb_session() as session:  # commits when the block ends
                handoff = service.create_handoff(session, **record)
                handoff_id = handoff.id
        except Exception:
            log.exception("hand-off could not be stored")
            dispatcher.messages.clear()
            dispatcher.utter_message(response="utter_handoff_failed")
            try:
                with kb_session() as session:
                    send_article(session, dispatcher, "beratung")
            except Exception:  # noqa: BLE001 - the apology already names the Berufsberatung
                log.exception("advice article unavailable too")
            return reset_slots()
        log.info("hand-off %s stored (reason %s)", handoff_id, record["reason"])
        now = self.clock()
        hours = office_hours.configured()
        if hours.is_open(now):
            dispatcher.utter_message(response="utter_handoff_started", until=office_hours.until_wording(now, hours))
        else:
            dispatcher.utter_message(
                response="utter_handoff_started_later",
                when=office_hours.opening_wording(now, hours),
                hours=hours.describe(),
            )
        return [*reset_slots(), ConversationPaused()]


# --- the record: transcript and summary from the tracker ------------------------------------------------------


def handoff_record(tracker: Tracker) -> dict[str, Any]:
    """The keyword arguments of ``service.create_handoff`` for this conversation."""
    events = tracker.events or []
    reason = handoff_reason(events)
    user_topic = _given(tracker.get_slot("handoff_topic"))
    topic = user_topic or _sensitive_label(events)
    return {
        "conversation_id": tracker.sender_id,
        "channel": tracker.get_latest_input_channel() or DEFAULT_CHANNEL,
        "reason": reason,
        "transcript": transcript(events),
        "summary": summary(tracker, reason, topic),
        "topic": topic,
        "contact": _given(tracker.get_slot("handoff_contact")),
    }


def transcript(events: list[dict[str, Any]], limit: int = MAX_TRANSCRIPT) -> list[dict[str, Any]]:
    """User and bot messages with ISO timestamps (UTC); button clicks as the button's title, bot buttons listed."""
    return [line for _, line in transcript_lines(events, limit)]


def transcript_lines(events: list[dict[str, Any]], limit: int = MAX_TRANSCRIPT) -> list[tuple[int, dict[str, Any]]]:
    """The transcript's lines with the index of the event each comes from."""
    lines: list[tuple[int, dict[str, Any]]] = []
    last_buttons: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "bot":
            buttons = ((event.get("data") or {}).get("buttons")) or []
            text = event.get("text") or ""
            last_buttons = buttons
            if not text and not buttons:
                continue  # e.g. a JSON marker for the channel
            line: dict[str, Any] = {"role": "bot", "text": text, "at": _iso(event.get("timestamp"))}
            if buttons:
                line["buttons"] = [b.get("title") for b in buttons if b.get("title")]
            lines.append((index, line))
        elif kind == "user":
            text = event.get("text") or ""
            intent = _intent(event)
            line = {"role": "user", "text": _shown_text(text, last_buttons, intent), "at": _iso(event.get("timestamp"))}
            if intent:
                line["intent"] = intent
            if text.startswith("/"):
                line["button"] = True
            lines.append((index, line))
    return lines[-limit:]


def summary(tracker: Tracker, reason: str, topic: str | None) -> dict[str, Any]:
    occupation = tracker.get_slot("occupation") or tracker.get_slot("search_occupation")
    return {
        "persona": tracker.get_slot("persona"),
        "occupation": None if occupation == "egal" else occupation,
        "place": tracker.get_slot("search_place"),
        "topic": topic,
        "reason": reason,
        "intents": detected_intents(tracker.events or []),
        "profile": profile(tracker.events or [], {event: n for n, (event, _) in enumerate(transcript_lines(
            tracker.events or []))}),
        "slots": {
            name: value
            for name, value in sorted((tracker.slots or {}).items())
            if name != "requested_slot" and value not in (None, "", [], {}) and value != SKIPPED
        },
    }


def detected_intents(events: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for event in events:
        intent = _intent(event) if event.get("event") == "user" else None
        if intent and intent not in seen:
            seen.append(intent)
    return seen


def handoff_reason(events: list[dict[str, Any]]) -> str:
    """``fallback`` after two misunderstood messages in a row, ``sensitive_topic`` after a sensitive topic,
    else ``request`` – judged from the user intents just before the message that started the form."""
    before = _intents_before_form(events)
    if len(before) >= 2 and before[-1] == before[-2] == FALLBACK_INTENT:
        return "fallback"
    if any(intent in SENSITIVE_INTENTS for intent in before[-2:]):
        return "sensitive_topic"
    return "request"


def _intents_before_form(events: list[dict[str, Any]]) -> list[str]:
    """User intents before the message that started the current hand-off form (that message excluded)."""
    start, loop = len(events), None
    for i, event in enumerate(events):
        if event.get("event") == "active_loop":
            name = event.get("name")
            if name == FORM and loop != FORM:
                start = i  # the latest activation of the form
            loop = name
    intents = [_intent(e) or "" for e in events[:start] if e.get("event") == "user"]
    return intents[:-1]


def _sensitive_label(events: list[dict[str, Any]]) -> str | None:
    for intent in reversed(_intents_before_form(events)[-2:]):
        if intent in SENSITIVE_INTENTS:
            return SENSITIVE_INTENTS[intent]
    return None


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _shown_text(text: str, buttons: list[dict[str, Any]], intent: str | None) -> str:
    """A button payload ("/request_human") as the title the user clicked ("Mit einer Beraterin sprechen")."""
    if not text.startswith("/"):
        return text
    title = next((b.get("title") for b in buttons if b.get("payload") == text), None)
    return title or f"[Schaltfläche: {intent or text.lstrip('/')}]"


def _iso(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float):
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def _given(value: Any) -> str | None:
    return None if value in (None, "", SKIPPED) else str(value)
