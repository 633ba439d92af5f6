"""Conversation-level actions: who is speaking (du/Sie) and deleting the conversation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import entity_values, latest_intent
from core.protocol import delete_marker

PERSONA_BY_INTENT = {"inform_parent": "parent", "inform_student": "student"}


class ActionSetPersona(Action):
    """Parents are addressed with "Sie" for the rest of the conversation, students with "du"."""

    def name(self) -> str:
        return "action_set_persona"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        persona = PERSONA_BY_INTENT.get(latest_intent(tracker))
        values = entity_values(tracker, "persona")
        if persona is None and values:
            persona = values[0]
        return [SlotSet("persona", persona)] if persona in ("parent", "student") else []


class ActionDeleteConversation(Action):
    """Confirms deletion and asks the Rasa-side channel to delete this conversation after the turn.

    The tracker cannot be deleted from here: Rasa saves the turn's events after the action returns. The
    channel (rasa_plugins/rest_channel.py, rasa_plugins/messenger_channel.py) sees the marker, removes it from the reply and deletes the stored
    conversation once the turn is finished.
    """

    def name(self) -> str:
        return "action_delete_conversation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_data_deleted")
        dispatcher.utter_message(json_message=delete_marker())
        return []
