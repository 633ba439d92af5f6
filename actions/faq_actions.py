"""Answers a question about the training lifecycle with the FAQ article that retrieval finds for it
(knowledge_base.faq_search): the article's answer, next step and source with Stand, or — when retrieval is not
confident — what the bot understood and the two best topics as buttons, plus the hand-off."""

from __future__ import annotations

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions import render
from actions.base import KnowledgeAction, entity_values, hint_if_unverified, latest_intent, latest_text
from actions.faq_index import (
    BROAD_INTENTS,
    CRISIS_INTENT,
    DISCRIMINATION_INTENT,
    EXCLUDED_BY_INTENT,
    RESPONSE_INTENTS,
    SEARCH_INTENT,
    faq_index,
    retrieval_enabled,
)
from actions.kb import kb_session
from core.protocol import SAFETY_NET_KEY
from knowledge_base import queries
from knowledge_base.faq_search import (
    CRISIS_MARGIN,
    DISCRIMINATION_MARGIN,
    RUMOUR_MARGIN,
    SEARCH_MARGIN,
    TOPIC_MARGIN,
    Hit,
)
from knowledge_base.text import has_cue

log = logging.getLogger(__name__)
HANDOFF_BUTTON = {"title": "Mit einem Menschen sprechen", "payload": "/request_human"}


def _closer_article(session: Session, tracker: Tracker, intent: str, margin: float,
                    or_closest: bool = False) -> Hit | None:
    """The best article for the latest message if it is confident and closer than ``intent``'s training examples by
    ``margin`` or, with ``or_closest``, closer than every intent's examples (FaqIndex.specific_article); None without
    text (a button names its topic) or with retrieval off."""
    text = latest_text(tracker)
    if not text or not retrieval_enabled():
        return None
    return faq_index(session).specific_article(text, intent, margin, or_closest)


def decided_by_safety_net(tracker: Tracker) -> bool:
    """The safety patterns (not only DIET) recognised the latest message as a crisis or discrimination."""
    return bool((tracker.latest_message.get("intent") or {}).get(SAFETY_NET_KEY))


def faq_instead(session: Session, tracker: Tracker) -> str | None:
    """The FAQ article that answers the latest message better than the broad answer of its intent, if retrieval
    finds one that is clearly closer than the intent's own training examples, or closer than the examples of every
    intent (None: answer as the intent says)."""
    intent = latest_intent(tracker)
    if intent not in BROAD_INTENTS:
        return None
    hit = _closer_article(session, tracker, intent, TOPIC_MARGIN, or_closest=True)
    if hit is None or hit.key in EXCLUDED_BY_INTENT.get(intent, ()):
        return None
    return hit.key


# "stimmt das?", "ist das wahr?", "ist da was dran?": a rumour the person wants checked. On normalize()d text; linear.
_RUMOUR_CHECK = re.compile(
    r"\b(?:stimmt\s(?:das|des|dat|es|echt|wirklich)|(?:ist|is)\s(?:das|des|es)\s(?:wahr|so|richtig|echt\sso)"
    r"|ist\sda\swas\sdran|geruecht\w*|mythos)\b"
)


def is_rumour_check(text: str) -> bool:
    return has_cue(_RUMOUR_CHECK, text)


def _instead_of_what_diet_alone_saw(session: Session, tracker: Tracker, safety_intent: str,
                                    margin: float) -> str | None:
    """The article closer than ``safety_intent``'s examples by ``margin``; never for what the patterns recognised."""
    if decided_by_safety_net(tracker):
        return None
    hit = _closer_article(session, tracker, safety_intent, margin)
    return hit.key if hit is not None else None


def faq_instead_of_rights(session: Session, tracker: Tracker) -> str | None:
    """For ``ask_discrimination`` that DIET alone chose (not the safety patterns): the FAQ article that answers the
    message when its examples are much closer than the intent's own (``DISCRIMINATION_MARGIN``), e.g. "Was antworte
    ich, wenn im Gespräch nach meinen Schwächen gefragt wird?" — or, for a rumour to check ("Mein Kumpel sagt, in
    der Berufsschule gibt es keine Noten. Stimmt das?"), closer by ``RUMOUR_MARGIN``; None: the rights answer."""
    text = latest_text(tracker)
    margin = RUMOUR_MARGIN if text and is_rumour_check(text) else DISCRIMINATION_MARGIN
    return _instead_of_what_diet_alone_saw(session, tracker, DISCRIMINATION_INTENT, margin)


