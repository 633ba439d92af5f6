"""The web chat page server (channels/webchat) with FastAPI's TestClient: page, configuration, headers, files."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from channels.lazy_app import lazy_app
from channels.webchat.app import create_app
from core.errors import SettingsError
from core.protocol import DEFAULT_RASA_URL
from core.settings import WebchatSettings

RASA = "https://bot.example.org:5443"


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(WebchatSettings(rasa_url=RASA + "/")))


def directives(csp: str) -> dict[str, list[str]]:
    parts = (d.strip().split() for d in csp.split(";") if d.strip())
    return {name: values for name, *values in parts}


def test_page_is_german_and_carries_the_rasa_url(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<html lang="de">' in html
    assert f'data-rasa-url="{RASA}"' in html  # trailing slash removed
    assert 'data-poll-seconds="4"' in html and 'data-max-length="2000"' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<main" in html and "<h1>" in html and "Berufsorientierungs-Assistent Hessen" in html
    assert 'role="log"' in html and 'aria-live="polite"' in html and 'role="status"' in html
    assert '<label for="message-input">Deine Nachricht</label>' in html
    assert 'placeholder="Schreib deine Frage …"' in html
    assert ">Senden</button>" in html and ">Neues Gespräch</button>" in html
    assert "Lösch meine Daten" in html and "gespeichert" in html  # privacy note


def test_page_has_no_inline_code_and_no_external_resources(client: TestClient) -> None:
    html = client.get("/").text
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/chat.js" defer>']
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/static/", "#", "/datenschutz")), url  # own files, own privacy page


def test_security_headers(client: TestClient) -> None:
    r = client.get("/")
    csp = directives(r.headers["content-security-policy"])
    assert csp["connect-src"] == ["'self'", RASA]
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "kind", "needle"),
    [
        ("/static/chat.js", "javascript", "bo-hessen-webchat-session"),
        ("/static/chat.css", "text/css", "prefers-reduced-motion"),
        ("/static/icon.svg", "image/svg+xml", "<svg"),
    ],
)
def test_static_files_are_served(client: TestClient, path: str, kind: str, needle: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and kind in r.headers["content-type"]
    assert needle in r.text
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-cache"


def test_script_renders_message_text_only_as_text(client: TestClient) -> None:
    js = client.get("/static/chat.js").text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert "Der Assistent ist gerade nicht erreichbar. Bitte versuch es gleich noch einmal." in js
    assert "Der Assistent schreibt …" in js and '"X-Conversation-Token"' in js


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert client.get("/gibt-es-nicht").status_code == 404
    assert client.get("/docs").status_code == 404  # no API documentation: there is no API


def test_rasa_behind_the_same_origin_needs_no_extra_connect_source() -> None:
    client = TestClient(create_app(WebchatSettings(rasa_url="/rasa")))
    assert directives(client.get("/").headers["content-security-policy"])["connect-src"] == ["'self'"]
    assert 'data-rasa-url="/rasa"' in client.get("/").text


def test_rasa_url_is_escaped_in_the_page() -> None:
    client = TestClient(create_app(WebchatSettings(rasa_url='http://rasa.example/x"><script>x</script>')))
    html = client.get("/").text
    assert "<script>x" not in html and "&#34;&gt;&lt;script&gt;" in html


def test_settings_from_the_environment() -> None:
    assert WebchatSettings.from_env({}) == WebchatSettings(rasa_url=DEFAULT_RASA_URL, host="127.0.0.1", port=8080,
                                                                 poll_seconds=4.0)
    assert WebchatSettings.from_env({"RASA_URL": "http://10.0.0.5:5005"}).rasa_url == "http://10.0.0.5:5005"
    settings = WebchatSettings.from_env({
        "RASA_URL": "http://127.0.0.1:5005", "WEBCHAT_RASA_URL": "https://chat.example.org/rasa/",
        "WEBCHAT_HOST": "0.0.0.0", "WEBCHAT_PORT": "9090", "WEBCHAT_POLL_SECONDS": "2.5",
    })
    assert settings == WebchatSettings(rasa_url="https://chat.example.org/rasa", host="0.0.0.0", port=9090,
                                       poll_seconds=2.5)
    assert settings.rasa_origin == "https://chat.example.org"


@pytest.mark.parametrize(
    "env",
    [
        {"WEBCHAT_RASA_URL": "javascript:alert(1)"},
        {"WEBCHAT_RASA_URL": "ftp://rasa.example.org"},
        {"WEBCHAT_RASA_URL": "//rasa.example.org"},
        {"WEBCHAT_RASA_URL": "http://user:pw@rasa.example.org"},
        {"WEBCHAT_RASA_URL": "http://rasa.example.org/?x=1"},
        {"WEBCHAT_RASA_URL": 'http://rasa.example"><script>'},
        {"WEBCHAT_PORT": "achtzig"},
        {"WEBCHAT_PORT": "70000"},
        {"WEBCHAT_POLL_SECONDS": "0"},
    ],
)
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        WebchatSettings.from_env(env)


def test_module_app_is_built_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import channels.webchat.app as module

    monkeypatch.setattr(module, "__getattr__", lazy_app(module.create_app))  # nothing built yet
    monkeypatch.setenv("WEBCHAT_RASA_URL", "http://127.0.0.1:5999")
    client = TestClient(module.app)
    assert 'data-rasa-url="http://127.0.0.1:5999"' in client.get("/").text
