"""Login, session cookie, CSRF, rate limit, logout, roles."""

from __future__ import annotations

import datetime as dt
import time

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from channels.console.accounts import set_password
from channels.console.app import create_app
from channels.console.models import LoginFailure
from core.db import session_scope
from core.settings import ConsoleSettings
from handoff import service
from handoff.models import Adviser, AuditEntry
from tests.console.conftest import PASSWORD, XSS, add_adviser, add_handoff, csrf_of, login


def audit_actions(factory: sessionmaker[Session]) -> list[tuple[str, int | None, str]]:
    with session_scope(factory) as s:
        return [(e.action, e.adviser_id, e.detail) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_pages_need_login(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.get("/handoffs/1?ok=reply", follow_redirects=False)
    assert r.headers["location"] == "/login?next=/handoffs/1%3Fok%3Dreply"
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text and "Zum Inhalt springen" in page.text
    assert '<label for="username">' in page.text and '<label for="password">' in page.text


def test_login_sets_a_safe_session_cookie(client: TestClient, factory: sessionmaker[Session]) -> None:
    uid = add_adviser(factory, "berta")
    r = login(client, "berta")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("console_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # on localhost; elsewhere `Secure` (CONSOLE_SECURE_COOKIES=auto)
    inbox = client.get("/")
    assert inbox.status_code == 200 and "Eingang" in inbox.text and "Angemeldet: berta" in inbox.text
    assert ("login", uid) in [(a, u) for a, u, _ in audit_actions(factory)]


def test_secure_cookie_flag(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    with TestClient(create_app(settings.model_copy(update={"secure_cookies": True})),
                    base_url="https://testserver") as c:
        add_adviser(factory, "berta")
        r = login(c, "berta")
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_login_redirects_only_to_local_pages(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    assert login(client, "berta", next_url="//evil.example/x").headers["location"] == "/"
    client.cookies.clear()
    assert login(client, "berta", next_url="/handoffs/3").headers["location"] == "/handoffs/3"


def test_wrong_password(client: TestClient, factory: sessionmaker[Session]) -> None:
    uid = add_adviser(factory, "berta")
    r = login(client, "berta", "falsch-falsch")
    assert r.status_code == 401
    assert "Benutzername oder Passwort ist falsch." in r.text
    assert client.get("/", follow_redirects=False).status_code == 303
    r = login(client, "niemand", "egal-egal-egal")
    assert r.status_code == 401
    failed = [(u, d) for a, u, d in audit_actions(factory) if a == "login_failed"]
    assert failed[0][0] == uid and failed[1][0] is None
    assert "unbekanntes Konto" in failed[1][1] and "niemand" not in failed[1][1]  # what was typed is not kept


def test_inactive_account_cannot_log_in(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    with session_scope(factory) as s:
        s.scalar(select(Adviser).where(Adviser.username == "berta")).active = False
    assert login(client, "berta").status_code == 401


def test_login_rate_limit(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    for _ in range(5):
        assert login(client, "berta", "falsch-falsch").status_code == 401
    r = login(client, "berta")  # even the right password is refused now
    assert r.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in r.text and "5 Minuten" in r.text
    assert client.get("/", follow_redirects=False).status_code == 303
    add_adviser(factory, "carla")  # other accounts from the same address still work
    assert login(client, "carla").status_code == 303


def test_login_rate_limit_window_passes(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    for _ in range(5):
        login(client, "berta", "falsch-falsch")
    assert login(client, "berta").status_code == 429
    with session_scope(factory) as s:  # the failures are 301 seconds old
        s.execute(update(LoginFailure).values(at=LoginFailure.at - dt.timedelta(seconds=301)))
    assert login(client, "berta").status_code == 303


def test_login_form_needs_csrf(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    client.get("/login")
    r = client.post("/login", data={"username": "berta", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "Schutz vor gefälschten Anfragen" in r.text
    r = client.post("/login", data={"username": "berta", "password": PASSWORD, "csrf_token": "x"},
                    follow_redirects=False)
    assert r.status_code == 403


def test_csrf_token_changes_at_login(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta")
    before = csrf_of(client, "/login")
    login(client, "berta")
    after = csrf_of(client, "/")
    assert before != after


def test_logout(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    token = csrf_of(adviser_client, "/")
    r = adviser_client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?abgemeldet=1"
    assert 'console_session=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert adviser_client.get("/", follow_redirects=False).status_code == 303
    assert "Sie sind abgemeldet." in adviser_client.get("/login?abgemeldet=1").text
    assert "logout" in [a for a, _, _ in audit_actions(factory)]


def test_session_expires(settings: ConsoleSettings, factory: sessionmaker[Session]) -> None:
    with TestClient(create_app(settings.model_copy(update={"session_max_age": 1})), base_url="http://localhost") as c:
        add_adviser(factory, "berta")
        login(c, "berta")
        assert c.get("/", follow_redirects=False).status_code == 200
        time.sleep(2.2)
        assert c.get("/", follow_redirects=False).status_code == 303


def test_new_password_ends_sessions(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    assert adviser_client.get("/", follow_redirects=False).status_code == 200
    with session_scope(factory) as s:
        set_password(s, "berta", "ein-neues-passwort")
    assert adviser_client.get("/", follow_redirects=False).status_code == 303


def test_tampered_cookie_is_rejected(adviser_client: TestClient) -> None:
    value = adviser_client.cookies.get("console_session")
    adviser_client.cookies.set("console_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert adviser_client.get("/", follow_redirects=False).status_code == 303


def test_admin_pages_are_for_admins_only(adviser_client: TestClient) -> None:
    for path in ("/audit", "/users"):
        r = adviser_client.get(path)
        assert r.status_code == 403 and "nur für Administratorinnen" in r.text
    assert 'href="/audit"' not in adviser_client.get("/").text


def test_admin_sees_audit_log_and_accounts(admin_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "berta", display_name=XSS)
    hid = add_handoff(factory)
    admin_client.get(f"/handoffs/{hid}")
    page = admin_client.get("/audit")
    assert page.status_code == 200 and "Anmeldung" in page.text and "gelesen" in page.text
    assert f'href="/handoffs/{hid}"' in page.text
    only = admin_client.get(f"/audit?handoff={hid}").text
    assert "Anmeldung" not in only and "gelesen" in only
    users = admin_client.get("/users")
    assert users.status_code == 200 and "chefin" in users.text and "berta" in users.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in users.text and "<script>alert" not in users.text


def test_free_text_is_escaped_in_audit_log(client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "chefin", role="admin")
    hid = add_handoff(factory)
    with session_scope(factory) as s:  # the outcome of a closing is free text in the audit detail
        service.close(s, hid, s.scalar(select(Adviser).where(Adviser.username == "chefin")), XSS)
    login(client, XSS, "falsch-falsch")  # an unknown username is not stored at all
    login(client, "chefin")
    page = client.get("/audit").text
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 1 and "<script>alert" not in page