def faq_instead_of_crisis(session: Session, tracker: Tracker) -> str | None:
    """For ``crisis`` that DIET alone chose (not the safety patterns): the FAQ article that answers an ordinary
    question with strong words ("der muskelkater nach dem ersten tag auf dem bau bringt mich um") when retrieval is
    confident and the article's examples are closer than the crisis examples by ``CRISIS_MARGIN``; None: the help."""
    return _instead_of_what_diet_alone_saw(session, tracker, CRISIS_INTENT, CRISIS_MARGIN)


def faq_instead_of_search(session: Session, tracker: Tracker) -> str | None:
    """For a typed ``search_offers`` message: the FAQ article that answers a question about finding a place DIET took
    for a search request ("wo findet man freie ausbildungsplätze, gibts da ne app?") when retrieval is confident and
    the article is closer than the search examples by ``SEARCH_MARGIN``; None: the search (also for a button)."""
    if latest_intent(tracker) != SEARCH_INTENT:
        return None
    hit = _closer_article(session, tracker, SEARCH_INTENT, SEARCH_MARGIN)
    return hit.key if hit is not None else None


def article_besides_safety(session: Session, dispatcher: CollectingDispatcher,
                           tracker: Tracker) -> list[dict[str, Any]]:
    """After the crisis help or the discrimination answer: the FAQ article retrieval is sure of (by the stricter
    ``BESIDE_SAFETY_SCORE``), when only DIET and not the safety patterns saw a crisis or discrimination — DIET also takes
    ordinary rights questions with strong words for one ("Darf mein Chef mich um 4 Uhr anfangen lassen, ich bin
    17?"). The safety answer always comes first; nothing is added to what the patterns recognised."""
    text = latest_text(tracker)
    if decided_by_safety_net(tracker) or not text or not retrieval_enabled():
        return []
    best = faq_index(session).rank(text, limit=1)[0]
    return send_faq(session, dispatcher, best.key) if best.sure_beside_safety else []


def faq_button(title: str, key: str) -> dict[str, str]:
    return render.button(title, "ask_faq", faq_key=key)


def send_faq(session: Session, dispatcher: CollectingDispatcher, key: str,
             first_buttons: Sequence[dict[str, str]] = ()) -> list[dict[str, Any]]:
    """The FAQ article ``key``: answer, next step, source with Stand; ``first_buttons``, related articles and the
    hand-off as buttons."""
    article = queries.article(session, key)
    if article is None:
        dispatcher.utter_message(response="utter_content_missing")
        return []
    buttons = list(first_buttons)
    for other_key in article.related[:2]:
        other = queries.article(session, other_key)
        if other is not None and other.examples:
            buttons.append(faq_button(other.title, other.key))
    buttons.append(HANDOFF_BUTTON)
    next_step = f"{article.next_step} – {article.next_url}" if article.next_url else (article.next_step or "")
    dispatcher.utter_message(
        response="utter_faq_answer",
        title=article.title,
        answer=article.summary,
        next_step=next_step,
        source=render.source_line(article.source_name, article.source_url, article.stand),
        buttons=render.capped(buttons),
    )
    hint_if_unverified(dispatcher, article.to_verify, article.source_url)
    return [SlotSet("faq_key", article.key), SlotSet("topic", article.topic)]


def offer_choice(session: Session, dispatcher: CollectingDispatcher, hits: list[Hit]) -> list[dict[str, Any]]:
    """Not sure: name the two best topics and let the user pick one, or ask a human."""
    titles = []
    buttons = []
    for hit in hits[:2]:
        article = queries.article(session, hit.key)
        if article is not None:
            titles.append(article.title)
            buttons.append(faq_button(article.title, article.key))
    dispatcher.utter_message(
        response="utter_faq_unsure",
        topics=" oder ".join(f"„{t}“" for t in titles),
        buttons=[*buttons, HANDOFF_BUTTON],
    )
    return [SlotSet("faq_key", None)]


