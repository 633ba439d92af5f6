"""The satisfaction question after a hand-off: store the rating, then the optional comment.

Flow (rules in bot/data/rules_feedback.yml): the console sends the question with the buttons 1–5 once, after an
adviser closed the case (``handoff.feedback.rating_question``). The button payload
``/rate_handoff{"handoff_rating":"4"}`` (or a typed "4 Sterne") runs ``action_handoff_rating``: it stores the
rating of the conversation's most recently closed hand-off (``handoff.feedback.rate_latest``; a payload cannot
rate someone else's or an already rated case). ``handoff_rating_form`` then asks for a comment ("Kein Kommentar"
skips it); ``action_handoff_rating_comment`` stores it and thanks. If there is nothing to rate, the form ends at
once and the user gets a short answer instead.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import latest_text
from actions.kb import kb_session
from handoff import feedback

log = logging.getLogger(__name__)

RATING_SLOT = "handoff_rating"
COMMENT_SLOT = "handoff_rating_comment"
SKIPPED = "-"  # comment slot value for "Kein Kommentar" / nothing to comment on (a form slot must not stay empty)


def _reset() -> list[dict[str, Any]]:
    return [SlotSet(RATING_SLOT, None), SlotSet(COMMENT_SLOT, None)]


class ActionHandoffRating(Action):
    def name(self) -> str:
        return "action_handoff_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        rating = feedback.parse_rating(tracker.get_slot(RATING_SLOT)) or feedback.parse_rating(latest_text(tracker))
        stored = None
        if rating is not None:
            try:
                with kb_session() as session:  # commits when the block ends
                    stored = feedback.rate_latest(session, tracker.sender_id, rating)
            except Exception:  # noqa: BLE001 - a lost rating is no reason for a technical error message
                log.exception("rating could not be stored")
        if stored is None:
            dispatcher.utter_message(response="utter_handoff_rating_none")
            return [SlotSet(RATING_SLOT, None), SlotSet(COMMENT_SLOT, SKIPPED)]  # the form ends without asking
        log.info("hand-off rating stored (%d)", rating)
        return [SlotSet(RATING_SLOT, str(rating)), SlotSet(COMMENT_SLOT, None)]


class ActionHandoffRatingComment(Action):
    def name(self) -> str:
        return "action_handoff_rating_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot(RATING_SLOT) is None:  # nothing was rated: action_handoff_rating already answered
            return _reset()
        comment = str(tracker.get_slot(COMMENT_SLOT) or "").strip()
        if comment and comment != SKIPPED and not comment.startswith("/"):
            try:
                with kb_session() as session:
                    feedback.add_comment(session, tracker.sender_id, comment)
            except Exception:  # noqa: BLE001
                log.exception("rating comment could not be stored")
        dispatcher.utter_message(response="utter_handoff_rating_thanks")
        return _reset()
