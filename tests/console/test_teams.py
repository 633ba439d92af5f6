"""Teams in the console: admin pages and CLI, routing when a hand-off is created, need-to-know by team, transfer
(page and API) with note and audit, profile card and team in inbox, case page and API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.console import cli
from core.db import session_scope
from handoff import service, teams
from handoff.models import Adviser, AuditEntry, Handoff, HandoffNote
from tests.console.conftest import XSS, add_adviser, add_handoff, adviser_id, csrf_of, login

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def make_team(factory: sessionmaker[Session], name: str, region: list[str] | None = None,
              topics: list[str] | None = None, members: list[str] = (), fallback: bool = False) -> int:
    with session_scope(factory) as s:
        team = teams.save_team(s, None, name=name, region=region or [], topics=topics or [], is_fallback=fallback)
        teams.set_members(s, team, list(s.scalars(select(Adviser).where(Adviser.username.in_(members)))))
        return team.id


def team_of(factory: sessionmaker[Session], handoff_id: int) -> int | None:
    with session_scope(factory) as s:
        return s.get(Handoff, handoff_id).team_id  # type: ignore[union-attr]


def audit_rows(factory: sessionmaker[Session], handoff_id: int) -> list[tuple[str, str]]:
    with session_scope(factory) as s:
        return [(a.action, a.detail) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.handoff_id == handoff_id).order_by(AuditEntry.id))]


def setup_two_teams(factory: sessionmaker[Session]) -> tuple[int, int]:
    add_adviser(factory, "anna", display_name="Anna Nord")
    add_adviser(factory, "bernd", display_name="Bernd Süd")
    nord = make_team(factory, "Nordhessen", ["kassel-stadt", "kassel-kreis"], members=["anna"])
    sued = make_team(factory, "Frankfurt", ["frankfurt"], ["teilzeit", "allgemein"], members=["bernd"])
    return nord, sued


def test_new_handoff_is_routed_by_place_and_audited(factory: sessionmaker[Session]) -> None:
    nord, sued = setup_two_teams(factory)
    fallback = make_team(factory, "Zentrale", fallback=True)
    kassel = add_handoff(factory, "c-kassel")  # the fixture's summary says place Kassel
    frankfurt = add_handoff(factory, "c-ffm", summary={"place": None, "profile": {
        "place": [{"value": "Frankfurt am Main", "label": "Frankfurt am Main", "line": 0}]}})
    nowhere = add_handoff(factory, "c-berlin", summary={"place": "Berlin"})
    assert (team_of(factory, kassel), team_of(factory, frankfurt), team_of(factory, nowhere)) == (nord, sued, fallback)
    assert audit_rows(factory, kassel) == [("route", f"Team #{nord}: Region passt, Thema allgemein")]


def test_without_teams_nothing_changes(factory: sessionmaker[Session], adviser_client: TestClient) -> None:
    hid = add_handoff(factory, "c-1")
    assert team_of(factory, hid) is None and audit_rows(factory, hid) == []
    assert f"Übergabe #{hid}" in adviser_client.get("/").text


def test_need_to_know_by_team(client: TestClient, factory: sessionmaker[Session]) -> None:
    nord, sued = setup_two_teams(factory)
    add_adviser(factory, "carla", display_name="Carla ohne Team")
    kassel = add_handoff(factory, "c-kassel")
    ffm = add_handoff(factory, "c-ffm", summary={"place": "Frankfurt"})
    no_team = add_handoff(factory, "c-none", summary={"place": "Berlin"})  # no fallback team: no team
    colleague = add_handoff(factory, "c-col", summary={"place": "Kassel"}, status="assigned", assigned_to="anna")

    with session_scope(factory) as s:
        by_name = {a.username: a for a in s.scalars(select(Adviser))}
        visible = {name: {h.id for h in service.list_handoffs(s, viewer=by_name[name])}
                   for name in ("anna", "bernd", "carla")}
        for name, ids in visible.items():  # the SQL rule and can_see agree
            for hid in (kassel, ffm, no_team, colleague):
                assert service.can_see(by_name[name], s.get(Handoff, hid)) == (hid in ids), (name, hid)
    assert visible["anna"] == {kassel, no_team, colleague}
    assert visible["bernd"] == {ffm, no_team}
    assert visible["carla"] == {no_team}

    assert login(client, "bernd").status_code == 303
    assert client.get(f"/handoffs/{kassel}").status_code == 404
    assert client.get(f"/handoffs/{ffm}").status_code == 200
    inbox = client.get("/").text
    assert "Frankfurt" in inbox and f"Übergabe #{kassel}" not in inbox


def test_team_members_share_a_colleagues_case_but_not_after_it_left_the_team(
        client: TestClient, factory: sessionmaker[Session]) -> None:
    nord, _ = setup_two_teams(factory)
    add_adviser(factory, "dora", display_name="Dora Nord")
    with session_scope(factory) as s:
        teams.add_member(s, s.get(teams.Team, nord), s.scalars(select(Adviser).filter_by(username="dora")).one())
    hid = add_handoff(factory, "c-kassel", status="assigned", assigned_to="anna")
    assert login(client, "dora").status_code == 303
    assert client.get(f"/handoffs/{hid}").status_code == 200


def test_transfer_to_another_team_on_the_page(client: TestClient, factory: sessionmaker[Session]) -> None:
    nord, sued = setup_two_teams(factory)
    hid = add_handoff(factory, "c-kassel")
    assert login(client, "anna").status_code == 303
    page = client.get(f"/handoffs/{hid}").text
    assert f'value="team:{sued}"' in page and f'value="team:{nord}"' not in page  # not to its own team
    token = csrf_of(client, f"/handoffs/{hid}")
    response = client.post(f"/handoffs/{hid}/transfer", data={
        "csrf_token": token, "target": f"team:{sued}", "note": f"Sie zieht nach Frankfurt {XSS}"},
        follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/?")  # no longer hers
    assert client.get(f"/handoffs/{hid}").status_code == 404
    assert team_of(factory, hid) == sued
    assert audit_rows(factory, hid)[-1] == ("transfer", f"an Team #{sued}")  # no note text in the audit log
    with session_scope(factory) as s:
        [note] = s.scalars(select(HandoffNote).where(HandoffNote.handoff_id == hid)).all()
        assert note.text == f"Weitergeleitet an Team Frankfurt: Sie zieht nach Frankfurt {XSS}"
        assert s.get(Handoff, hid).status == "waiting"  # type: ignore[union-attr]

    client.cookies.clear()
    assert login(client, "bernd").status_code == 303
    page = client.get(f"/handoffs/{hid}").text
    assert ESCAPED in page and XSS not in page and 'id="team">Frankfurt<' in page


def test_transfer_to_a_colleague_keeps_it_visible_to_them_only(
        client: TestClient, factory: sessionmaker[Session]) -> None:
    setup_two_teams(factory)
    hid = add_handoff(factory, "c-kassel")
    assert login(client, "anna").status_code == 303
    token = csrf_of(client, f"/handoffs/{hid}")
    bernd = adviser_id(factory, "bernd")
    response = client.post(f"/handoffs/{hid}/transfer", data={"csrf_token": token, "target": f"adviser:{bernd}"},
                           follow_redirects=False)
    assert response.status_code == 303
    with session_scope(factory) as s:
        h = s.get(Handoff, hid)
        assert h is not None and h.assigned_to == bernd and h.status == "assigned"
        assert h.team is not None and h.team.name == "Frankfurt"  # his team, since he is not in Nordhessen
    assert client.get(f"/handoffs/{hid}").status_code == 404


def test_transfer_refusals(client: TestClient, factory: sessionmaker[Session]) -> None:
    nord, sued = setup_two_teams(factory)
    hid = add_handoff(factory, "c-kassel")
    theirs = add_handoff(factory, "c-ffm", summary={"place": "Frankfurt"})
    closed = add_handoff(factory, "c-closed", status="closed", assigned_to="anna")
    assert login(client, "anna").status_code == 303
    token = csrf_of(client, f"/handoffs/{hid}")

    def post(handoff_id: int, target: str, csrf: str = token) -> int:
        return client.post(f"/handoffs/{handoff_id}/transfer", data={"csrf_token": csrf, "target": target},
                           follow_redirects=False).status_code

    assert post(hid, f"team:{sued}", csrf="falsch") == 403
    assert post(hid, "team:99999") == 404
    assert post(hid, "nobody:1") == 422
    assert post(hid, "team:") == 422
    assert post(theirs, f"team:{nord}") == 404  # not hers to see
    assert post(closed, f"team:{sued}") == 409
    assert team_of(factory, hid) == nord


def test_transfer_api(client: TestClient, factory: sessionmaker[Session]) -> None:
    nord, sued = setup_two_teams(factory)
    hid = add_handoff(factory, "c-kassel")
    from channels.console import accounts
    with session_scope(factory) as s:
        token = accounts.issue_token(s, "anna")
    auth = {"Authorization": f"Bearer {token}"}
    detail = client.get(f"/api/v1/handoffs/{hid}", headers=auth).json()
    assert detail["team"] == "Nordhessen"
    assert client.post(f"/api/v1/handoffs/{hid}/transfer", json={"note": "x"}, headers=auth).status_code == 422
    assert client.post(f"/api/v1/handoffs/{hid}/transfer", json={"team_id": sued, "adviser_id": 1},
                       headers=auth).status_code == 422
    assert client.post(f"/api/v1/handoffs/{hid}/transfer", json={"team_id": sued}).status_code == 401
    response = client.post(f"/api/v1/handoffs/{hid}/transfer", json={"team_id": sued, "note": "Bitte übernehmen"},
                           headers=auth)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": hid, "status": "waiting", "assigned_to": None, "team": "Frankfurt",
                               "visible_to_you": False}
    assert client.get(f"/api/v1/handoffs/{hid}", headers=auth).status_code == 404
    assert client.post(f"/api/v1/handoffs/{hid}/transfer", json={"team_id": nord}, headers=auth).status_code == 404
    assert audit_rows(factory, hid)[-1] == ("transfer", f"an Team #{sued}")


def test_profile_card_links_into_the_transcript(adviser_client: TestClient, factory: sessionmaker[Session]) -> None:
    hid = add_handoff(factory, "c-1", summary={"persona": "parent", "profile": {
        "persona": [{"value": "parent", "label": "Elternteil (Sie)", "line": 0}],
        "occupations": [{"value": "Tischler", "label": XSS, "line": 1}],
        "age": [{"value": "16", "label": "16 Jahre", "line": None}],
    }})
    page = adviser_client.get(f"/handoffs/{hid}").text
    card = page[page.index('id="profil"'):page.index('id="summary-heading"')]
    assert '<a href="#t-0"' in card and "Elternteil (Sie)" in card
    assert '<a href="#t-1"' in card and ESCAPED in card and XSS not in page
    assert "16 Jahre" in card and "Teilzeit" not in card
    assert 'id="t-0"' in page and 'id="t-1"' in page
    assert "{&#39;persona&#39;" not in page  # the raw profile is not dumped into the summary table
    detail = adviser_client.get(f"/handoffs/{hid}/export.json").json()
    assert detail["summary"]["profile"]["age"][0]["value"] == "16"


def test_admin_creates_and_edits_a_team(admin_client: TestClient, factory: sessionmaker[Session]) -> None:
    add_adviser(factory, "anna", display_name="Anna Nord")
    anna = adviser_id(factory, "anna")
    token = csrf_of(admin_client, "/teams")
    data = {"csrf_token": token, "name": "  Team   Nord ", "email": "nord@example.org",
            "region": ["kassel-stadt", "fulda"], "topics": ["teilzeit"], "members": [str(anna)]}
    response = admin_client.post("/teams", data=data, follow_redirects=False)
    assert response.status_code == 303
    page = admin_client.get(response.headers["location"]).text
    assert "Das Team wurde angelegt." in page and 'value="Team Nord"' in page
    assert 'value="fulda" checked' in page and 'value="teilzeit" checked' in page
    assert f'value="{anna}" checked' in page
    listing = admin_client.get("/teams").text
    assert "Kassel, Landkreis Fulda" in listing and "Anna Nord" in listing and "Teilzeitausbildung" in listing

    with session_scope(factory) as s:
        team = teams.team_by_name(s, "Team Nord")
        assert team is not None and team.email == "nord@example.org"
        team_id = team.id
    token = csrf_of(admin_client, f"/teams/{team_id}")
    assert admin_client.post(f"/teams/{team_id}", data={"csrf_token": token, "name": "Team Nord",
                                                       "is_fallback": "1"}, follow_redirects=False).status_code == 303
    with session_scope(factory) as s:
        team = s.get(teams.Team, team_id)
        assert team is not None and team.region == [] and team.members == [] and team.is_fallback

    bad = admin_client.post("/teams", data={"csrf_token": token, "name": XSS, "region": ["mars"]})
    assert bad.status_code == 422 and "Unbekannte Kreise: mars" in bad.text and ESCAPED in bad.text
    dup = admin_client.post("/teams", data={"csrf_token": token, "name": "Team Nord"})
    assert dup.status_code == 422 and "gibt es schon" in dup.text
    mail = admin_client.post("/teams", data={"csrf_token": token, "name": "X", "email": "kein-mail"})
    assert mail.status_code == 422 and "E-Mail-Adresse ist ungültig" in mail.text
    assert admin_client.post("/teams", data={"name": "Ohne CSRF"}).status_code == 403
    assert admin_client.get("/teams/99999").status_code == 404


def test_only_admins_manage_teams(adviser_client: TestClient) -> None:
    assert adviser_client.get("/teams").status_code == 403
    token = csrf_of(adviser_client, "/")
    assert adviser_client.post("/teams", data={"csrf_token": token, "name": "X"}).status_code == 403


def test_only_one_fallback_team(factory: sessionmaker[Session]) -> None:
    first = make_team(factory, "Eins", fallback=True)
    second = make_team(factory, "Zwei", fallback=True)
    with session_scope(factory) as s:
        assert [t.id for t in teams.list_teams(s) if t.is_fallback] == [second] != [first]


def test_cli_create_team_and_add_member(db_url: str, factory: sessionmaker[Session],
                                        capsys: object) -> None:
    add_adviser(factory, "anna")
    assert cli.main(["--database-url", db_url, "create-team", "Mittelhessen", "--region", "giessen",
                     "--region", "lahn-dill-kreis", "--topic", "sprache", "--email", "mitte@example.org"]) == 0
    assert cli.main(["--database-url", db_url, "add-member", "Mittelhessen", "anna"]) == 0
    assert cli.main(["--database-url", db_url, "add-member", "Mittelhessen", "niemand"]) == 1
    assert cli.main(["--database-url", db_url, "create-team", "Mittelhessen"]) == 1
    assert cli.main(["--database-url", db_url, "create-team", "Mars", "--region", "mars"]) == 1
    with session_scope(factory) as s:
        team = teams.team_by_name(s, "Mittelhessen")
        assert team is not None and team.region == ["giessen", "lahn-dill-kreis"] and team.topics == ["sprache"]
        assert [m.username for m in team.members] == ["anna"]
        assert teams.team_by_name(s, "Mars") is None
