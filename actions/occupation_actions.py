"""Occupation answers: what it is, how long it takes, which school-leaving qualification; suggestions by interest."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions import render
from actions.base import KnowledgeAction, entity_values, hint_if_unverified, latest_intent, latest_text
from actions.faq_actions import faq_button, faq_instead, send_faq
from actions.kb import alias_index
from knowledge_base import queries
from knowledge_base.models import Occupation
from knowledge_base.resolve import Resolution, match_interest, related_occupations, suggest_occupations
from knowledge_base.text import has_cue

ASPECT_BY_INTENT = {
    "ask_occupation_info": "info",
    "ask_occupation_duration": "duration",
    "ask_occupation_requirements": "requirements",
}


NOT_AN_OCCUPATION = ("egal", "interest:")  # search_occupation values that name no single occupation

# "Muss ich als Industriekaufmann die vollen drei Jahre machen, oder kann man das abkürzen?": the occupation's duration
# and then the article on shortening (§ 8 BBiG: with Abitur, prior training ...). On normalize()d text; linear.
_SHORTENING = re.compile(
    r"\b(?:verkuerz\w*|abkuerz\w*|kuerzer|schneller\s(?:fertig|durch)|frueher\s(?:fertig|durch)"
    r"|(?:vollen|ganzen)\s(?:\w+\s){0,2}jahre)\b"
)
SHORTENING_ARTICLE = "ausbildung_verkuerzen"


def asks_about_shortening(text: str) -> bool:
    return has_cue(_SHORTENING, text)


def remembered_occupation(tracker: Tracker) -> str | None:
    """The occupation the conversation was last about: the later of an occupation answer (slot ``occupation``) and
    an offer search for one occupation (slot ``search_occupation``), so that "und was verdient man da?" and
    "welchen Abschluss brauche ich dafür?" keep it."""
    def usable(value: Any) -> bool:
        return isinstance(value, str) and bool(value) and not value.startswith(NOT_AN_OCCUPATION)

    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") in ("occupation", "search_occupation"):
            if usable(event.get("value")):
                return str(event["value"])
    for name in ("occupation", "search_occupation"):
        value = tracker.get_slot(name)
        if usable(value):
            return str(value)
    return None


def resolve_from_tracker(session: Session, tracker: Tracker) -> tuple[Resolution, str]:
    """Entity values first (the NLU marked the occupation), else the whole message."""
    index = alias_index(session)
    for value in entity_values(tracker, "occupation"):
        resolution = index.resolve(value)
        if resolution.candidates:
            return resolution, value
    text = latest_text(tracker)
    return index.resolve(text), text


class ActionAnswerOccupation(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_occupation"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        intent = latest_intent(tracker)
        aspect = ASPECT_BY_INTENT.get(intent) or tracker.get_slot("occupation_aspect") or "info"
        resolution, query = resolve_from_tracker(session, tracker)
        if not resolution.candidates and intent in ASPECT_BY_INTENT:
            remembered = remembered_occupation(tracker)
            occupation = queries.occupation_by_name(session, remembered) if remembered else None
            if occupation is not None:
                return self._answer(dispatcher, session, occupation, aspect, latest_text(tracker))
        if not resolution.candidates and (specific := faq_instead(session, tracker)) is not None:
            # "wie lange dauert eine ausbildung?": the general article, then the offer to be exact for one occupation
            events = send_faq(session, dispatcher, specific)
            dispatcher.utter_message(response="utter_ask_occupation_for_details")
            return [*events, SlotSet("occupation_aspect", aspect)]
        if not resolution.candidates:
            if query.strip() and intent == "inform_occupation":
                dispatcher.utter_message(response="utter_occupation_unknown", query=query.strip()[:80])
            else:
                dispatcher.utter_message(response="utter_ask_occupation")
            return [SlotSet("occupation_aspect", aspect)]
        if not resolution.is_sure:
            buttons = [
                render.button(c.name, "inform_occupation", occupation=c.name) for c in resolution.candidates[:4]
            ]
            dispatcher.utter_message(response="utter_occupation_did_you_mean", buttons=buttons)
            return [SlotSet("occupation_aspect", aspect)]
        occupation = queries.occupation_by_id(session, resolution.candidates[0].occupation_id)
        assert occupation is not None
        return self._answer(dispatcher, session, occupation, aspect, latest_text(tracker))

    def _answer(
        self, dispatcher: CollectingDispatcher, session: Session, occ: Occupation, aspect: str, text: str = ""
    ) -> list[dict[str, Any]]:
        source = render.source_line(occ.source_name, occ.source_url, occ.stand)
        if not occ.curated:
            dispatcher.utter_message(
                response="utter_occupation_basic",
                occupation=occ.name,
                area=occ.area.name if occ.area else occ.kldb2,
                year=occ.reorganised_year or "–",
                source=source,
                buttons=self._related_buttons(session, occ),
            )
        elif aspect == "duration":
            dispatcher.utter_message(
                response="utter_occupation_duration",
                occupation=occ.name,
                months=occ.duration_months,
                years=render.months_as_years(occ.duration_months or 0),
                kind=self._kind(occ),
                source=source,
                buttons=self._next_buttons(occ, exclude="duration"),
            )
            if occ.training_type == "dual" and text and asks_about_shortening(text):
                send_faq(session, dispatcher, SHORTENING_ARTICLE)
        elif aspect == "requirements":
            dispatcher.utter_message(
                response="utter_occupation_requirements",
                occupation=occ.name,
                qualification=occ.school_qualification,
                source=source,
                buttons=self._next_buttons(occ, exclude="requirements"),
            )
        else:
            dispatcher.utter_message(
                response="utter_occupation_info",
                occupation=occ.name,
                description=occ.description,
                tasks=render.bullet_list(occ.tasks),
                years=render.months_as_years(occ.duration_months or 0),
                kind=self._kind(occ),
                source=source,
                buttons=self._next_buttons(occ, exclude="info"),
            )
        hint_if_unverified(dispatcher, occ.to_verify, occ.source_url)
        if occ.curated and occ.parttime_common and aspect != "requirements":
            dispatcher.utter_message(response="utter_occupation_parttime_common")
        return [SlotSet("occupation", occ.name), SlotSet("occupation_aspect", None)]

    @staticmethod
    def _kind(occ: Occupation) -> str:
        return "duale Ausbildung (Betrieb und Berufsschule)" if occ.training_type == "dual" else "schulische Ausbildung"

    @staticmethod
    def _next_buttons(occ: Occupation, exclude: str) -> list[dict[str, str]]:
        options = [
            ("info", "Was macht man da?", "ask_occupation_info"),
            ("duration", "Wie lange dauert sie?", "ask_occupation_duration"),
            ("requirements", "Welcher Schulabschluss?", "ask_occupation_requirements"),
        ]
        buttons = [render.button(t, i, occupation=occ.name) for key, t, i in options if key != exclude]
        if exclude == "duration" and occ.training_type == "dual":
            buttons.append(faq_button("Geht es auch kürzer?", SHORTENING_ARTICLE))
        buttons.append(render.button("Geht das in Teilzeit?", "ask_parttime"))
        return buttons

    @staticmethod
    def _related_buttons(session: Session, occ: Occupation) -> list[dict[str, str]]:
        return [
            render.button(o.name, "ask_occupation_info", occupation=o.name)
            for o in related_occupations(session, occ, limit=3)
        ]


class ActionSuggestOccupations(KnowledgeAction):
    def name(self) -> str:
        return "action_suggest_occupations"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        texts = entity_values(tracker, "interest") + [latest_text(tracker)]
        interest = next((i for t in texts if t and (i := match_interest(session, t))), None)
        if interest is None:
            fields = queries.interest_fields(session)
            buttons = render.capped(render.button(f.label, "ask_occupation_suggestion", interest=f.label) for f in fields)
            dispatcher.utter_message(response="utter_ask_interest", buttons=buttons)
            return []
        suggestion = suggest_occupations(session, interest)
        lines = [
            f"{o.name} ({render.months_as_years(o.duration_months)})" if o.duration_months else o.name
            for o in suggestion.occupations
        ]
        dispatcher.utter_message(
            response="utter_occupation_suggestions",
            interest=suggestion.interest_label,
            occupations=render.bullet_list(lines),
            source=_source_of(suggestion.occupations),
            buttons=[
                render.button(o.name, "ask_occupation_info", occupation=o.name) for o in suggestion.occupations[:4]
            ],
        )
        return [SlotSet("interest", interest.label)]


def _source_of(occupations: list[Occupation]) -> str:
    if not occupations:
        return ""
    first = occupations[0]
    return render.source_line(first.source_name, first.source_url, first.stand)
