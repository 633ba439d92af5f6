"""Teams in a real browser: a REST conversation (persona, occupation, place, offers) becomes a hand-off routed to
the team of its district; its adviser sees the profile card with values from the conversation, linked into the
transcript, and transfers the case by keyboard to another team with a note; that team's adviser sees it, the
first no longer does.

The stack is shared with the other end-to-end tests, so the teams cover two districts no other test names and
are deleted afterwards (their hand-offs go back to "no team")."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, update

from core.db import make_engine, make_session_factory, session_scope
from handoff.models import Handoff
from handoff.teams import Team, team_by_name, team_member
from tests.e2e.conftest import AdviserApi, start_handoff, texts
from tests.servers import Stack, console_cli, create_adviser

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


class Adviser:
    def __init__(self, stack: Stack, name: str) -> None:
        self.username = f"{name}-{secrets.token_hex(3)}"
        self.password = secrets.token_urlsafe(16)
        self.api = AdviserApi(stack)
        self.api.client.headers["Authorization"] = f"Bearer {create_adviser(stack.env, self.username, self.password)}"


@pytest.fixture
def teams(stack: Stack) -> Iterator[dict[str, Any]]:
    suffix = uuid.uuid4().hex[:6]
    werra, vogelsberg = Adviser(stack, "werra"), Adviser(stack, "vogelsberg")
    names = {"werra": f"Werra-Meißner {suffix}", "vogelsberg": f"Vogelsberg {suffix}"}
    console_cli(stack.env, "create-team", names["werra"], "--region", "werra-meissner-kreis")
    console_cli(stack.env, "create-team", names["vogelsberg"], "--region", "vogelsbergkreis", "--topic", "teilzeit")
    console_cli(stack.env, "add-member", names["werra"], werra.username)
    console_cli(stack.env, "add-member", names["vogelsberg"], vogelsberg.username)
    yield {"names": names, "werra": werra, "vogelsberg": vogelsberg}
    factory = make_session_factory(make_engine(stack.env["KB_DATABASE_URL"]))
    with session_scope(factory) as s:
        ids = [t.id for t in (team_by_name(s, n) for n in names.values()) if t is not None]
        s.execute(update(Handoff).where(Handoff.team_id.in_(ids)).values(team_id=None))
        s.execute(delete(team_member).where(team_member.c.team_id.in_(ids)))
        s.execute(delete(Team).where(Team.id.in_(ids)))


def login(page: Any, stack: Stack, who: Adviser) -> None:
    page.goto(f"{stack.console_url}/login")
    page.get_by_label("Benutzername").fill(who.username)
    page.get_by_label("Passwort").fill(who.password)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("heading", name="Eingang").wait_for()


def test_profile_card_and_transfer_to_another_team(page: Any, browser: Any, stack: Stack,
                                                   teams: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    who = f"teams-{uuid.uuid4().hex[:8]}"
    topic = f"Ausbildungsplatz gesucht ({who})"
    stack.say(who, "Hallo, ich bin Schülerin")
    assert texts(stack.say(who, "Ich suche eine Ausbildung als Tischler in Eschwege"))
    start_handoff(stack, who, topic)
    handoff = teams["werra"].api.handoff_for(who)  # routed by the place to the Werra-Meißner team
    assert handoff["team"] == teams["names"]["werra"]
    assert handoff["id"] not in [h["id"] for h in teams["vogelsberg"].api.client.get("/api/v1/handoffs").json()]
    assert handoff["id"] not in [h["id"] for h in AdviserApi(stack).client.get("/api/v1/handoffs").json()]  # no team

    login(page, stack, teams["werra"])
    row = page.get_by_role("row").filter(has_text=topic)
    expect(row).to_contain_text(teams["names"]["werra"])
    row.get_by_role("link").first.click()

    # the profile card on top: values from the real conversation, each a link to its transcript line
    card = page.locator("section#profil")
    expect(card).to_contain_text("Schüler/in (du)")
    expect(card).to_contain_text("Eschwege")
    expect(card).to_contain_text("Tischler")
    expect(card.locator('[data-profile="offers"]')).to_contain_text(re.compile(r"Tischler\S* · Eschwege"))
    place = card.locator('[data-profile="place"]').get_by_role("link", name="Eschwege")
    target = place.get_attribute("href")
    assert target and re.fullmatch(r"#t-\d+", target)
    place.click()
    expect(page.locator(target)).to_contain_text("Eschwege")
    assert page.url.endswith(target)

    # transfer by keyboard: choose the other team in the select, write a note, submit with Enter
    other = f"Team {teams['names']['vogelsberg']}"
    select = page.get_by_label("An", exact=True)
    select.focus()
    for _ in range(30):
        if page.locator("#transfer-target option:checked").inner_text() == other:
            break
        page.keyboard.press("ArrowDown")
    assert page.locator("#transfer-target option:checked").inner_text() == other
    page.keyboard.press("Tab")
    page.keyboard.type("Wohnt inzwischen im Vogelsberg")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Weiterleiten")).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Eingang").wait_for()
    expect(page.get_by_role("row").filter(has_text=topic)).to_have_count(0)  # no longer hers
    response = page.goto(f"{stack.console_url}/handoffs/{handoff['id']}")
    assert response is not None and response.status == 404

    # the other team's adviser sees it, with the note
    context = browser.new_context(locale="de-DE")
    try:
        other_page = context.new_page()
        login(other_page, stack, teams["vogelsberg"])
        row = other_page.get_by_role("row").filter(has_text=topic)
        expect(row).to_contain_text(teams["names"]["vogelsberg"])
        row.get_by_role("link").first.click()
        expect(other_page.locator("#team")).to_have_text(teams["names"]["vogelsberg"])
        notes = other_page.locator("section", has=other_page.get_by_role("heading", name="Interne Notizen"))
        expect(notes).to_contain_text("Wohnt inzwischen im Vogelsberg")
        expect(other_page.locator("section#profil")).to_contain_text("Eschwege")
    finally:
        context.close()
