"""Base class for knowledge-base actions: a failure gives the user a friendly apology, never silence."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.kb import kb_session

log = logging.getLogger(__name__)


class KnowledgeAction(Action, ABC):
    """Runs :meth:`answer` inside a knowledge-base session; any error becomes ``utter_technical_problem``."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        sent = len(dispatcher.messages)  # what the action sent before its answer stays (the discrimination answer)
        try:
            with kb_session() as session:
                return self.answer(session, dispatcher, tracker)
        except Exception:
            log.exception("action %s failed", self.name())  # no conversation id in logs
            del dispatcher.messages[sent:]
            dispatcher.utter_message(response="utter_technical_problem")
            return []

    @abstractmethod
    def answer(
        self, session: Session, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]: ...


def latest_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text") or ""
    return "" if text.startswith("/") else text


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(v) for v in tracker.get_latest_entity_values(entity) if v]


def latest_intent(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def hint_if_unverified(dispatcher: CollectingDispatcher, to_verify: bool, source_url: str) -> None:
    """Facts marked ``to_verify`` in the content get a note to check the official page."""
    if to_verify:
        dispatcher.utter_message(response="utter_verify_hint", source_url=source_url)
