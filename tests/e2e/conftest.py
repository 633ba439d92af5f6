from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core import protocol
from tests.rasa_cli import MODEL
from tests.servers import Stack, shared_stack


@pytest.fixture(scope="session")
def stack(kb_url: str, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Stack]:
    """Action server + Rasa + adviser console, shared with tests/browser (one start per session)."""
    if not MODEL.exists():
        pytest.fail("no trained model: run the suite through `make test`")
    yield shared_stack(kb_url, tmp_path_factory.mktemp("stack"), pytestconfig)


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


# --- human hand-off (bot/domain/handoff.yml wording, adviser console JSON API) -----------------------------

HANDOFF_REQUEST = "Ich möchte mit einem Menschen sprechen"
CONSENT_WORD = "einverstanden"  # utter_ask_handoff_consent
TOPIC_WORDS = "Worum geht es"  # utter_ask_handoff_topic
CONTACT_WORDS = "E-Mail-Adresse oder Telefonnummer"  # utter_ask_handoff_contact (outside office hours only)
STARTED_WORD = "übergeben"  # utter_handoff_started / utter_handoff_started_later
WAITING_WORDS = "ist angekommen"  # utter_handoff_waiting (REST channel while paused)
BACK_WORDS = "Ich bin wieder da"  # utter_handoff_back (after the adviser closed)


def start_handoff(stack: Stack, who: str, topic: str = "Ärger mit meinem Chef") -> str:
    """Ask for a human, consent, name the topic (and skip the contact question outside office hours)."""
    reply = texts(stack.say(who, HANDOFF_REQUEST))
    assert CONSENT_WORD in reply, reply
    reply = texts(stack.say(who, "ja"))
    assert TOPIC_WORDS in reply, reply
    reply = texts(stack.say(who, topic))
    if CONTACT_WORDS in reply:
        reply = texts(stack.say(who, "/skip"))  # the button "Nein, danke"
    assert STARTED_WORD in reply, reply
    return reply


class AdviserApi:
    """The console's JSON API (/api/v1) with the test adviser's personal token."""

    def __init__(self, stack: Stack) -> None:
        self.client = httpx.Client(
            base_url=stack.console_url, headers={"Authorization": f"Bearer {stack.adviser_token}"}, timeout=60
        )
        self.pseudonym_key = stack.env["PSEUDONYM_KEY"]

    def pseudonym(self, who: str) -> str:
        """What advisers see of the conversation ``who`` (never the id itself)."""
        return protocol.pseudonym(self.pseudonym_key, who)

    def handoff_for(self, who: str, status: str | None = None) -> dict:
        r = self.client.get("/api/v1/handoffs", params={"status": status} if status else {})
        r.raise_for_status()
        found = [h for h in r.json() if h["conversation"] == self.pseudonym(who)]
        assert len(found) == 1, r.json()
        return found[0]

    def detail(self, handoff_id: int) -> dict:
        r = self.client.get(f"/api/v1/handoffs/{handoff_id}")
        r.raise_for_status()
        return r.json()

    def reply(self, handoff_id: int, text: str) -> dict:
        r = self.client.post(f"/api/v1/handoffs/{handoff_id}/reply", json={"text": text})
        r.raise_for_status()
        return r.json()

    def close(self, handoff_id: int, outcome: str) -> dict:
        r = self.client.post(f"/api/v1/handoffs/{handoff_id}/close", json={"outcome": outcome})
        r.raise_for_status()
        return r.json()
