"""Help first for messages in crisis (intent ``crisis``; recognised by DIET and the safety net
``rasa_plugins/safety.py``): a caring sentence, the free help numbers from the knowledge base (article
``krisenhilfe``, with source and Stand), and the offer of a human adviser with when one can answer.

If the knowledge base cannot be read, the numbers still go out (``utter_crisis_fallback``): a person in crisis never
gets "technical problem" instead of help. When only DIET (not the safety patterns) saw a crisis and an FAQ article is
much closer than the crisis examples (``CRISIS_MARGIN``), the message is an ordinary question with strong words: the
article answers, followed by one quiet line that the person can say more or ask for a human (``utter_crisis_gentle``);
if that check fails in any way, the help goes out as always.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import render
from actions.faq_actions import article_besides_safety, faq_instead_of_crisis, send_faq
from actions.kb import kb_session
from handoff import office_hours
from knowledge_base import queries

log = logging.getLogger(__name__)

CRISIS_ARTICLE = "krisenhilfe"


class ActionCrisisHelp(Action):
    def name(self) -> str:
        return "action_crisis_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        ordinary = self._ordinary_question(dispatcher, tracker)
        if ordinary is not None:
            return ordinary
        dispatcher.utter_message(response="utter_crisis_intro")
        try:
            with kb_session() as session:
                article = queries.article(session, CRISIS_ARTICLE)
                if article is None:
                    raise LookupError(CRISIS_ARTICLE)
                text = "\n".join([article.summary, article.body,
                                  render.source_line(article.source_name, article.source_url, article.stand)])
        except Exception:  # noqa: BLE001 - the numbers must reach the person whatever failed
            log.exception("crisis article unavailable; sending the fallback numbers")
            dispatcher.utter_message(response="utter_crisis_fallback")
        else:
            dispatcher.utter_message(text=text)
        events = self._article_besides(dispatcher, tracker)
        try:
            when = office_hours.opening_wording(office_hours.now())
        except Exception:  # noqa: BLE001 - the offer goes out without the time
            log.exception("office hours unavailable")
            when = "zu den Sprechzeiten"
        dispatcher.utter_message(response="utter_crisis_handoff", when=_when(when))
        return events

    @staticmethod
    def _ordinary_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
        """The article instead of the help, for an ordinary question only DIET took for a crisis (faq_actions
        faq_instead_of_crisis); None: the help. Nothing is sent unless the article was found and rendered."""
        try:
            with kb_session() as session:
                key = faq_instead_of_crisis(session, tracker)
                if key is None:
                    return None
                answer = CollectingDispatcher()
                events = send_faq(session, answer, key)
        except Exception:  # noqa: BLE001 - the help goes out whatever failed here
            log.exception("check for an ordinary question failed; sending the crisis help")
            return None
        dispatcher.messages.extend(answer.messages)
        dispatcher.utter_message(response="utter_crisis_gentle")
        return events

    @staticmethod
    def _article_besides(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """The FAQ article for the question, after the numbers, when only DIET saw a crisis (faq_actions)."""
        try:
            with kb_session() as session:
                return article_besides_safety(session, dispatcher, tracker)
        except Exception:  # noqa: BLE001 - the help and the offer of a human go out whatever failed here
            log.exception("FAQ article beside the crisis help unavailable")
            return []


def _when(wording: str) -> str:
    """``jetzt`` → "jetzt gleich", otherwise "ab …" as the office hours say ("morgen ab 9 Uhr")."""
    return "jetzt gleich" if wording == "jetzt" else wording
