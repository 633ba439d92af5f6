"""Server-side limits of the FastAPI apps (adviser console, web chat page, Telegram bridge) and of outgoing
buttons.

* A request body larger than the app's limit is refused with 413 before it is read: by its Content-Length, and
  a body without Content-Length (chunked) as soon as more than the limit has arrived.
* On the token-protected channel endpoints (console ``/api/inbound`` …, the bridge's ``/internal/push``) a
  wrong or missing ``X-Inbound-Token`` gets 401 before the body is read or parsed: a malformed or oversized
  body with a wrong token is 401, not 400/413/422.
* An outgoing bot message carries at most ``MAX_BUTTONS`` buttons.

The same limits inside Rasa (message length, Sanic's request size, the REST channel's delete endpoint) and the
action server are checked end to end in ``tests/e2e/test_input_limits.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from channels.console.app import CONSOLE_MAX_BODY
from channels.telegram.render import render
from channels.telegram.server import BRIDGE_MAX_BODY, create_server
from channels.webchat.app import WEBCHAT_MAX_BODY
from channels.webchat.app import create_app as create_webchat
from core import protocol
from core.settings import TelegramSettings, WebchatSettings
from tests.console.conftest import INBOUND_TOKEN

RIGHT = {protocol.INBOUND_TOKEN_HEADER: INBOUND_TOKEN}
WRONG = {protocol.INBOUND_TOKEN_HEADER: "falsch"}
JSON = {"Content-Type": "application/json"}


def chunks(data: bytes, size: int = 8192) -> Iterator[bytes]:
    """A body without Content-Length (httpx sends it chunked)."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


# --- adviser console ----------------------------------------------------------------------------------------

CONSOLE_CHANNEL_CALLS = [
    ("POST", protocol.CONSOLE_INBOUND_PATH),
    ("GET", protocol.CONSOLE_OUTBOX_PATH + "/c"),
    ("DELETE", protocol.CONSOLE_CONVERSATIONS_PATH + "/c"),
    ("GET", protocol.CONSOLE_OUTBOX_PENDING_PATH + "?channel=telegram"),
    ("POST", protocol.CONSOLE_OUTBOX_DELIVERED_PATH),
]


@pytest.mark.parametrize(("method", "path"), CONSOLE_CHANNEL_CALLS)
@pytest.mark.parametrize("body", [b"{kein json", b"[1, 2", b"\xff\xfe\x00", b"x" * (CONSOLE_MAX_BODY + 1)],
                         ids=["malformed", "truncated", "binary", "too large"])
@pytest.mark.parametrize("headers", [WRONG, {}], ids=["wrong token", "no token"])
def test_console_channel_endpoints_check_the_token_before_the_body(
    client: TestClient, method: str, path: str, body: bytes, headers: dict[str, str]
) -> None:
    r = client.request(method, path, content=body, headers={**JSON, **headers})
    assert r.status_code == 401, (r.status_code, r.text[:200])


def test_console_chunked_oversized_body_with_a_wrong_token_is_401(client: TestClient) -> None:
    r = client.post(protocol.CONSOLE_INBOUND_PATH, content=chunks(b"x" * (3 * CONSOLE_MAX_BODY)),
                    headers={**JSON, **WRONG})
    assert r.status_code == 401


