"""End-to-end: the real Rasa server and action server, talking over Rasa's REST channel."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import texts
from tests.servers import Stack

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:8]}"


def test_duration_of_kfz_mechatroniker_is_answered_with_source(stack: Stack) -> None:
    reply = texts(stack.say(sender(), "Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?"))
    assert "42 Monate" in reply
    assert "Quelle:" in reply and "Stand:" in reply


def test_bab_is_explained_with_source(stack: Stack) -> None:
    reply = texts(stack.say(sender(), "Was ist BAB?"))
    assert "Berufsausbildungsbeihilfe" in reply
    assert "Quelle:" in reply and "Stand:" in reply


def test_parttime_question(stack: Stack) -> None:
    reply = texts(stack.say(sender(), "Kann ich die Ausbildung in Teilzeit machen?"))
    assert "Teilzeit" in reply and "7a" in reply


def test_parent_is_addressed_with_sie_for_the_rest_of_the_conversation(stack: Stack) -> None:
    who = sender()
    student_reply = texts(stack.say(who, "Hallo"))
    assert "dir" in student_reply
    reply = texts(stack.say(who, "Ich bin die Mutter von einem 15-jährigen Sohn"))
    assert "Sie" in reply
    reply = texts(stack.say(who, "Was ist BAB?"))
    assert "beantragen Sie" in reply
    reply = texts(stack.say(who, "Wie lange dauert die Ausbildung zum Tischler?"))
    assert "36 Monate" in reply
    reply = texts(stack.say(who, "wie ist das Wetter morgen"))
    assert "Sie" in reply and " dich" not in reply


def test_parent_asking_a_question_directly_gets_sie(stack: Stack) -> None:
    who = sender()
    reply = texts(stack.say(who, "Mein Sohn macht bald eine Ausbildung. Kann er BAB bekommen?"))
    assert "beantragen Sie" in reply
    assert "dir" not in texts(stack.say(who, "Hallo"))


def test_buttons_are_offered_and_their_payloads_work(stack: Stack) -> None:
    who = sender()
    messages = stack.say(who, "Welche Förderungen gibt es?")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert buttons, messages
    bab = next(b for b in buttons if "bab" in b["payload"])
    assert "Berufsausbildungsbeihilfe" in texts(stack.say(who, bab["payload"]))


def test_missing_occupation_is_asked_for(stack: Stack) -> None:
    who = sender()
    assert "Beruf" in texts(stack.say(who, "Welchen Abschluss brauche ich?"))
    assert "Schulabschluss für Friseur" in texts(stack.say(who, "Friseurin"))


def test_a_general_duration_question_gets_the_article_and_the_offer_to_be_exact(stack: Stack) -> None:
    who = sender()
    answer = texts(stack.say(who, "Wie lange dauert die Ausbildung?"))
    assert "Stand:" in answer and "Beruf" in answer  # the sourced general article, then "which occupation?"
    assert "Monate" in texts(stack.say(who, "Friseurin"))


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "Ausbildung " * 500,  # 5,500 characters
        "🙂🙂🙂🚀",
        "<script>alert('x')</script><b>Hallo</b>",
        "'; DROP TABLE events; -- SELECT * FROM users",
        "x" * 5000,
    ],
)
def test_bad_input_gets_a_clear_reply(stack: Stack, message: str) -> None:
    who = sender()
    messages = stack.say(who, message, timeout=60)
    assert messages and all(m.get("text") for m in messages), messages
    assert "Hi" in texts(stack.say(who, "Hallo"))  # server keeps running, conversation keeps working


def test_malformed_requests_are_rejected_clearly(stack: Stack) -> None:
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    assert httpx.post(url, content=b"not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.post(url, json={"sender": "x", "message": 42}).status_code == 400
    assert httpx.post(url, json=["a"]).status_code == 400


def test_deletion_removes_the_stored_conversation(stack: Stack) -> None:
    who = sender()
    stack.say(who, "Was ist BAB?")
    assert "löschen" in texts(stack.say(who, "Bitte lösch meine Daten"))
    reply = stack.say(who, "/affirm")
    assert "gelöscht" in texts(reply)
    assert reply[-1] == {"recipient_id": who, "custom": {"conversation_deleted": True}}  # clients forget the id
    tracker = stack.tracker(who)
    assert not [e for e in tracker["events"] if e.get("event") == "user"]


def test_action_server_down_gives_apology_and_recovers(stack: Stack) -> None:
    who = sender()
    stack.actions.stop()
    try:
        reply = texts(stack.say(who, "Was ist BAB?"))
        assert "technisch" in reply
    finally:
        stack.actions.start()
    assert "Berufsausbildungsbeihilfe" in texts(stack.say(who, "Was ist BAB?"))


def test_version_pair_warning_is_handled(stack: Stack) -> None:
    log = stack.actions.log.read_text()
    assert "might not be compatible" not in log


def test_rasa_loaded_its_model_without_a_training_step(stack: Stack) -> None:
    """rasa_plugins.serve installs rasa_plugins.fast_load: the server's start skips Rasa's one training step
    (tests/rasa/test_fast_load.py shows that the predictions are the same)."""
    log = stack.rasa.log.read_text(errors="replace")
    assert "DIET loaded without a training step" in log and "TED loaded without a training step" in log
