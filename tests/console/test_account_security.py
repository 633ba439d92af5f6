"""Security of the console accounts: server-side sessions (logout, password change and idle time end them),
`Secure` cookies and HSTS, login throttling shared by every worker, X-Forwarded-For only from trusted proxies,
no typed usernames of unknown accounts in the audit log, need-to-know on hand-offs, API docs behind the login."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from channels.console.accounts import issue_token, set_password
from channels.console.app import create_app
from core.db import session_scope, utcnow
from core.errors import SettingsError
from core.settings import ConsoleSettings
from handoff import service
from handoff.models import Adviser, AuditEntry, Handoff, HandoffMessage, HandoffNote
from tests.console.conftest import (
    INBOUND_TOKEN,
    PASSWORD,
    add_adviser,
    add_handoff,
    csrf_of,
    free_port,
    load,
    login,
)

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "http://localhost"
PUBLIC = "http://console.example.org"
HSTS = "max-age=31536000; includeSubDomains"


def app_client(settings: ConsoleSettings, base_url: str = LOCAL, **kwargs: object) -> TestClient:
    return TestClient(create_app(settings), base_url=base_url, **kwargs)  # type: ignore[arg-type]


def logout(client: TestClient) -> httpx.Response:
    return client.post("/logout", data={"csrf_token": csrf_of(client, "/")}, follow_redirects=False)


def failed_details(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as s:
        return list(s.scalars(select(AuditEntry.detail).where(AuditEntry.action == "login_failed")
                              .order_by(AuditEntry.id)))


# --- sessions on the server ------------------------------------------------------------------------------------

def test_replayed_cookie_after_logout_is_refused(adviser_client: TestClient) -> None:
    copied = adviser_client.cookies.get("console_session")
    assert adviser_client.get("/", follow_redirects=False).status_code == 200
    assert logout(adviser_client).status_code == 303
    adviser_client.cookies.set("console_session", copied)  # the cookie copied before the logout
    r = adviser_client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_replayed_cookie_after_password_change_is_refused(adviser_client: TestClient,
                                                          factory: sessionmaker[Session]) -> None:
    copied = adviser_client.cookies.get("console_session")
    with session_scope(factory) as s:
        set_password(s, "berta", "ein-neues-passwort")
    adviser_client.cookies.set("console_session", copied)
    assert adviser_client.get("/", follow_redirects=False).status_code == 303


def test_the_cookie_carries_no_account_data(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    import base64
    import json

    value = adviser_client.cookies.get("console_session")
    payload = value.split(".")[0]
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert isinstance(decoded, str) and len(decoded) >= 32  # only the random session id
    from channels.console.models import ConsoleSession

    with session_scope(factory) as s:
        rows = list(s.scalars(select(ConsoleSession)))
        assert len(rows) == 1 and rows[0].id != decoded  # only its hash is stored
        assert rows[0].revoked_at is None and rows[0].user_agent


def test_idle_timeout_ends_the_session(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    with app_client(settings.model_copy(update={"idle_timeout": 2})) as c:
        assert login(c, "berta").status_code == 303
        for _ in range(3):  # activity keeps it alive beyond the idle time
            time.sleep(1.0)
            assert c.get("/", follow_redirects=False).status_code == 200
        time.sleep(2.5)
        assert c.get("/", follow_redirects=False).status_code == 303


def test_last_seen_is_written_at_most_once_a_minute(adviser_client: TestClient,
                                                    factory: sessionmaker[Session]) -> None:
    from channels.console.models import ConsoleSession

    def last_seen() -> dt.datetime:
        with session_scope(factory) as s:
            return s.scalars(select(ConsoleSession.last_seen_at)).one()

    first = last_seen()
    adviser_client.get("/")
    adviser_client.get("/")
    assert last_seen() == first
    with session_scope(factory) as s:
        s.execute(update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(seconds=61)))
    assert adviser_client.get("/", follow_redirects=False).status_code == 200
    assert last_seen() > first
    with session_scope(factory) as s:  # 30 minutes without a request
        s.execute(update(ConsoleSession).values(last_seen_at=utcnow() - dt.timedelta(seconds=1801)))
    assert adviser_client.get("/", follow_redirects=False).status_code == 303


def test_absolute_lifetime_is_stored_with_the_session(adviser_client: TestClient,
                                                      factory: sessionmaker[Session]) -> None:
    from channels.console.models import ConsoleSession

    with session_scope(factory) as s:
        row = s.scalars(select(ConsoleSession)).one()
        assert abs((row.expires_at - row.created_at).total_seconds() - 28800) < 2
        s.execute(update(ConsoleSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    assert adviser_client.get("/", follow_redirects=False).status_code == 303


def test_logout_revokes_the_session_row(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    from channels.console.models import ConsoleSession

    logout(adviser_client)
    with session_scope(factory) as s:
        assert s.scalars(select(ConsoleSession.revoked_at)).one() is not None


# --- Secure cookies and HSTS -----------------------------------------------------------------------------------

def session_cookie(r: httpx.Response) -> str:
    cookie = r.headers.get("set-cookie", "")
    assert cookie.startswith("console_session="), cookie
    return cookie


def test_cookies_are_secure_by_default_outside_localhost(settings: ConsoleSettings) -> None:
    assert settings.secure_cookies is None  # "auto"
    for base in ("http://console.example.org", "https://console.example.org", "http://10.1.2.3:8000"):
        with app_client(settings, base) as c:
            assert "Secure" in session_cookie(c.get("/login")), base
    for base in (LOCAL, "http://127.0.0.1:8000", "http://[::1]:8000"):
        with app_client(settings, base) as c:
            assert "Secure" not in session_cookie(c.get("/login")), base
    with app_client(settings.model_copy(update={"secure_cookies": False}), PUBLIC) as c:
        assert "Secure" not in session_cookie(c.get("/login"))
    with app_client(settings.model_copy(update={"secure_cookies": True}), LOCAL) as c:
        assert "Secure" in session_cookie(c.get("/login"))


def test_login_page_says_when_only_https_can_work(settings: ConsoleSettings) -> None:
    for base, hint in ((PUBLIC, True), ("https://console.example.org", False), (LOCAL, False)):
        with app_client(settings, base) as c:
            assert ("nur über HTTPS" in c.get("/login").text) is hint, base


def test_login_over_https_on_a_public_host(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    with app_client(settings, "https://console.example.org") as c:
        r = login(c, "berta")
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
        page = c.get("/")
        assert page.status_code == 200 and page.headers["strict-transport-security"] == HSTS


def test_secure_cookie_setting_from_the_environment(tmp_path: Path) -> None:
    def secure(value: str | None) -> bool | None:
        env = {"CONSOLE_SECRET_KEY": "k" * 32, **({"CONSOLE_SECURE_COOKIES": value} if value is not None else {})}
        return ConsoleSettings.from_env(env, secret_file=tmp_path / "unused.key").secure_cookies

    assert secure(None) is None and secure("auto") is None and secure("AUTO") is None
    assert secure("1") is True and secure("0") is False and secure("ja") is True
    with pytest.raises(SettingsError, match="CONSOLE_SECURE_COOKIES"):
        secure("vielleicht")


def test_hsts_only_over_https(settings: ConsoleSettings) -> None:
    with app_client(settings, "https://console.example.org") as c:
        assert c.get("/login").headers["strict-transport-security"] == HSTS
        assert c.get("/healthz").headers["strict-transport-security"] == HSTS
    with app_client(settings, PUBLIC) as c:
        assert "strict-transport-security" not in c.get("/login").headers


def test_forwarded_proto_counts_only_from_a_trusted_proxy(settings: ConsoleSettings) -> None:
    behind = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8"})
    # nginx in front rewrote the Host to the upstream address: X-Forwarded-Proto says the browser used https
    with app_client(behind, "http://127.0.0.1:8000", client=("10.0.0.5", 41000)) as c:
        r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["strict-transport-security"] == HSTS and "Secure" in session_cookie(r)
    with app_client(behind, "http://127.0.0.1:8000", client=("192.0.2.1", 41000)) as c:  # not a proxy
        r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers and "Secure" not in session_cookie(r)


# --- login throttling in the database, client addresses ----------------------------------------------------------

def test_two_workers_share_the_login_limit(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    with app_client(settings) as one, app_client(settings) as two:
        for _ in range(3):
            assert login(one, "berta", "falsch-falsch").status_code == 401
        for _ in range(2):
            assert login(two, "berta", "falsch-falsch").status_code == 401
        r = login(one, "berta")  # 5 failures over both workers: even the right password is refused
        assert r.status_code == 429 and "Zu viele fehlgeschlagene Anmeldeversuche" in r.text
        assert login(two, "berta").status_code == 429


def test_login_limit_window_passes(client: TestClient, factory: sessionmaker[Session]) -> None:
    from channels.console.models import LoginFailure

    add_adviser(factory, "berta")
    for _ in range(5):
        login(client, "berta", "falsch-falsch")
    assert login(client, "berta").status_code == 429
    with session_scope(factory) as s:
        s.execute(update(LoginFailure).values(at=LoginFailure.at - dt.timedelta(seconds=301)))
    assert login(client, "berta").status_code == 303


def test_failed_logins_store_no_typed_username(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    typo = "Mein-Passwort-2024!"  # a password typed into the username field
    assert login(client, typo, "egal-egal-egal").status_code == 401
    assert login(client, "berta", "falsch-falsch").status_code == 401
    details = failed_details(factory)
    assert details[0].startswith("unbekanntes Konto") and typo not in details[0]
    assert "berta" not in details[1]  # the account is linked by its id
    with session_scope(factory) as s:  # nowhere in the database
        for table in ("audit_entry", "login_failure"):
            for row in s.execute(text(f"SELECT * FROM {table}")):  # noqa: S608 - fixed table names
                assert typo.lower() not in " ".join(str(v) for v in row).lower()


def test_client_address_from_a_trusted_proxy(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    behind = settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, 192.0.2.10"})
    with app_client(behind, client=("10.0.0.5", 41000)) as c:
        c.headers["X-Forwarded-For"] = "203.0.113.9, 198.51.100.7"  # the left part came from the client
        login(c, "niemand", "egal-egal-egal")
        c.headers["X-Forwarded-For"] = "198.51.100.8, 192.0.2.10"  # two proxies: the right-most untrusted
        login(c, "niemand", "egal-egal-egal")
    with app_client(behind, client=("192.0.2.99", 41000)) as c:  # not a proxy: its header is ignored
        c.headers["X-Forwarded-For"] = "198.51.100.9"
        login(c, "niemand", "egal-egal-egal")
    details = failed_details(factory)
    assert details[0].endswith("von 198.51.100.7") and "203.0.113.9" not in details[0]
    assert details[1].endswith("von 198.51.100.8")
    assert details[2].endswith("von 192.0.2.99")


def test_forged_xff_through_a_trusted_proxy_does_not_bypass_the_address_limit(
    settings: ConsoleSettings, factory: sessionmaker[Session]
) -> None:
    behind = settings.model_copy(update={"trusted_proxies": "10.0.0.5", "login_max_failures": 2})
    add_adviser(factory, "berta")
    with app_client(behind, client=("10.0.0.5", 41000)) as c:
        for i in range(8):  # address limit: 4 × 2, each try with another name and another forged address
            c.headers["X-Forwarded-For"] = f"203.0.113.{i}, 198.51.100.7"
            assert login(c, f"name{i}", "egal-egal-egal").status_code == 401
        c.headers["X-Forwarded-For"] = "203.0.113.99, 198.51.100.7"
        assert login(c, "berta").status_code == 429
        c.headers["X-Forwarded-For"] = "198.51.100.8"  # another real client behind the proxy
        assert login(c, "berta").status_code == 303


def test_trusted_proxies_setting(tmp_path: Path) -> None:
    def proxies(value: str) -> ConsoleSettings:
        env = {"CONSOLE_SECRET_KEY": "k" * 32, "CONSOLE_TRUSTED_PROXIES": value}
        return ConsoleSettings.from_env(env, secret_file=tmp_path / "unused.key")

    assert ConsoleSettings.from_env({"CONSOLE_SECRET_KEY": "k" * 32},
                                    secret_file=tmp_path / "unused.key").trusted_proxies == ""
    assert [str(n) for n in proxies(" 10.0.0.0/8, 127.0.0.1 ,::1").trusted_networks] == [
        "10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    with pytest.raises(SettingsError, match="CONSOLE_TRUSTED_PROXIES"):
        proxies("10.0.0.300")


@pytest.fixture
def running_console(db_url: str, factory: sessionmaker[Session]) -> Iterator[str]:
    """``python -m channels.console`` as it runs in production (uvicorn), on a free loopback port."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "KB_DATABASE_URL": db_url,
        "CONSOLE_SECRET_KEY": "test-secret-key-0123456789abcdef", "CONSOLE_HOST": "127.0.0.1",
        "CONSOLE_PORT": str(port), "CONSOLE_AUTO_SETUP": "0", "CONSOLE_INBOUND_TOKEN": INBOUND_TOKEN,
        "CONSOLE_LOGIN_MAX_FAILURES": "2",
    }
    process = subprocess.Popen([sys.executable, "-m", "channels.console"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("console did not start: " + (process.stderr.read() or b"").decode()[-2000:])
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_forged_xff_from_an_untrusted_peer_does_not_bypass_the_address_limit(
    running_console: str, factory: sessionmaker[Session]
) -> None:
    """The "XFF bypass": without trusted proxies, X-Forwarded-For is the client's own claim (uvicorn itself must
    not believe it either)."""
    add_adviser(factory, "berta")
    with httpx.Client(base_url=running_console) as c:
        for i in range(8):  # the address limit is 4 × 2 failures
            c.headers["X-Forwarded-For"] = f"203.0.113.{i}"
            assert login(c, f"name{i}", "egal-egal-egal").status_code == 401  # type: ignore[arg-type]
        c.headers["X-Forwarded-For"] = "203.0.113.99"
        assert login(c, "berta").status_code == 429  # type: ignore[arg-type]
    details = failed_details(factory)
    assert len(details) == 8 and all(d.endswith("von 127.0.0.1") for d in details), details


# --- need-to-know ----------------------------------------------------------------------------------------------

def assign_to(factory: sessionmaker[Session], handoff_id: int, username: str) -> None:
    with session_scope(factory) as s:
        adviser = s.scalar(select(Adviser).where(Adviser.username == username))
        assert adviser is not None
        service.assign(s, handoff_id, adviser)


def test_adviser_reading_anothers_case(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    add_adviser(factory, "carla")
    add_adviser(factory, "chefin", role="admin")
    carlas = add_handoff(factory, "conv-carla", topic="Carlas Fall")
    assign_to(factory, carlas, "carla")
    carlas_closed = add_handoff(factory, "conv-carla-2", topic="Carlas alter Fall")
    assign_to(factory, carlas_closed, "carla")
    with session_scope(factory) as s:
        s.get(Handoff, carlas_closed).status = "closed"  # type: ignore[union-attr]
    waiting = add_handoff(factory, "conv-wait", topic="Niemandes Fall")
    mine = add_handoff(factory, "conv-berta", topic="Bertas Fall")
    assign_to(factory, mine, "berta")

    assert login(client, "berta").status_code == 303
    inbox = client.get("/").text
    assert f"Übergabe #{waiting}" in inbox and f"Übergabe #{mine}" in inbox
    assert f"Übergabe #{carlas}" not in inbox and "Carlas Fall" not in inbox
    for status in ("assigned", "closed"):
        page = client.get("/", params={"status": status}).text
        assert f"Übergabe #{carlas}" not in page and f"Übergabe #{carlas_closed}" not in page
    for hid in (carlas, carlas_closed):
        r = client.get(f"/handoffs/{hid}")
        assert r.status_code == 404 and "gibt es nicht" in r.text and "Carla" not in r.text
        assert client.get(f"/handoffs/{hid}/export.json").status_code == 404
    token = csrf_of(client, "/")
    for action, data in (("reply", {"text": "x"}), ("notes", {"text": "x"}), ("assign", {}),
                         ("close", {"outcome": "Sonstiges"}), ("resume", {})):
        r = client.post(f"/handoffs/{carlas}/{action}", data={"csrf_token": token, **data}, follow_redirects=False)
        assert r.status_code == 404, action
    assert client.get(f"/handoffs/{waiting}").status_code == 200
    assert client.get(f"/handoffs/{mine}").status_code == 200

    with session_scope(factory) as s:
        bearer = {"Authorization": f"Bearer {issue_token(s, 'berta')}"}
    listed = [h["id"] for h in client.get("/api/v1/handoffs", headers=bearer).json()]
    assert listed == [waiting, mine]
    assert client.get("/api/v1/handoffs", params={"status": "closed"}, headers=bearer).json() == []
    assert client.get(f"/api/v1/handoffs/{carlas}", headers=bearer).status_code == 404
    assert client.get(f"/api/v1/handoffs/{carlas}/export", headers=bearer).status_code == 404
    for action, body in (("reply", {"text": "x"}), ("notes", {"text": "x"}), ("assign", None), ("close", {}),
                         ("resume", None)):
        r = client.post(f"/api/v1/handoffs/{carlas}/{action}", json=body, headers=bearer)
        assert r.status_code == 404, action
    assert client.get(f"/api/v1/handoffs/{waiting}", headers=bearer).status_code == 200

    h = load(factory, carlas)  # nothing happened to Carla's case
    assert h.status == "assigned" and h.adviser is not None and h.adviser.username == "carla"
    with session_scope(factory) as s:
        assert s.scalars(select(HandoffMessage).where(HandoffMessage.handoff_id == carlas)).all() == []
        assert s.scalars(select(HandoffNote).where(HandoffNote.handoff_id == carlas)).all() == []
        assert list(s.scalars(select(AuditEntry.action).where(AuditEntry.handoff_id == carlas))) == ["assign"]

    client.cookies.clear()
    assert login(client, "chefin").status_code == 303  # admins see every case and may take it over
    assert f"Übergabe #{carlas}" in client.get("/").text
    assert client.get(f"/handoffs/{carlas}").status_code == 200
    r = client.post(f"/handoffs/{carlas}/assign", data={"csrf_token": csrf_of(client, "/")}, follow_redirects=False)
    assert r.status_code == 303 and load(factory, carlas).adviser.username == "chefin"  # type: ignore[union-attr]


# --- API documentation -----------------------------------------------------------------------------------------

def test_api_docs_need_a_console_login(client: TestClient, factory: sessionmaker[Session]) -> None:
    for path in ("/docs", "/redoc", "/openapi.json"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    add_adviser(factory, "berta")
    login(client, "berta", PASSWORD)
    assert client.get("/docs").status_code == 200 and "swagger" in client.get("/docs").text.lower()
    assert client.get("/redoc").status_code == 200
    assert "/api/v1/handoffs" in client.get("/openapi.json").json()["paths"]
