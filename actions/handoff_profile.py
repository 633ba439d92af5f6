"""The profile card of a hand-off: what the conversation revealed, as short values from slots, entities, intents
and action names (never the user's free text), each with the transcript line where it was found.

``profile(events, line_of)`` is a pure function of the tracker's events; ``line_of`` maps an event's index to
its line in the stored transcript (``handoff_actions.transcript_lines``). Result:
``{"persona": [{"value": "parent", "label": "Elternteil (Sie)", "line": 0}], "occupations": [...], ...}``;
a key is missing when nothing was found.
"""

from __future__ import annotations

import re
from typing import Any

from knowledge_base.text import normalize

MAX_VALUE = 80
MAX_ITEMS = 8  # per list (occupations, funding, offers)
TEXT_WINDOW = 300  # only the start of a message is searched for an age or language difficulties
KEYS = ("persona", "school", "age", "place", "occupations", "parttime", "language", "funding", "offers")

PERSONAS = {"student": "Schüler/in (du)", "parent": "Elternteil (Sie)"}
PERSONA_INTENTS = {"inform_student": "student", "inform_parent": "parent"}
SCHOOL = {
    "ohne_abschluss": "ohne Schulabschluss",
    "hauptschulabschluss": "Hauptschulabschluss",
    "mittlerer_abschluss": "Mittlerer Abschluss (Realschule)",
    "fachhochschulreife": "Fachhochschulreife",
    "abitur": "Abitur",
}
FUNDING = {
    "bab": "Berufsausbildungsbeihilfe (BAB)",
    "asa_flex": "Assistierte Ausbildung (AsA flex)",
    "aufstiegs_bafoeg": "Aufstiegs-BAföG",
    "ausbildung_weltweit": "Ausbildung weltweit",
    "ausbildungsplatzfoerderung": "Ausbildungsplatzförderung",
    "bvb": "Berufsvorbereitung (BvB)",
    "eq": "Einstiegsqualifizierung (EQ)",
    "erasmus": "Erasmus+",
    "kindergeld": "Kindergeld",
    "quabb": "QuABB",
    "schuelerticket": "Schüler-/Azubiticket",
}
PARTTIME_INTENTS = {"ask_parttime", "request_parttime_only"}
LANGUAGE_INTENTS = {"ask_support_special_needs"}
OFFERS_RESPONSE = "utter_offer_results"
# "16 Jahre", "16 jahre alt", "ich bin 16", "sie ist 17": two digits from 13 to 29; linear (bounded, no overlap)
_AGE = re.compile(r"(?<!\d)(1[3-9]|2\d) ?(?:jahre|jahren|jahr|j)\b|\b(?:bin|ist|werde|wird) (1[3-9]|2\d)(?!\d)")
_LANGUAGE_WORDS = ("deutsch", "sprache", "sprachkurs", "deutschkurs")


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def _entities(event: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for entity in (event.get("parse_data") or {}).get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") and entity.get("value") not in (None, ""):
            found.append((str(entity["entity"]), str(entity["value"])[:MAX_VALUE]))
    return found


def age_in(text: str) -> str | None:
    match = _AGE.search(normalize(str(text or "")[:TEXT_WINDOW]))
    return (match.group(1) or match.group(2)) if match else None


def mentions_language(text: str) -> bool:
    norm = normalize(str(text or "")[:TEXT_WINDOW])
    return any(word in norm for word in _LANGUAGE_WORDS)


class _Card:
    def __init__(self) -> None:
        self.items: dict[str, list[dict[str, Any]]] = {}

    def set(self, key: str, value: Any, label: str, line: int | None) -> None:
        """A single value (the latest wins)."""
        self.items[key] = [{"value": str(value)[:MAX_VALUE], "label": label[:MAX_VALUE], "line": line}]

    def add(self, key: str, value: Any, label: str, line: int | None) -> None:
        """One more value of a list (each value once, the first place it was found)."""
        entries = self.items.setdefault(key, [])
        value = str(value)[:MAX_VALUE]
        if all(e["value"] != value for e in entries) and len(entries) < MAX_ITEMS:
            entries.append({"value": value, "label": label[:MAX_VALUE], "line": line})


def profile(events: list[dict[str, Any]], line_of: dict[int, int]) -> dict[str, list[dict[str, Any]]]:
    card = _Card()
    slots: dict[str, Any] = {}
    last_user: int | None = None  # transcript line of the latest user message
    for index, event in enumerate(events):
        kind = event.get("event")
        if kind == "user":
            last_user = line_of.get(index)
            line = last_user
            intent = _intent(event)
            text = str(event.get("text") or "")
            if intent in PERSONA_INTENTS:
                persona = PERSONA_INTENTS[intent]
                card.set("persona", persona, PERSONAS[persona], line)
            for name, value in _entities(event):
                if name == "persona" and value in PERSONAS:
                    card.set("persona", value, PERSONAS[value], line)
                elif name == "school_qualification":
                    card.set("school", value, SCHOOL.get(value, value), line)
                elif name == "location":
                    card.set("place", value, value, line)
                elif name == "occupation":
                    card.add("occupations", value, value, line)
                elif name == "funding_program":
                    card.add("funding", value, FUNDING.get(value, value), line)
            if not text.startswith("/"):
                age = age_in(text)
                if age:
                    card.set("age", age, f"{age} Jahre", line)
            if intent in PARTTIME_INTENTS and "parttime" not in card.items:
                card.set("parttime", "ja", "ja", line)
            if intent in LANGUAGE_INTENTS and mentions_language(text) and "language" not in card.items:
                card.set("language", "ja", "ja (Deutsch)", line)
            if intent == "ask_funding" and not any(n == "funding_program" for n, _ in _entities(event)):
                card.add("funding", "allgemein", "Förderung allgemein", line)
        elif kind == "slot":
            name, value = event.get("name"), event.get("value")
            slots[str(name)] = value
            if value in (None, "", "egal"):
                continue
            if name == "persona" and value in PERSONAS:
                card.set("persona", value, PERSONAS[value], last_user)
            elif name == "search_place":
                card.set("place", value, str(value), last_user)
            elif name in ("occupation", "search_occupation") and not str(value).startswith("interest:"):
                card.add("occupations", value, str(value), last_user)
            elif name == "funding_program":
                card.add("funding", value, FUNDING.get(str(value), str(value)), last_user)
            elif name == "search_parttime" and value is True and "parttime" not in card.items:
                card.set("parttime", "ja", "ja", last_user)
        elif kind == "bot" and (event.get("metadata") or {}).get("utter_action") == OFFERS_RESPONSE:
            what = slots.get("search_occupation")
            where = slots.get("search_place")
            label = " · ".join(str(v) for v in (what, where) if v not in (None, "", "egal")) or "Angebote"
            card.add("offers", f"{what}|{where}", label, line_of.get(index))
    return {key: card.items[key] for key in KEYS if key in card.items}
