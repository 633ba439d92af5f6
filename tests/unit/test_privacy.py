"""Privacy information (Art. 13), the hand-off part of the access export (Art. 15) and the consent question:
the text states the configured operator and retention, the actions send it, the export holds one conversation only,
and the old untrue promise is gone from every file."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.privacy_actions import ActionAskHandoffConsent, ActionDataExport, ActionPrivacyInfo
from core.protocol import is_export_marker
from core.settings import PRIVACY_UNSET
from handoff import access, service
from handoff.models import Adviser, Handoff, HandoffNote, OutboxMessage
from knowledge_base.privacy import CHAT_MESSAGE_LIMIT, privacy_text

ROOT = Path(__file__).resolve().parents[2]
OPERATOR = {
    "PRIVACY_OPERATOR_NAME": "Jugendberufsagentur Musterstadt",
    "PRIVACY_OPERATOR_CONTACT": "Hauptstraße 1, 65000 Musterstadt, datenschutz@example.org",
    "PRIVACY_DPO_CONTACT": "dsb@example.org",
    "RETENTION_CONVERSATION_DAYS": "30",
    "RETENTION_HANDOFF_DAYS": "60",
}


def _full(text: Any) -> str:
    return "\n".join(f"{s.title}\n{s.text}" for s in text.sections)


def test_text_names_operator_retention_recipients_basis_rights_and_authority() -> None:
    text = privacy_text(OPERATOR)
    full = _full(text)
    for value in ("Jugendberufsagentur Musterstadt", "datenschutz@example.org", "dsb@example.org"):
        assert value in full
    assert "30 Tage nach der letzten Nachricht" in full
    assert "60 Tage nach ihrem Abschluss" in full
    assert "Beratungsteams" in full and "Telegram" in full and "Meta" in full
    assert "Art. 6 Abs. 1 lit. a DSGVO" in full and "Art. 6 Abs. 1 lit. e DSGVO" in full
    for right in ("Art. 15", "Art. 16", "Art. 17", "Art. 18", "Art. 20", "Art. 21", "Art. 77"):
        assert right in full
    assert "Der Hessische Beauftragte für Datenschutz und Informationsfreiheit" in full
    assert "https://datenschutz.hessen.de" in full
    assert PRIVACY_UNSET not in full
    assert text.stand and text.source_url.startswith("https://")


def test_unset_operator_is_said_honestly_and_defaults_are_90_and_180_days() -> None:
    full = _full(privacy_text({}))
    assert full.count(PRIVACY_UNSET) == 3
    assert "90 Tage" in full and "180 Tage" in full


def test_chat_messages_fit_messenger_even_with_long_settings() -> None:
    long = {**OPERATOR, "PRIVACY_OPERATOR_CONTACT": "x" * 300, "PRIVACY_OPERATOR_NAME": "y" * 200}
    messages = privacy_text(long).chat_messages()
    assert all(len(m) <= CHAT_MESSAGE_LIMIT for m in messages)
    joined = "\n\n".join(messages)
    assert "x" * 300 in joined and "y" * 200 in joined and joined.endswith(")") is False
    assert messages[-1].splitlines()[-1].startswith("Quelle: ")


def test_overlong_setting_is_refused_naming_the_variable() -> None:
    from core.errors import SettingsError

    with pytest.raises(SettingsError, match="PRIVACY_OPERATOR_NAME"):
        privacy_text({"PRIVACY_OPERATOR_NAME": "z" * 201})


def _tracker(channel: str = "rest", persona: str | None = None) -> Tracker:
    return Tracker(sender_id="priv", slots={"persona": persona}, latest_message={"text": "x", "intent": {}},
                   events=[{"event": "user", "text": "x", "input_channel": channel}], paused=False,
                   followup_action=None, active_loop={}, latest_action_name="action_listen")


def _run(action: Any, tracker: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_privacy_action_sends_the_configured_text_with_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in OPERATOR.items():
        monkeypatch.setenv(name, value)
    messages = _run(ActionPrivacyInfo(), _tracker())
    text = "\n".join(m["text"] for m in messages)
    assert "Jugendberufsagentur Musterstadt" in text and "30 Tage" in text
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/request_data_export", "/request_data_deletion"]


def test_export_action_sends_the_marker_and_explains_messenger(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVACY_OPERATOR_CONTACT", "datenschutz@example.org")
    web = _run(ActionDataExport(), _tracker("rest"))
    assert web[0]["response"] == "utter_data_export" and is_export_marker({"custom": web[1]["custom"]})
    messenger = _run(ActionDataExport(), _tracker("facebook"))
    assert messenger[0]["response"] == "utter_data_export_messenger"
    assert messenger[0]["contact"] == "datenschutz@example.org"
    assert is_export_marker({"custom": messenger[1]["custom"]})
    monkeypatch.delenv("PRIVACY_OPERATOR_CONTACT")
    unset = _run(ActionDataExport(), _tracker("facebook"))
    assert unset[0]["contact"].startswith("der verantwortlichen Stelle")


def test_consent_question_states_the_handoff_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_HANDOFF_DAYS", "45")
    [message] = _run(ActionAskHandoffConsent(), _tracker())
    assert message["response"] == "utter_ask_handoff_consent" and message["handoff_days"] == "45"
    domain = (ROOT / "bot/domain/handoff.yml").read_text(encoding="utf-8")
    question = domain[domain.index("utter_ask_handoff_consent:"):domain.index("utter_handoff_consent_unclear:")]
    for part in ("Beratungsteam", "Zusammenfassung", "{handoff_days} Tage", "Lösch meine Daten", "Nein"):
        assert part in question


# --- the hand-off part of the export (console side) ------------------------------------------------------


def _handoff(session: Session, conversation_id: str, text: str, adviser: Adviser) -> Handoff:
    handoff = service.create_handoff(session, conversation_id=conversation_id, channel="rest", reason="request",
                                     topic="Thema " + text, contact=None, summary={"topic": text},
                                     transcript=[{"role": "user", "text": text, "at": "2026-11-30T08:00:00"}])
    service.add_user_message(session, conversation_id, "Nachricht " + text)
    service.assign(session, handoff.id, adviser)
    service.add_adviser_reply(session, handoff.id, adviser, "Antwort an " + text)
    session.add(HandoffNote(handoff_id=handoff.id, adviser_id=adviser.id, text="Notiz zu " + text))
    session.flush()
    return handoff


def test_handoff_export_has_thread_notes_outbox_of_this_conversation_only(session: Session) -> None:
    adviser = Adviser(username="beraterin-geheim", display_name="Frau Geheim", password_hash="x")
    session.add(adviser)
    session.flush()
    _handoff(session, "conv-mine", "MEINS", adviser)
    _handoff(session, "conv-other", "FREMD", adviser)
    exported = access.conversation_export(session, "conv-mine")
    dump = repr(exported)
    assert len(exported) == 1
    for part in ("Thema MEINS", "Nachricht MEINS", "Antwort an MEINS", "Notiz zu MEINS"):
        assert part in dump
    assert "FREMD" not in dump
    assert "beraterin-geheim" not in dump and "Frau Geheim" not in dump  # advisers' data stay out
    assert exported[0]["outbox"] and all(o["message"]["text"] == "Antwort an MEINS" for o in exported[0]["outbox"])
    assert {m["role"] for m in exported[0]["thread"]} == {"user", "adviser"}
    assert session.query(OutboxMessage).filter_by(conversation_id="conv-other").count() == 1
    assert access.conversation_export(session, "conv-none") == []


# --- the untrue promise ------------------------------------------------------------------------------------


def test_the_untrue_sentence_is_gone_from_every_file() -> None:
    """The old promise that nothing is passed on was not true (advisers, Telegram, Meta see messages)."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    phrases = ["gebe nichts an " + "andere weiter", "gebe nichts " + "weiter", "und gebe " + "nichts weiter"]
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.suffix in (".gz", ".sqlite3", ".png", ".csv", ".lock") or name == "uv.lock":
            continue
        try:
            content = path.read_text(encoding="utf-8").lower()
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{name}: {p}" for p in phrases if p in content]
    assert not found, found
