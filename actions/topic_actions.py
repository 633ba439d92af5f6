"""Answers from topic articles, funding programmes and the minimum training pay table."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions import render
from actions.base import KnowledgeAction, entity_values, hint_if_unverified, latest_intent, latest_text
from actions.faq_actions import (
    article_besides_safety,
    faq_instead,
    faq_instead_of_rights,
    faq_unless_failing,
    send_faq,
)
from actions.faq_index import DISCRIMINATION_INTENT
from actions.kb import alias_index
from actions.occupation_actions import remembered_occupation
from knowledge_base import queries
from knowledge_base.models import Article, Occupation
from knowledge_base.resolve import find_funding
from knowledge_base.text import has_cue, normalize

ARTICLE_BY_INTENT = {
    "ask_parttime": "teilzeitausbildung",
    "ask_abroad": "ausland",
    "ask_study_without_abitur": "studium_ohne_abitur",
    "ask_career_orientation": "berufsorientierung",
    "ask_advice_services": "beratung",
    "ask_parents_info": "eltern",
    "ask_why_ausbildung": "warum_ausbildung",
    "ask_training_problems": "abbruch_vermeiden",
    "ask_discrimination": "diskriminierung",
}
_YEAR = re.compile(r"\b(20[1-4]\d)\b")
_TRAINING_YEAR = re.compile(
    r"\b(?:im\s)?(?:([1-4])\s?\.?|(erst|zweit|dritt|viert)\w*)\s(?:aus\w*|lehr)?\s?jahr", re.IGNORECASE)
_ORDINALS = {"erst": 1, "zweit": 2, "dritt": 3, "viert": 4}


def start_and_training_year(text: str) -> tuple[int | None, int | None]:
    """The year the training started ("2025 angefangen") and the training year ("im 2. Jahr", "zweites
    Lehrjahr") named in a message, if any (input cut at 500 characters; linear patterns)."""
    text = text[:500]
    year = _YEAR.search(text)
    training = _TRAINING_YEAR.search(text)
    number = None
    if training:
        number = int(training.group(1)) if training.group(1) else _ORDINALS[training.group(2).lower()]
    return (int(year.group(1)) if year else None), number


# Pay once the training is over ("als ausgelernter Elektriker", "nach der Lehre", "als Geselle"): the minimum training
# pay does not apply; the article on pay after the training answers. Retrieval alone hardly tells "in der" from
# "nach der Ausbildung" (docs/nlu.md), so this cue decides it. On normalize()d text; linear.
_AFTER_TRAINING = re.compile(
    r"\b(?:nach\s(?:(?:der|dem|meiner|seiner|ihrer|deiner)\s)?(?:ausbildung|lehre|abschluss|gesellenpruefung|abschlusspruefung)"
    r"|ausgelernt\w*|gesell(?:e|en|in)\b|facharbeiter\w*|fertig\s(?:ausgebildet\w*|mit\s(?:der|meiner)\s(?:ausbildung|lehre))"
    r"|mit\s(?:der|meiner)\s(?:ausbildung|lehre)\sfertig|nach\sabschluss\sder\s(?:ausbildung|lehre))"
)
AFTER_TRAINING_ARTICLE = "gehalt_nach_ausbildung"


def about_pay_after_training(text: str) -> bool:
    return has_cue(_AFTER_TRAINING, text)


LANGUAGE_WORDS = ("deutsch", "sprache", "sprech", "language", "english", "englisch", "gefluechtet", "fluecht")


def _article_key(intent: str, text: str) -> str:
    if intent == "ask_support_special_needs":
        norm = normalize(text)
        return "unterstuetzung_sprache" if any(w in norm for w in LANGUAGE_WORDS) else "ohne_schulabschluss"
    return ARTICLE_BY_INTENT.get(intent, "beratung")


def related_buttons(session: Session, article: Article) -> list[dict[str, str]]:
    buttons = []
    for key in article.related[:3]:
        program = queries.funding_program(session, key)
        if program is not None:
            buttons.append(render.button(program.short_name, "ask_funding", funding_program=program.key))
            continue
        other = queries.article(session, key)
        if other is not None:
            intent = next((i for i, k in ARTICLE_BY_INTENT.items() if k == other.key), None)
            if intent:
                buttons.append(render.button(other.title, intent))
    return buttons


class ActionAnswerTopic(KnowledgeAction):
    """Answers with the topic article that belongs to the intent (part-time, abroad, advice ...)."""

    def name(self) -> str:
        return "action_answer_topic"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        specific = faq_instead(session, tracker)
        if specific is not None:
            return send_faq(session, dispatcher, specific)
        return send_article(session, dispatcher, _article_key(latest_intent(tracker), latest_text(tracker)))


RIGHTS_BUTTON_TITLE = "Bei Benachteiligung: Rechte und Hilfe"


class ActionAnswerDiscrimination(KnowledgeAction):
    """``ask_discrimination``: a caring sentence and the rights article (AGG, Antidiskriminierungsstelle, the chamber's
    Ausbildungsberatung), then the question's own FAQ article if retrieval is sure of it; the rule offers the hand-off
    after it. When DIET alone chose the intent and an FAQ article is much closer to the message than the intent's
    examples (an interview or rights question with a strong word), that article answers instead, with the rights
    article one button away."""

    def name(self) -> str:
        return "action_answer_discrimination"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """The article instead, or the caring sentence, which goes out whatever fails, and then the knowledge action
        (a failing knowledge base costs the article: the technical-problem reply after the sentence); the rule's offer
        of a human follows either way."""
        rights = render.button(RIGHTS_BUTTON_TITLE, DISCRIMINATION_INTENT)
        events = faq_unless_failing(dispatcher, tracker, faq_instead_of_rights, [rights])
        if events is not None:
            return events
        dispatcher.utter_message(response="utter_discrimination")
        return await super().run(dispatcher, tracker, domain)

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """The rights article, then the question's own article if retrieval is sure of it."""
        events = send_article(session, dispatcher, ARTICLE_BY_INTENT[DISCRIMINATION_INTENT])
        return events + article_besides_safety(session, dispatcher, tracker)


def send_article(session: Session, dispatcher: CollectingDispatcher, key: str) -> list[dict[str, Any]]:
    """The article with its source and related buttons (also sent when a hand-off could not be stored)."""
    article = queries.article(session, key)
    if article is None:
        dispatcher.utter_message(response="utter_content_missing")
        return []
    dispatcher.utter_message(
        response="utter_article",
        title=article.title,
        summary=article.summary,
        body=article.body,
        source=render.source_line(article.source_name, article.source_url, article.stand),
        buttons=related_buttons(session, article),
    )
    hint_if_unverified(dispatcher, article.to_verify, article.source_url)
    return [SlotSet("topic", article.topic)]


class ActionAnswerFunding(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_funding"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        program = None
        for value in entity_values(tracker, "funding_program"):
            program = queries.funding_program(session, value) or find_funding(session, value)
            if program:
                break
        if program is None and latest_text(tracker):
            program = find_funding(session, latest_text(tracker))
        if program is None and (specific := faq_instead(session, tracker)) is not None:
            return send_faq(session, dispatcher, specific)
        if program is None:
            programs = queries.funding_programs(session)
            dispatcher.utter_message(
                response="utter_funding_overview",
                programs=render.bullet_list([f"{p.short_name}: {p.summary.split('. ')[0].rstrip('.')}." for p in programs]),
                buttons=[render.button(p.short_name, "ask_funding", funding_program=p.key) for p in programs[:6]],
            )
            return []
        program = queries.funding_program(session, program.key)
        assert program is not None
        if program.article is not None:  # its FAQ article answers it (training-specific details, own source)
            events = send_faq(session, dispatcher, program.article,
                              first_buttons=[render.button("Andere Förderungen", "ask_funding")])
            return [*events, SlotSet("funding_program", program.key)]
        amounts = [
            f"{a.label}: {render.euro(a.amount_eur)} ({a.period}, gültig ab {render.german_date(a.valid_from)})"
            + (" – bitte aktuell prüfen" if a.to_verify else "")
            for a in program.amounts
        ]
        dispatcher.utter_message(
            response="utter_funding_program",
            name=program.name,
            summary=program.summary,
            eligibility=program.eligibility,
            amounts=("\n" + render.bullet_list(amounts)) if amounts else "",
            how_to_apply=program.how_to_apply,
            apply_url=program.apply_url,
            source=render.source_line(program.source_name, program.source_url, program.stand),
            buttons=[
                render.button("Andere Förderungen", "ask_funding"),
                render.button("Persönliche Beratung", "ask_advice_services"),
            ],
        )
        hint_if_unverified(
            dispatcher, program.to_verify or any(a.to_verify for a in program.amounts), program.source_url
        )
        return [SlotSet("funding_program", program.key)]


def pay_occupation(session: Session, tracker: Tracker) -> Occupation | None:
    """The occupation a pay question is about: named in the message ("Was verdient man als Erzieherin?"), else
    the one the conversation was about ("und was verdient man da?")."""
    index = alias_index(session)
    for text in [*entity_values(tracker, "occupation"), latest_text(tracker)]:
        resolution = index.resolve(text)
        if resolution.is_sure and resolution.best:
            return queries.occupation_by_id(session, resolution.best.occupation_id)
    remembered = remembered_occupation(tracker)
    return queries.occupation_by_name(session, remembered) if remembered else None


def answer_pay_rule(
    session: Session, dispatcher: CollectingDispatcher, occupation: Occupation
) -> list[dict[str, Any]] | None:
    """School-based trainings: the article of their pay rule instead of the BBiG table (None: no rule)."""
    article = queries.article(session, occupation.pay_rule) if occupation.pay_rule else None
    if article is None:
        return None
    dispatcher.utter_message(
        response="utter_training_pay_rule",
        occupation=occupation.name,
        summary=article.summary,
        body=article.body,
        source=render.source_line(article.source_name, article.source_url, article.stand),
        buttons=[
            render.button("Welcher Schulabschluss?", "ask_occupation_requirements", occupation=occupation.name),
            render.button("Wie lange dauert sie?", "ask_occupation_duration", occupation=occupation.name),
        ],
    )
    hint_if_unverified(dispatcher, article.to_verify, article.source_url)
    return [SlotSet("topic", article.topic), SlotSet("occupation", occupation.name)]


class ActionAnswerTrainingPay(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_training_pay"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if text and about_pay_after_training(text):  # "was verdient ein ausgelernter Elektriker?"
            return send_faq(session, dispatcher, AFTER_TRAINING_ARTICLE)
        occupation = pay_occupation(session, tracker)
        start, training_year = start_and_training_year(text)
        if occupation is None and start is None:
            specific = faq_instead(session, tracker)  # "kriegen azubis weihnachtsgeld?", "steuern als azubi?"
            if specific is not None:
                return send_faq(session, dispatcher, specific)
        if occupation is not None:
            events = answer_pay_rule(session, dispatcher, occupation)
            if events is not None:
                return events
        article = queries.article(session, "mindestausbildungsverguetung")
        rates = queries.minimum_pay(session)
        if article is None or not rates:
            dispatcher.utter_message(response="utter_content_missing")
            return []
        if occupation is not None:
            dispatcher.utter_message(response="utter_training_pay_occupation", occupation=occupation.name)
        by_year: dict[int, list[str]] = {}
        for r in rates:
            by_year.setdefault(r.start_year, []).append(f"{r.training_year}. Jahr {render.euro(r.amount_eur)}")
        if start in by_year:  # "ich hab 2025 angefangen, bin im 2. Jahr": the row of that start year counts
            amounts = {r.training_year: r.amount_eur for r in rates if r.start_year == start}
            table = f"Beginn {start}: " + ", ".join(by_year[start])
            if training_year in amounts:
                table = (f"Ausbildungsbeginn {start}, {training_year}. Ausbildungsjahr: mindestens "
                         f"{render.euro(amounts[training_year])} im Monat.\n" + table)
        else:
            table = "\n".join(f"Beginn {year}: " + ", ".join(parts) for year, parts in by_year.items())
        first = rates[0]
        dispatcher.utter_message(
            response="utter_training_pay",
            summary=article.summary,
            table=table,
            note=first.note,
            source=render.source_line(first.source_name, first.source_url, first.stand),
            buttons=[render.button("Geld vom Staat (BAB)?", "ask_funding", funding_program="bab")],
        )
        hint_if_unverified(dispatcher, first.to_verify, first.source_url)
        return [SlotSet("topic", article.topic)] + ([SlotSet("occupation", occupation.name)] if occupation else [])
