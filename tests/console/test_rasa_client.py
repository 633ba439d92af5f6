"""handoff.rasa_client against a fake Rasa HTTP API."""

from __future__ import annotations

import pytest

from core.settings import AppSettings
from handoff import rasa_client
from tests.console.conftest import BACK_TEXT, RASA_TOKEN, FakeRasa, free_port


def test_resume_posts_event_then_executes_the_back_response(fake_rasa: FakeRasa) -> None:
    messages = rasa_client.resume("a b/c", rasa_url=fake_rasa.url + "/", token=RASA_TOKEN, timeout=3)
    assert messages == [{"text": BACK_TEXT}]
    assert [c["raw_path"] for c in fake_rasa.calls] == [
        "/conversations/a%20b%2Fc/tracker/events", "/conversations/a%20b%2Fc/execute",
        "/conversations/a%20b%2Fc/tracker/events",
    ]
    assert fake_rasa.calls[0]["body"] == [{"event": "resume"}]
    assert fake_rasa.calls[1]["body"] == {"name": "utter_handoff_back"}
    assert fake_rasa.calls[2]["body"] == [{"event": "action", "name": "action_listen"}]  # the bot's turn ends


def test_environment_defaults(fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_URL", fake_rasa.url)
    monkeypatch.setenv("RASA_TOKEN", RASA_TOKEN)
    settings = AppSettings.from_env()  # RASA_URL and RASA_TOKEN reach the client through the settings
    assert rasa_client.resume("x", rasa_url=settings.rasa_url, token=settings.rasa_token) == [{"text": BACK_TEXT}]


def test_wrong_token_or_error_status(fake_rasa: FakeRasa) -> None:
    with pytest.raises(rasa_client.RasaUnavailable, match="HTTP 401"):
        rasa_client.resume("x", rasa_url=fake_rasa.url, token="falsch")
    fake_rasa.status = 500
    with pytest.raises(rasa_client.RasaUnavailable, match="HTTP 500"):
        rasa_client.resume("x", rasa_url=fake_rasa.url, token=RASA_TOKEN)


def test_unreachable() -> None:
    with pytest.raises(rasa_client.RasaUnavailable, match="nicht erreichbar"):
        rasa_client.resume("x", rasa_url=f"http://127.0.0.1:{free_port()}", token="t", timeout=2)
