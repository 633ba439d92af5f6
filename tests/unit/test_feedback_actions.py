"""action_handoff_rating / action_handoff_rating_comment against the real application database."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback_actions import SKIPPED, ActionHandoffRating, ActionHandoffRatingComment
from actions.kb import kb_session
from core.db import utcnow
from handoff import feedback, service


def tracker(sender: str, slots: dict[str, Any], text: str = "") -> Tracker:
    return Tracker(sender_id=sender, slots=slots, latest_message={"text": text, "intent": {"name": "rate_handoff"}},
                   events=[], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")


def run(action: Action, t: Tracker) -> tuple[list[str], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return [m.get("response") for m in dispatcher.messages], {e["name"]: e["value"] for e in events}


def closed(sender: str) -> int:
    with kb_session() as s:
        h = service.create_handoff(s, conversation_id=sender, channel="rest", reason="request", topic=None,
                                   contact=None, transcript=[], summary={})
        h.status, h.closed_at = "closed", utcnow() - dt.timedelta(minutes=3)
        s.flush()
        return h.id


def test_rating_and_comment_are_stored(actions_kb: str) -> None:
    sender = f"rate-{uuid.uuid4().hex[:8]}"
    hid = closed(sender)
    said, slots = run(ActionHandoffRating(), tracker(sender, {"handoff_rating": "4"}, "/rate_handoff"))
    assert said == [] and slots == {"handoff_rating": "4", "handoff_rating_comment": None}
    said, slots = run(ActionHandoffRatingComment(), tracker(sender, {"handoff_rating": "4",
                                                                     "handoff_rating_comment": "Sehr hilfreich"}))
    assert said == ["utter_handoff_rating_thanks"] and slots == {"handoff_rating": None, "handoff_rating_comment": None}
    with kb_session() as s:
        rating = feedback.rating_for(s, hid)
        assert rating is not None and (rating.rating, rating.comment) == (4, "Sehr hilfreich")


def test_typed_rating_skipped_comment_and_nothing_left_to_rate(actions_kb: str) -> None:
    sender = f"rate-{uuid.uuid4().hex[:8]}"
    hid = closed(sender)
    _, slots = run(ActionHandoffRating(), tracker(sender, {"handoff_rating": None}, "Ich gebe 2 Sterne"))
    assert slots["handoff_rating"] == "2"
    said, _ = run(ActionHandoffRatingComment(), tracker(sender, {"handoff_rating": "2",
                                                                 "handoff_rating_comment": SKIPPED}))
    assert said == ["utter_handoff_rating_thanks"]
    with kb_session() as s:
        rating = feedback.rating_for(s, hid)
        assert rating is not None and (rating.rating, rating.comment) == (2, None)
    # a second rating (a replayed button) finds nothing to rate: short answer, the form ends without asking
    said, slots = run(ActionHandoffRating(), tracker(sender, {"handoff_rating": "5"}, "/rate_handoff"))
    assert said == ["utter_handoff_rating_none"] and slots == {"handoff_rating": None, "handoff_rating_comment": SKIPPED}
    said, _ = run(ActionHandoffRatingComment(), tracker(sender, {"handoff_rating": None,
                                                                 "handoff_rating_comment": SKIPPED}))
    assert said == []
    with kb_session() as s:
        assert feedback.rating_for(s, hid).rating == 2  # type: ignore[union-attr]