def test_console_refuses_a_body_over_its_limit(client: TestClient) -> None:
    body = b'{"conversation_id": "c", "text": "hallo"}'
    r = client.post(protocol.CONSOLE_INBOUND_PATH, content=body, headers={**JSON, **RIGHT})
    assert r.status_code == 200
    padded = body + b" " * CONSOLE_MAX_BODY  # valid JSON, but larger than the limit
    r = client.post(protocol.CONSOLE_INBOUND_PATH, content=padded, headers={**JSON, **RIGHT})
    assert r.status_code == 413 and "zu groß" in r.json()["detail"]
    r = client.post(protocol.CONSOLE_INBOUND_PATH, content=chunks(padded), headers={**JSON, **RIGHT})
    assert r.status_code == 413
    r = client.post("/login", content=b"username=a&password=" + b"b" * CONSOLE_MAX_BODY,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_console_answers_normally_below_the_limit(client: TestClient) -> None:
    text = "ä" * 15_000  # 30 KB of UTF-8: a long but allowed message
    r = client.post(protocol.CONSOLE_INBOUND_PATH, json={"conversation_id": "c", "text": text}, headers=RIGHT)
    assert r.status_code == 200, r.text


# --- web chat page ------------------------------------------------------------------------------------------

@pytest.fixture
def webchat() -> TestClient:
    return TestClient(create_webchat(WebchatSettings()))


def test_webchat_refuses_a_body_over_its_limit(webchat: TestClient) -> None:
    assert webchat.request("GET", "/", content=b"x" * 100).status_code == 200
    assert webchat.request("GET", "/", content=b"x" * (WEBCHAT_MAX_BODY + 1)).status_code == 413
    # without Content-Length a body is counted while it is read; no route of the page reads one (405)
    r = webchat.request("POST", "/", content=chunks(b"x" * (WEBCHAT_MAX_BODY + 1)))
    assert r.status_code in (405, 413)
    assert webchat.get("/healthz").status_code == 200


# --- Telegram bridge ----------------------------------------------------------------------------------------

class FakeBridge:
    def __init__(self) -> None:
        self.pushed: list[tuple[str, dict[str, Any]]] = []

    async def push(self, conversation_id: str, message: dict[str, Any]) -> bool:
        self.pushed.append((conversation_id, message))
        return True


@pytest.fixture
def bridge_server(tmp_path: Path) -> Iterator[tuple[TestClient, FakeBridge]]:
    settings = TelegramSettings.from_env({
        "TELEGRAM_BOT_TOKEN": "123:ABC", "CONSOLE_INBOUND_TOKEN": INBOUND_TOKEN,
        "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'bridge.sqlite3'}",
    })
    fake = FakeBridge()
    with TestClient(create_server(settings, object(), fake)) as c:  # type: ignore[arg-type]
        yield c, fake


@pytest.mark.parametrize("body", [b"{kein json", b"", b"x" * (BRIDGE_MAX_BODY + 1)],
                         ids=["malformed", "empty", "too large"])
@pytest.mark.parametrize("headers", [WRONG, {}], ids=["wrong token", "no token"])
def test_bridge_push_checks_the_token_before_the_body(
    bridge_server: tuple[TestClient, FakeBridge], body: bytes, headers: dict[str, str]
) -> None:
    client, fake = bridge_server
    r = client.post(protocol.PUSH_PATH, content=body, headers={**JSON, **headers})
    assert r.status_code == 401, (r.status_code, r.text[:200])
    assert fake.pushed == []


def test_bridge_refuses_a_body_over_its_limit(bridge_server: tuple[TestClient, FakeBridge]) -> None:
    client, fake = bridge_server
    body = b'{"conversation_id": "tg-1", "message": {"text": "Hallo"}}'
    r = client.post(protocol.PUSH_PATH, content=body, headers={**JSON, **RIGHT})
    assert r.json() == {"delivered": True}
    padded = body + b" " * BRIDGE_MAX_BODY
    assert client.post(protocol.PUSH_PATH, content=padded, headers={**JSON, **RIGHT}).status_code == 413
    r = client.post(protocol.PUSH_PATH, content=chunks(padded), headers={**JSON, **RIGHT})
    assert r.status_code == 413
    assert len(fake.pushed) == 1


# --- buttons ------------------------------------------------------------------------------------------------

def many_buttons(n: int) -> list[dict[str, str]]:
    return [{"title": f"Knopf {i}", "payload": f"/choose{{\"n\": {i}}}"} for i in range(n)]


def test_telegram_shows_at_most_max_buttons() -> None:
    out = render({"text": "Wähle:", "buttons": many_buttons(40)})
    assert len(out[-1].buttons) == protocol.MAX_BUTTONS
    assert [b.title for b in out[-1].buttons] == [f"Knopf {i}" for i in range(protocol.MAX_BUTTONS)]


def test_an_outgoing_message_is_cut_to_max_buttons() -> None:
    message = {"recipient_id": "x", "text": "Wähle:", "buttons": many_buttons(40)}
    capped = protocol.with_button_limit(message)
    assert capped["buttons"] == many_buttons(protocol.MAX_BUTTONS) and capped["text"] == "Wähle:"
    assert len(message["buttons"]) == 40  # the original is not changed
    few = {"text": "OK", "buttons": many_buttons(3)}
    assert protocol.with_button_limit(few) == few
    assert protocol.with_button_limit({"text": "ohne"}) == {"text": "ohne"}
    odd = {"text": "kaputt", "buttons": "x"}
    assert protocol.with_button_limit(odd) == odd
