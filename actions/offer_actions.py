"""Searching training offers: the form that asks for occupation and place, and the result list with follow-ups."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions import render
from actions.base import KnowledgeAction, entity_values, latest_intent, latest_text
from actions.faq_actions import faq_instead_of_search, send_faq
from actions.kb import alias_index, kb_session
from knowledge_base import queries
from knowledge_base.offer_search import (
    DEFAULT_RADIUS_KM,
    OFFER_TYPE_LABELS,
    TRAINING_TYPES,
    OfferHit,
    OfferQuery,
    advice_services,
    occupations_in_results,
    related_occupations,
    search_offers,
)
from knowledge_base.places import PlaceCandidate, resolve_place
from knowledge_base.resolve import match_interest
from knowledge_base.text import gender_forms, normalize

log = logging.getLogger(__name__)

ANY = "egal"
ALL_HESSEN = "Hessen"
INTEREST_PREFIX = "interest:"
MAX_RADIUS_KM = 100.0
PAGE_SIZE = 4
FILTER_FOLLOW_UPS = ("request_more_results", "request_parttime_only", "widen_radius")  # same search, other filter
# Entity values that stand for several offer types. "BvB" arrives as the funding value `bvb` (the NLU has one
# synonym table for all entities); "Ausbildungsplatz", "Lehrstelle" … mean any training (`ausbildung`).
OFFER_TYPE_ALIASES: dict[str, tuple[str, ...]] = {"bvb": ("berufsvorbereitung",), "ausbildung": TRAINING_TYPES}
# Capitalised words after "in", "bei" … that are not places ("in Teilzeit", "in Hessen" is handled as "egal")
NOT_PLACES = {normalize(w) for w in ("Teilzeit", "Vollzeit", "Ausbildung", "Deutschland", "Zukunft", "Ordnung")}
_PLACE_PHRASE = re.compile(
    r"\b(?i:in|im|bei|um|nahe|raum|nähe von|naehe von)\s+"
    r"((?:[A-ZÄÖÜ][\w\-äöüß.]*)(?:\s+(?:am|an der|im|ob der|vor der|[A-ZÄÖÜ(][\w\-äöüß.)]*))*)"
)
# Offer types named in words, for when the NLU tagged none ("Teilzeitausbildung in Wiesbaden", "Duales Studium in
# Darmstadt"): checked in this order on the normalized text (ä → ae …), the first match counts.
_TYPE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bdual\w*\s+(?:studium|studieren|studiengae?ng\w*|studienpl\w*)"), "dual_studium"),
    (re.compile(r"\b(?:schnupper)?praktik\w*"), "praktikum"),
    (re.compile(r"\beinstiegsqualifizierung\w*|\beq\b"), "eq"),
    (re.compile(r"\bschulische\w*\s+ausbildung"), "schulisch"),
    (re.compile(r"\b(?:teilzeit)?ausbildung\w*|\blehrstelle\w*|\blehre\b|\bazubi\w*"), "ausbildung"),
)
SKIP_WORDS = {
    normalize(w)
    for w in (
        "egal", "ist mir egal", "mir egal", "keine ahnung", "weiß nicht", "weiss nicht", "überall",
        "überall in hessen", "ganz hessen", "hessen", "in hessen", "spielt keine rolle", "alles", "irgendwas",
    )
}


@dataclass
class Choice:
    """The outcome of checking one form answer: a canonical value, or what to ask back."""

    value: str | None = None
    response: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    buttons: list[dict[str, str]] = field(default_factory=list)
    place: PlaceCandidate | None = None  # the resolved place (choose_place), so it is not resolved twice


def choose_occupation(session: Session, raw: str) -> Choice:
    """Occupation name, ``interest:<key>`` for a field of interest, or ``egal``."""
    text = str(raw).strip()
    if normalize(text) in SKIP_WORDS:
        return Choice(ANY)
    if text.startswith(INTEREST_PREFIX):
        key = text.removeprefix(INTEREST_PREFIX)
        if queries.interest_field(session, key) is not None:
            return Choice(text)
    if queries.occupation_exists(session, text):
        return Choice(text)
    resolution = alias_index(session).resolve(text)
    if resolution.is_sure and resolution.best:
        return Choice(resolution.best.name)
    if resolution.candidates and resolution.best and resolution.best.score >= 80:
        buttons = [render.button(c.name, "inform_occupation", occupation=c.name) for c in resolution.candidates[:4]]
        return Choice(response="utter_occupation_did_you_mean", buttons=buttons)
    interest = match_interest(session, text)
    if interest is not None:
        return Choice(INTEREST_PREFIX + interest.key)
    return Choice(response="utter_search_occupation_unknown", params={"query": text[:80]})


def choose_place(session: Session, raw: str) -> Choice:
    """A place name from the gazetteer, or ``Hessen`` for "egal"/"überall in Hessen"."""
    text = str(raw).strip()
    if normalize(text) in SKIP_WORDS:
        return Choice(ALL_HESSEN)
    resolution = resolve_place(session, text)
    if resolution.is_sure and resolution.best:
        return Choice(resolution.best.name, place=resolution.best)
    if resolution.candidates:
        buttons = [render.button(c.name, "inform_location", location=c.name) for c in resolution.candidates[:4]]
        return Choice(response="utter_search_place_did_you_mean", buttons=buttons)
    return Choice(response="utter_search_place_unknown", params={"query": text[:80]})


def place_phrase(text: str) -> str | None:
    """The capitalised words after "in", "bei", "um" … ("Xyzzyhausen", "Frankfurt am Main"), if any."""
    for match in _PLACE_PHRASE.finditer(text[:1000]):
        phrase = match.group(1).strip(" .,!?")
        if phrase and normalize(phrase.split()[0]) not in NOT_PLACES:
            return phrase
    return None


def offer_type_in_text(text: str) -> str | None:
    """The offer type a message names in words ("Teilzeitausbildung" → ``ausbildung``), if any."""
    norm = normalize(text[:1000])
    return next((value for pattern, value in _TYPE_WORDS if pattern.search(norm)), None)


def offer_types(value: str | None) -> tuple[str, ...]:
    if value in OFFER_TYPE_LABELS:
        return (value,)
    return OFFER_TYPE_ALIASES.get(value or "", ())


def _say(dispatcher: CollectingDispatcher, choice: Choice) -> None:
    if choice.response:
        dispatcher.utter_message(response=choice.response, buttons=choice.buttons or None, **choice.params)


SEARCH_BUTTON_TITLE = "Ausbildungsplätze suchen"


def article_instead_of_search(tracker: Tracker) -> str | None:
    """The FAQ article for a question about finding a place that DIET took for a search request
    (faq_actions.faq_instead_of_search); None — the search — also when the knowledge base or the index fails."""
    try:
        with kb_session() as session:
            return faq_instead_of_search(session, tracker)
    except Exception:  # noqa: BLE001 - then the search runs as always
        log.exception("checking a search request for an FAQ question failed")
        return None


class ValidateOfferSearchForm(FormValidationAction):
    """Checks each answer against the knowledge base; asks back with suggestions instead of guessing."""

    def name(self) -> str:
        return "validate_offer_search_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        """None for a question about finding a place that DIET took for a search request: the form ends before it
        asks anything, and action_search_offers answers with the article."""
        if article_instead_of_search(tracker) is not None:
            return []
        return domain_slots

    def extract_search_place(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A place the NLU did not tag ("… in Xyzzyhausen") is still taken, so that validation can say it is
        unknown instead of asking "Wo suchst du?" as if nothing had been said."""
        if latest_intent(tracker) != "search_offers" or entity_values(tracker, "location"):
            return {}
        phrase = place_phrase(latest_text(tracker))
        return {"search_place": phrase} if phrase else {}

    def extract_search_occupation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A new search with a type or a place but no occupation ("Praktikum in Darmstadt", "Ausbildungsplätze
        in der Nähe von 35390") searches all occupations at once (the result list offers to narrow it down),
        instead of asking for an occupation first. An occupation the NLU did not tag is still taken from the text."""
        if latest_intent(tracker) != "search_offers" or any(
            entity_values(tracker, name) for name in ("occupation", "interest")
        ):
            return {}
        text = latest_text(tracker)
        try:
            with kb_session() as session:
                resolution = alias_index(session).resolve(text)
        except Exception:  # noqa: BLE001 - validation reports a broken knowledge base
            log.exception("reading an occupation from the search request failed")
            return {}
        if resolution.is_sure and resolution.best:
            return {"search_occupation": resolution.best.name}
        if (entity_values(tracker, "offer_type") or offer_type_in_text(text)
                or entity_values(tracker, "location") or place_phrase(text)):
            return {"search_occupation": ANY}
        return {}

    def validate_search_occupation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("search_occupation", choose_occupation, value, dispatcher)

    def validate_search_place(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._validate("search_place", choose_place, value, dispatcher)

    @staticmethod
    def _validate(slot: str, choose, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        if isinstance(value, list):
            value = value[-1] if value else ""
        try:
            with kb_session() as session:
                choice = choose(session, value)
        except Exception:  # noqa: BLE001 - the user must get an answer whatever failed
            log.exception("validating %s failed", slot)
            dispatcher.utter_message(response="utter_technical_problem")
            return {slot: None}
        _say(dispatcher, choice)
        return {slot: choice.value}


@dataclass(frozen=True)
class SearchState:
    occupation: str
    place: str
    radius_km: float
    parttime_only: bool
    offer_type: str | None
    page: int


def new_search_message(tracker: Tracker) -> dict[str, Any] | None:
    """The ``search_offers`` message that started a search not answered yet (None for follow-ups)."""
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_search_offers":
            return None
        if event.get("event") == "user" and (event.get("parse_data") or {}).get("intent", {}).get("name") == (
            "search_offers"
        ):
            return event
    return None


def next_state(tracker: Tracker) -> SearchState:
    """The search to run now. A new search starts with default filters (part-time if the request says so);
    follow-ups change page, radius, part-time filter, place or occupation of the previous search."""
    intent = latest_intent(tracker)
    radius = float(tracker.get_slot("search_radius") or DEFAULT_RADIUS_KM)
    parttime = bool(tracker.get_slot("search_parttime"))
    page = int(tracker.get_slot("search_page") or 0)
    offer_type = tracker.get_slot("offer_type")
    started = new_search_message(tracker)
    if started is not None:
        radius = DEFAULT_RADIUS_KM
        parttime = "teilzeit" in normalize(started.get("text") or "")
        types = [e.get("value") for e in (started.get("parse_data") or {}).get("entities", [])
                 if e.get("entity") == "offer_type"]
        offer_type = types[0] if types else offer_type_in_text(started.get("text") or "")
    page = page + 1 if intent == "request_more_results" else 0
    if intent == "request_parttime_only":
        parttime = True
    if intent == "widen_radius":
        asked = [float(v) for v in entity_values(tracker, "radius") if str(v).isdigit()]
        radius = min(MAX_RADIUS_KM, asked[0] if asked else radius * 2)
    return SearchState(
        occupation=tracker.get_slot("search_occupation") or ANY,
        place=tracker.get_slot("search_place") or ALL_HESSEN,
        radius_km=radius,
        parttime_only=parttime,
        offer_type=offer_type,
        page=page,
    )


class ActionSearchOffers(KnowledgeAction):
    """Runs the search of ``next_state`` and shows one page of results with follow-up buttons."""

    def name(self) -> str:
        return "action_search_offers"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if (key := article_instead_of_search(tracker)) is not None:  # "wo findet man freie ausbildungsplätze, app?"
            return send_faq(session, dispatcher, key, first_buttons=[render.button(SEARCH_BUTTON_TITLE, "search_offers")])
        state = next_state(tracker)
        occupation = choose_occupation(session, state.occupation)
        place = choose_place(session, state.place)
        if occupation.value is None or place.value is None:  # stale slot values: say why, start over
            _say(dispatcher, occupation if occupation.value is None else place)
            return [SlotSet("search_occupation", occupation.value), SlotSet("search_place", place.value)]
        if place.place is not None and not place.place.is_hessian and latest_intent(tracker) not in FILTER_FOLLOW_UPS:
            dispatcher.utter_message(response="utter_offer_outside_hessen", place=place.place.name,
                                     state=place.place.state)
        search = build_search(session, occupation.value, place.place, state)
        result = search_offers(session, search.query)
        events = [
            SlotSet("search_page", state.page),
            SlotSet("search_radius", state.radius_km),
            SlotSet("search_parttime", state.parttime_only),
            SlotSet("offer_type", state.offer_type),
        ]
        if not result.hits:
            no_results(session, dispatcher, search)
            return events
        dispatcher.utter_message(
            response="utter_offer_results",
            what=search.what,
            where=search.where,
            total=_total(result.total, result.total_capped),
            shown=_shown(result.page * result.page_size + 1, result.shown_until, result.total),
            offers="\n".join(
                offer_line(n, hit) for n, hit in enumerate(result.hits, start=result.page * result.page_size + 1)
            ),
            buttons=result_buttons(result.has_more, state, search.query),
        )
        if occupation.value == ANY or occupation.value.startswith(INTEREST_PREFIX):
            narrow = narrow_buttons(session, search.query)
            if narrow:
                dispatcher.utter_message(response="utter_offer_narrow", buttons=narrow)
        if any(hit.is_demo for hit in result.hits):
            dispatcher.utter_message(response="utter_offer_demo_hint")
        return events


class ActionOfferAdvice(KnowledgeAction):
    """"Beratung dazu" after a search: counselling services near the searched place, and the general advice."""

    def name(self) -> str:
        return "action_offer_advice"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        lat, lon, name = _place_coordinates(session, tracker.get_slot("search_place") or ALL_HESSEN)
        where = f"in der Nähe von {name}" if lat is not None else "in Hessen"
        services = advice_services(session, lat, lon, limit=3)
        dispatcher.utter_message(response="utter_offer_advice", where=where, services=service_lines(services))
        return []


@dataclass(frozen=True)
class Search:
    query: OfferQuery
    what: str
    where: str
    occupation_id: int | None


def build_search(session: Session, occupation: str, place: PlaceCandidate | None, state: SearchState) -> Search:
    """The knowledge-base query and its wording ("Angebote als Tischler/-in", "im Umkreis von 25 km um Kassel")."""
    occupation_ids: tuple[int, ...] = ()
    occupation_id = None
    what = "Angebote"
    if occupation.startswith(INTEREST_PREFIX):
        interest = queries.interest_field(session, occupation.removeprefix(INTEREST_PREFIX))
        if interest is not None:
            occupation_ids = tuple(queries.occupation_ids_in_areas(session, interest.kldb2)) or (-1,)
            what = f"Angebote zum Interesse „{interest.label}“"
    elif occupation != ANY:
        occupation_ids = _same_occupation_ids(session, occupation)
        occupation_id = occupation_ids[0] if occupation_ids else None
        what = f"Angebote als {occupation}"
    lat = lon = None
    where = "in ganz Hessen"
    if place is not None:  # None: "egal" / ganz Hessen
        lat, lon = place.lat, place.lon
        where = f"im Umkreis von {state.radius_km:.0f} km um {place.name}"
    if state.parttime_only:
        what += " in Teilzeit"
    types = offer_types(state.offer_type)
    if len(types) == 1:
        what += f" (nur {OFFER_TYPE_LABELS[types[0]]})"
    query = OfferQuery(
        occupation_ids=occupation_ids,
        lat=lat,
        lon=lon,
        radius_km=state.radius_km,
        offer_types=types,
        parttime_only=state.parttime_only,
        page=state.page,
        page_size=PAGE_SIZE,
    )
    return Search(query, what, where, occupation_id)


def _place_coordinates(session: Session, place: str) -> tuple[float | None, float | None, str]:
    if place != ALL_HESSEN:
        best = resolve_place(session, place).best
        if best is not None:
            return best.lat, best.lon, best.name
    return None, None, "in ganz Hessen"


def result_buttons(more: bool, state: SearchState, query: OfferQuery) -> list[dict[str, str]]:
    buttons = []
    if more:
        buttons.append(render.button("Mehr anzeigen", "request_more_results"))
    if not state.parttime_only:
        buttons.append(render.button("Nur Teilzeit", "request_parttime_only"))
    if query.has_place and state.radius_km < MAX_RADIUS_KM:
        buttons.append(render.button("Umkreis vergrößern", "widen_radius"))
    buttons.append(render.button("Beratung dazu", "ask_advice_services"))
    return buttons


def narrow_buttons(session: Session, query: OfferQuery, limit: int = 4) -> list[dict[str, str]]:
    """One button per occupation with the most offers in the result list ("Tischler/-in (12)")."""
    return [
        render.button(f"{r.name} ({r.offers})", "inform_occupation", occupation=r.name)
        for r in occupations_in_results(session, query, limit=limit)
    ]


def no_results(session: Session, dispatcher: CollectingDispatcher, search: Search) -> None:
    """Say so plainly; offer a wider radius, related occupations with offers and the advice services nearby."""
    query = search.query
    buttons = []
    if query.has_place and query.radius_km < MAX_RADIUS_KM:
        wider = min(MAX_RADIUS_KM, query.radius_km * 2)
        buttons.append(render.button(f"Umkreis {wider:.0f} km", "widen_radius"))
    if search.occupation_id is not None:
        buttons += [
            render.button(f"{r.name} ({r.offers})", "inform_occupation", occupation=r.name)
            for r in related_occupations(session, search.occupation_id, replace(query, page=0), limit=3)
        ]
    services = advice_services(session, query.lat, query.lon, limit=3)
    dispatcher.utter_message(
        response="utter_offer_none",
        what=search.what,
        where=search.where,
        services=service_lines(services),
        buttons=buttons,
    )


def service_lines(services: list[OfferHit]) -> str:
    if not services:
        return "• die Berufsberatung der Agentur für Arbeit in deiner Nähe (kostenlos)"
    lines = []
    for hit in services:
        line = f"• {hit.provider_name}: {hit.title.removeprefix('[Demo] ')}"
        if hit.distance_km is not None:
            line += f" ({hit.distance_km:.0f} km)"
        contact = hit.phone or hit.email or hit.website
        lines.append(line + (f", {contact}" if contact else ""))
    return "\n".join(lines)


def _shown(first: int, last: int, total: int) -> str:
    """" – hier sind 5 bis 8" when the list is longer than one page, else nothing."""
    if first == 1 and last == total:
        return ""
    return f" – hier sind {first} bis {last}" if last > first else f" – hier ist Nr. {first}"


def _total(total: int, capped: bool) -> str:
    text = f"{total:,}".replace(",", ".")
    return f"mehr als {text}" if capped else text


def _same_occupation_ids(session: Session, name: str) -> tuple[int, ...]:
    """The occupation and its chamber variants ("Koch/Köchin (IH)" and "(HwEx)"), the named one first."""
    base = gender_forms(name)[0]
    own, rows = queries.occupation_ids_and_names_like(session, name)
    others = [row_id for row_id, row_name in rows if row_id != own and gender_forms(row_name)[0] == base]
    return tuple([own] if own is not None else []) + tuple(others)


def offer_line(number: int, hit: OfferHit) -> str:
    """"1. [Demo] Ausbildung Tischler/-in – Demo-Betrieb Tischlerei Nord (Kassel) – Kassel (3 km) – Beginn …"."""
    place = hit.place_name or ""
    provider = hit.provider_name.removesuffix(f" ({place})") if place else hit.provider_name
    parts = [f"{number}. {hit.title}", provider]
    if hit.distance_km is not None:
        place += f" ({hit.distance_km:.0f} km)"
    parts.append(place.strip())
    if hit.start_date:
        parts.append(f"Beginn {render.german_date(hit.start_date)}")
    if hit.application_deadline:
        parts.append(f"Bewerbung bis {render.german_date(hit.application_deadline)}")
    if hit.parttime_possible:
        parts.append("Teilzeit möglich")
    return " – ".join(p for p in parts if p)
