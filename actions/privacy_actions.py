"""Information duties and the right of access (Art. 13 and 15 DSGVO), and the consent question before a hand-off.

* ``action_privacy_info``: the privacy text from ``knowledge_base/content/privacy.yml`` with the operator and the
  retention periods of the running system (``knowledge_base.privacy``), in as few messages as fit Messenger.
* ``action_data_export``: says what comes and sends the export marker; the Rasa-side channel replaces the marker
  with the export built from the full tracker and the console's hand-offs (``rasa_plugins/export.py``). The export
  itself is never stored in the tracker.
* ``action_ask_handoff_consent``: the consent question of ``handoff_form`` with the hand-off retention period.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import render
from core.protocol import CHANNEL_FACEBOOK, export_marker
from core.settings import PRIVACY_UNSET, PrivacySettings, RetentionSettings
from knowledge_base.privacy import privacy_text

log = logging.getLogger(__name__)
UNKNOWN_CONTACT = "der verantwortlichen Stelle (siehe „Datenschutz“)"  # until PRIVACY_OPERATOR_CONTACT is set


class ActionPrivacyInfo(Action):
    def name(self) -> str:
        return "action_privacy_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            messages = privacy_text().chat_messages()
        except Exception:  # noqa: BLE001 - the short fallback still names deletion and access
            log.exception("privacy text unavailable")
            dispatcher.utter_message(response="utter_privacy_fallback")
            return []
        for text in messages[:-1]:
            dispatcher.utter_message(text=text)
        dispatcher.utter_message(text=messages[-1], buttons=[
            render.button("Meine Daten", "request_data_export"),
            render.button("Daten löschen", "request_data_deletion"),
        ])
        return []


class ActionDataExport(Action):
    def name(self) -> str:
        return "action_data_export"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_latest_input_channel() == CHANNEL_FACEBOOK:
            try:
                contact = PrivacySettings.from_env().operator_contact
            except Exception:  # noqa: BLE001 - a bad setting must not cost the user the summary
                log.exception("privacy settings unusable")
                contact = PRIVACY_UNSET
            if contact == PRIVACY_UNSET:
                contact = UNKNOWN_CONTACT
            dispatcher.utter_message(response="utter_data_export_messenger", contact=contact)
        else:
            dispatcher.utter_message(response="utter_data_export")
        dispatcher.utter_message(json_message=export_marker())
        return []


class ActionAskHandoffConsent(Action):
    def name(self) -> str:
        return "action_ask_handoff_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            days = RetentionSettings.from_env().handoff_days
        except Exception:  # noqa: BLE001 - the question must be asked; the default period is the documented one
            log.exception("retention settings unusable")
            days = RetentionSettings.model_fields["handoff_days"].default
        dispatcher.utter_message(response="utter_ask_handoff_consent", handoff_days=str(days))
        return []