class ActionAnswerFaq(KnowledgeAction):
    """``ask_faq``: a button names the article (entity ``faq_key``), otherwise retrieval picks it."""

    def name(self) -> str:
        return "action_answer_faq"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        for key in entity_values(tracker, "faq_key"):
            if queries.article(session, key) is not None:
                return send_faq(session, dispatcher, key)
        text = latest_text(tracker)
        if not text or not retrieval_enabled():
            dispatcher.utter_message(response="utter_default")
            return []
        started = time.perf_counter()
        hits = faq_index(session).rank(text, limit=2)
        log.debug("faq retrieval %.0f ms, best %.3f", (time.perf_counter() - started) * 1000, hits[0].score)
        if hits[0].confident:
            return send_faq(session, dispatcher, hits[0].key)
        return offer_choice(session, dispatcher, hits)


class ActionAnswerFallback(KnowledgeAction):
    """``nlu_fallback`` (DIET was not sure of any intent): retrieval answers with an FAQ article only when it is
    confident by the stricter fallback score; a little below it (still above the score at which an announced question
    is answered) it names the two best topics as buttons with the hand-off; otherwise the usual "not understood" with
    the topic menu. A second misunderstood message in a row then offers the hand-off (bot/data/rules_handoff.yml)."""

    def name(self) -> str:
        return "action_answer_fallback"

    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        text = latest_text(tracker)
        if text and retrieval_enabled():
            hits = faq_index(session).rank(text, limit=2)
            if hits[0].confident_without_intent:
                return send_faq(session, dispatcher, hits[0].key)
            if hits[0].confident:
                return offer_choice(session, dispatcher, hits)
        dispatcher.utter_message(response="utter_default")
        return []


def faq_instead_of_response(session: Session, tracker: Tracker) -> str | None:
    """For an intent whose answer is a fixed response (``RESPONSE_INTENTS``): the FAQ article that answers the
    message when retrieval is sure of it by the stricter fallback score and its examples are clearly closer than the
    intent's own (``TOPIC_MARGIN``); None: the response."""
    intent = latest_intent(tracker)
    if intent not in RESPONSE_INTENTS:
        return None
    hit = _closer_article(session, tracker, intent, TOPIC_MARGIN)
    return hit.key if hit is not None and hit.confident_without_intent else None


def faq_unless_failing(dispatcher: CollectingDispatcher, tracker: Tracker,
                       pick: Callable[[Session, Tracker], str | None],
                       first_buttons: Sequence[dict[str, str]] = ()) -> list[dict[str, Any]] | None:
    """The article ``pick`` chooses, sent; None when it chooses none or the knowledge base or the index fails (then
    nothing is sent and the caller gives its own answer, which must not depend on retrieval)."""
    sent = len(dispatcher.messages)
    try:
        with kb_session() as session:
            key = pick(session, tracker)
            if key is not None:
                return send_faq(session, dispatcher, key, first_buttons)
    except Exception:
        log.exception("faq retrieval failed")  # no conversation id or text in logs
        del dispatcher.messages[sent:]
    return None


class ResponseUnlessFaq(Action, ABC):
    """``help``, ``out_of_scope`` (outside a form) and the introductions: their fixed response, unless a sure FAQ
    article is clearly closer to the message (:func:`faq_instead_of_response`). Should the knowledge base or the index
    fail, the response — never the technical-problem reply for a message the bot can always answer."""

    @abstractmethod
    def name(self) -> str: ...  # abstract: the action server registers only the concrete actions

    @abstractmethod
    def response(self, tracker: Tracker) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: DomainDict) -> list[dict[str, Any]]:
        events = faq_unless_failing(dispatcher, tracker, faq_instead_of_response)
        if events is not None:
            return events
        dispatcher.utter_message(response=self.response(tracker))
        return []


class ActionAnswerHelp(ResponseUnlessFaq):
    def name(self) -> str:
        return "action_answer_help"

    def response(self, tracker: Tracker) -> str:
        return "utter_help"


class ActionAnswerOutOfScope(ResponseUnlessFaq):
    def name(self) -> str:
        return "action_answer_out_of_scope"

    def response(self, tracker: Tracker) -> str:
        return "utter_out_of_scope"


class ActionAnswerPersona(ResponseUnlessFaq):
    """After ``action_set_persona``: the welcome for a parent or a student, or the article a question in the
    introduction asks for ("bin 31, bin ich zu alt für eine ausbildung?")."""

    def name(self) -> str:
        return "action_answer_persona"

    def response(self, tracker: Tracker) -> str:
        return "utter_persona_parent" if tracker.get_slot("persona") == "parent" else "utter_persona_student"
