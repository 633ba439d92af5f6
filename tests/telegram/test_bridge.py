"""The Telegram bridge in polling mode, end to end: fake Bot API ⇄ ``python -m channels.telegram`` ⇄ real Rasa,
action server and adviser console."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from channels.telegram import texts
from tests.e2e.conftest import AdviserApi
from tests.servers import Stack
from tests.telegram.conftest import TOKEN, Bridge, new_chat, start_bridge
from tests.telegram.fake_bot_api import FakeTelegram
from tests.telegram.helpers import buttons, conversation_of, last_with_buttons, settle, shown, wait_text

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as tg:
        yield tg


@pytest.fixture(scope="module")
def bridge(stack: Stack, fake: FakeTelegram, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    workdir: Path = tmp_path_factory.mktemp("telegram")
    # the console of the shared stack pushes adviser replies to TELEGRAM_PUSH_URL (this port), when set
    port = stack.telegram_port or None
    running = start_bridge(stack, fake, workdir, port=port)
    yield running
    running.stop()


LONG_TEXT = " ".join(f"Satz {i} über die Ausbildung in Hessen." for i in range(400))  # ~16,000 characters: 4+ parts


def greeted_chat(stack: Stack, fake: FakeTelegram) -> tuple[int, str | None]:
    """A new chat that said "Hallo" and got its answer: its chat id and its Rasa conversation id."""
    chat = new_chat()
    fake.user_text(chat, "Hallo")
    fake.wait_for(lambda: len(fake.sent_messages(chat)) >= 1, timeout=40, what="greeting")
    settle(fake, chat)
    return chat, conversation_of(stack.env["KB_DATABASE_URL"], chat)


def test_start_greets_says_what_the_bot_can_do_and_mentions_privacy(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_command(chat, "start")
    wait_text(fake, chat, "Berufsorientierungs-Assistent")
    sent = settle(fake, chat)
    assert "Datenschutz" in shown(sent[0]) and "/loeschen" in shown(sent[0])
    greeting = sent[-1]
    assert greeting["parse_mode"] == "HTML"
    assert "Berufe entdecken" in [t for t, _ in buttons(last_with_buttons(fake, chat))]
    menu = [c["command"] for c in fake.commands()]
    assert menu == ["start", "hilfe", "neustart", "datenschutz", "meinedaten", "loeschen"]


def test_question_with_buttons_and_a_button_press(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_text(chat, "Was ist BAB?")
    wait_text(fake, chat, "BAB")
    settle(fake, chat)
    message = last_with_buttons(fake, chat)
    title, data = buttons(message)[0]
    assert len(data.encode()) <= 64
    before = len(fake.sent_messages(chat))
    answered = len(fake.calls_of("answerCallbackQuery"))
    fake.user_callback(chat, message["message_id"], data)
    fake.wait_for(lambda: len(fake.sent_messages(chat)) > before, timeout=40, what="answer to the button")
    assert len(fake.calls_of("answerCallbackQuery")) > answered, fake.dump_calls()  # the spinner stops
    assert all(m["parse_mode"] == "HTML" for m in fake.sent_messages(chat))


def test_text_that_looks_like_html_or_sql_is_answered_and_escaped(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_text(chat, "<script>alert(1)</script>'; DROP TABLE offer; --")
    fake.wait_for(lambda: len(fake.sent_messages(chat)) >= 1, timeout=40, what="an answer")
    assert all(m["parse_mode"] == "HTML" for m in fake.sent_messages(chat))  # accepted by the fake's HTML parser


def test_a_message_over_4000_characters_is_forwarded_and_answered_by_the_rest_channel(
    fake: FakeTelegram, bridge: Bridge,
) -> None:
    chat = new_chat()
    fake.user_text(chat, "Ich habe eine Frage zur Ausbildung. " * 112)  # 4,032 characters: Telegram allows 4,096
    sent = wait_text(fake, chat, "über 4.000 Zeichen")
    assert "kürzeren Teilen" in shown(sent[-1])


def test_stickers_photos_and_voice_get_a_please_write_text(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_sticker(chat)
    fake.user_photo(chat)
    fake.user_voice(chat)
    sent = fake.wait_for_messages(chat, 3, timeout=30)
    assert [shown(m) for m in sent] == [texts.PLEASE_TEXT] * 3


def test_help_lists_the_commands(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_command(chat, "hilfe")
    sent = wait_text(fake, chat, "/neustart")
    assert "/loeschen" in shown(sent[0])
    fake.wait_for(lambda: len(fake.sent_messages(chat)) >= 2, timeout=40, what="Rasa's help")


def test_long_answers_are_split_below_4096_characters(stack: Stack, fake: FakeTelegram, bridge: Bridge) -> None:
    chat, conversation = greeted_chat(stack, fake)
    before = len(fake.sent_messages(chat))
    headers = {"X-Inbound-Token": stack.inbound_token}
    body = {"conversation_id": conversation, "message": {"text": LONG_TEXT, "custom": {"from": "adviser"}}}
    assert httpx.post(f"{bridge.url}/internal/push", json=body, timeout=30).status_code == 401
    r = httpx.post(f"{bridge.url}/internal/push", json=body, headers=headers, timeout=60)
    assert r.json() == {"delivered": True}
    parts = fake.sent_messages(chat)[before:]
    assert len(parts) >= 4
    assert all(len(shown(p)) <= 4096 for p in parts)  # the fake rejects longer ones anyway
    assert shown(parts[0]).startswith("Beratung:")
    assert " ".join(shown(p) for p in parts).split()[1:] == LONG_TEXT.split()


def test_a_reply_that_reaches_the_bridge_twice_is_shown_once(stack: Stack, fake: FakeTelegram,
                                                               bridge: Bridge) -> None:
    """The console's push and the outbox collector can bring the same reply at the same time (the collector read it
    before the push was confirmed): the bridge shows each outbox id once and confirms both."""
    chat, conversation = greeted_chat(stack, fake)
    headers = {"X-Inbound-Token": stack.inbound_token}
    outbox_id = 10**12 + secrets.randbelow(10**9)  # far above the console's own ids

    def push(text: str, message_id: int) -> dict[str, bool]:
        body = {"conversation_id": conversation,
                "message": {"text": text, "custom": {"from": "adviser", "outbox_id": message_id}}}
        return httpx.post(f"{bridge.url}/internal/push", json=body, headers=headers, timeout=60).json()

    before = len(fake.sent_messages(chat))
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: push("Einmal bitte.", outbox_id), range(3)))
    assert answers == [{"delivered": True}] * 3
    assert push("Einmal bitte.", outbox_id) == {"delivered": True}  # later, e.g. collected after a timeout
    assert push("Die nächste Antwort.", outbox_id + 1) == {"delivered": True}
    settle(fake, chat)
    assert [shown(m) for m in fake.sent_messages(chat)[before:]] == [
        "Beratung:\nEinmal bitte.", "Beratung:\nDie nächste Antwort."]
    assert bridge.logs().count('"push_duplicate_skipped"') >= 3


def test_a_long_reply_interrupted_after_its_first_part_sends_only_the_rest_again(
    stack: Stack, fake: FakeTelegram, bridge: Bridge,
) -> None:
    """Telegram refuses the second of four parts: the push reports failure, and the next try (the collector's) sends
    parts two to four, not the first again."""
    chat, conversation = greeted_chat(stack, fake)
    headers = {"X-Inbound-Token": stack.inbound_token}
    body = {"conversation_id": conversation,
            "message": {"text": LONG_TEXT, "custom": {"from": "adviser",
                                                      "outbox_id": 10**12 + secrets.randbelow(10**9)}}}
    before = len(fake.sent_messages(chat))
    fake.fail_next("sendMessage", status=400, description="Bad Request: test refusal", after=1)
    first = httpx.post(f"{bridge.url}/internal/push", json=body, headers=headers, timeout=60)
    assert first.json() == {"delivered": False}
    assert len(fake.sent_messages(chat)) == before + 1
    second = httpx.post(f"{bridge.url}/internal/push", json=body, headers=headers, timeout=60)
    assert second.json() == {"delivered": True}
    third = httpx.post(f"{bridge.url}/internal/push", json=body, headers=headers, timeout=60)
    assert third.json() == {"delivered": True}  # complete now: shown once
    parts = [shown(m) for m in fake.sent_messages(chat)[before:]]
    assert len(parts) >= 4 and len(set(parts)) == len(parts)
    assert " ".join(parts).split()[1:] == LONG_TEXT.split()
    assert '"push_partly_delivered"' in bridge.logs()


def test_restart_starts_over(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.user_command(chat, "neustart")
    wait_text(fake, chat, "neu an")


def test_handoff_adviser_reply_back_to_bot_and_deletion(stack: Stack, fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    kb_url = stack.env["KB_DATABASE_URL"]
    fake.user_text(chat, "Ich möchte mit einem Menschen sprechen")
    wait_text(fake, chat, "einverstanden")
    settle(fake, chat)
    n = len(fake.sent_messages(chat))
    fake.user_text(chat, "ja")
    wait_text(fake, chat, "Worum geht es", after=n)
    settle(fake, chat)
    n = len(fake.sent_messages(chat))
    fake.user_text(chat, "Ärger mit meinem Ausbilder")
    fake.wait_for_messages(chat, n + 1, timeout=40)
    sent = settle(fake, chat)[n:]
    if any("E-Mail-Adresse oder Telefonnummer" in shown(m) for m in sent):
        message = last_with_buttons(fake, chat)
        data = dict(buttons(message))["Nein, danke"]
        n = len(fake.sent_messages(chat))
        fake.user_callback(chat, message["message_id"], data)
    wait_text(fake, chat, "übergeben", after=n)
    settle(fake, chat)

    conversation = conversation_of(kb_url, chat)
    assert conversation and conversation.startswith("tg-") and str(chat) not in conversation
    adviser = AdviserApi(stack)
    handoff = adviser.handoff_for(conversation)
    assert handoff["channel"] == "telegram"

    n = len(fake.sent_messages(chat))
    fake.user_text(chat, "Hallo, ist da jemand?")
    wait_text(fake, chat, "angekommen", after=n)
    settle(fake, chat)
    thread = [m["text"] for m in adviser.detail(handoff["id"])["thread"] if m["role"] == "user"]
    assert thread == ["Hallo, ist da jemand?"]

    n = len(fake.sent_messages(chat))
    adviser.reply(handoff["id"], "Hallo, hier ist Frau Berg von der Beratung. <b>Wie</b> kann ich helfen?")
    reply = wait_text(fake, chat, "Frau Berg", after=n, timeout=30)
    settle(fake, chat)
    assert any(shown(m).startswith("Beratung:\n") and "<b>Wie</b>" in shown(m) for m in reply)
    assert '"push_delivered"' in bridge.logs()  # pushed by the console, not collected later

    # the bridge is down while the adviser answers: the reply waits in the outbox and arrives after the restart
    bridge.stop()
    adviser.reply(handoff["id"], "Ich schicke dir gleich einen Link.")
    n = len(fake.sent_messages(chat))
    bridge.start()
    wait_text(fake, chat, "gleich einen Link", after=n, timeout=30)
    settle(fake, chat)
    assert '"outbox_collected"' in bridge.logs()

    n = len(fake.sent_messages(chat))
    adviser.close(handoff["id"], "geklärt")
    wait_text(fake, chat, "Ich bin wieder da", after=n, timeout=30)
    settle(fake, chat)

    n = len(fake.sent_messages(chat))
    fake.user_command(chat, "loeschen")
    wait_text(fake, chat, "löschen", after=n)
    confirm = last_with_buttons(fake, chat)
    assert [t for t, _ in buttons(confirm)] == [texts.DELETE_YES, texts.DELETE_NO]
    fake.user_callback(chat, confirm["message_id"], dict(buttons(confirm))[texts.DELETE_YES])
    wait_text(fake, chat, "Chat-Verlauf ist gelöscht", after=n)
    settle(fake, chat)

    assert conversation_of(kb_url, chat) is None  # channel mapping
    tracker = stack.tracker(conversation)  # Rasa answers with an empty, new tracker
    assert [e for e in tracker["events"] if e.get("event") == "user"] == []
    listed = adviser.client.get("/api/v1/handoffs", params={"status": "closed"}).json()
    assert adviser.pseudonym(conversation) not in [h["conversation"] for h in listed]  # hand-off thread

    n = len(fake.sent_messages(chat))
    fake.user_text(chat, "Hallo")
    fake.wait_for(lambda: len(fake.sent_messages(chat)) > n, timeout=40, what="a fresh start")
    assert conversation_of(kb_url, chat) not in (None, conversation)  # a new, unrelated conversation id


def test_429_and_network_errors_are_retried(fake: FakeTelegram, bridge: Bridge) -> None:
    chat = new_chat()
    fake.fail_next("sendMessage", status=429, retry_after=1)
    fake.drop_next("sendMessage")
    fake.user_sticker(chat)
    sent = fake.wait_for_messages(chat, 1, timeout=30)
    assert shown(sent[0]) == texts.PLEASE_TEXT
    calls = [c for c in fake.calls_of("sendMessage") if c.params.get("chat_id") in (chat, str(chat))]
    failed = [c for c in fake.calls_of("sendMessage") if not c.ok and c.status == 429]
    assert failed and calls[-1].at - failed[-1].at >= 0.9  # waited retry_after before sending again


def test_logs_are_structured_and_hold_no_message_content(fake: FakeTelegram, bridge: Bridge) -> None:
    import json

    chat = new_chat()
    secret_words = "Mein Name ist Zacharias Quellenstein"
    fake.user_text(chat, secret_words)
    fake.wait_for(lambda: len(fake.sent_messages(chat)) >= 1, timeout=40, what="an answer")
    logs = bridge.logs()
    assert "Quellenstein" not in logs and TOKEN not in logs
    events = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {"telegram_text", "rasa_answered"} <= {e["event"] for e in events}
