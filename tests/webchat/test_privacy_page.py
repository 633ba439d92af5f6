"""The web chat's privacy page (/datenschutz): the same text the bot sends, with the configured operator, escaped;
and the chat page links it and offers the explicit "Auf diesem Gerät merken" choice."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from channels.webchat.app import PRIVACY_PAGE_PATH, create_app
from core.settings import WebchatSettings
from knowledge_base.privacy import privacy_text


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("PRIVACY_OPERATOR_NAME", 'Jugendberufsagentur <script>alert("x")</script>')
    monkeypatch.setenv("PRIVACY_OPERATOR_CONTACT", "Hauptstraße 1, 65000 Musterstadt")
    monkeypatch.setenv("PRIVACY_DPO_CONTACT", "dsb@example.org")
    monkeypatch.setenv("RETENTION_CONVERSATION_DAYS", "21")
    return TestClient(create_app(WebchatSettings(rasa_url="http://127.0.0.1:5005")))


def test_privacy_page_shows_the_configured_text_escaped(client: TestClient) -> None:
    r = client.get(PRIVACY_PAGE_PATH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="de">' in html and "<h1>Datenschutz" in html
    assert "Jugendberufsagentur &lt;script&gt;" in html and "<script>alert" not in html
    assert "Hauptstraße 1, 65000 Musterstadt" in html and "dsb@example.org" in html
    assert "21 Tage nach der letzten Nachricht" in html and "180 Tage" in html
    assert "Gustav-Stresemann-Ring 1, 65189 Wiesbaden" in html
    for section in privacy_text().sections:  # same sections as in the chat
        assert f">{section.title}</h2>" in html
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "<script" not in html and "style=" not in html  # no inline code


def test_chat_page_links_the_privacy_page_and_offers_remembering(client: TestClient) -> None:
    html = client.get("/").text
    assert f'href="{PRIVACY_PAGE_PATH}"' in html
    assert '<input type="checkbox" id="remember-device"' in html
    assert '<label for="remember-device">Auf diesem Gerät merken</label>' in html
