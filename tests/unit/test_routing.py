"""Routing of hand-offs to teams (handoff/routing.py) and the Hessian districts it resolves places to."""

from __future__ import annotations

import pytest

from handoff.regions import regions
from handoff.routing import TeamRule, place_of, route, topics_of

FRANKFURT = TeamRule(1, "Frankfurt", frozenset({"frankfurt"}))
KASSEL = TeamRule(2, "Nordhessen", frozenset({"kassel-stadt", "kassel-kreis", "fulda"}))
TEILZEIT = TeamRule(3, "Teilzeit Hessen", frozenset(), frozenset({"teilzeit"}))
KRISE = TeamRule(4, "Krisenteam", frozenset(), frozenset({"krise"}))
FALLBACK = TeamRule(5, "Zentrale", frozenset(), frozenset({"allgemein"}), is_fallback=True)
SUED_TEILZEIT = TeamRule(6, "Teilzeit Süd", frozenset({"frankfurt", "offenbach-stadt"}), frozenset({"teilzeit"}))


def summary(where: str | None = None, intents: list[str] | None = None, **profile: list[str]) -> dict:
    return {"place": where, "intents": intents or [],
            "profile": {k: [{"value": v, "label": v, "line": 0} for v in vs] for k, vs in profile.items()}}


@pytest.mark.parametrize(("text", "expected"), [
    ("Frankfurt am Main", ("frankfurt",)),
    ("frankfurt", ("frankfurt",)),
    ("FFM", ("frankfurt",)),
    ("Frankfurt-Höchst", ("frankfurt",)),
    ("60311", ("frankfurt",)),
    ("64283 Darmstadt", ("darmstadt",)),
    ("Gießen", ("giessen",)),
    ("giessen", ("giessen",)),
    ("GIESSEN", ("giessen",)),
    ("Kassel", ("kassel-stadt",)),
    ("Landkreis Kassel", ("kassel-kreis",)),
    ("Bad Homburg", ("hochtaunuskreis",)),
    ("Königstein im Taunus", ("hochtaunuskreis",)),
    ("Offenbach am Main", ("offenbach-stadt",)),
    ("Kreis Offenbach", ("offenbach-kreis",)),
    ("Marburg an der Lahn", ("marburg-biedenkopf",)),
    ("Büdingen", ("wetteraukreis",)),
    ("Werra-Meißner-Kreis", ("werra-meissner-kreis",)),
    ("Werra-Meissner", ("werra-meissner-kreis",)),
    ("ich wohne in der Nähe von Fulda", ("fulda",)),
])
def test_places_resolve_to_their_district(text: str, expected: tuple[str, ...]) -> None:
    assert regions().resolve(text) == expected


@pytest.mark.parametrize("text", ["", None, "Berlin", "10115", "München 80331", "irgendwo", "x" * 5000, "<script>"])
def test_unknown_places_resolve_to_nothing(text: str | None) -> None:
    assert regions().resolve(text) == ()


def test_ambiguous_place_names_give_every_district() -> None:
    assert set(regions().resolve("Reichelsheim")) == {"odenwaldkreis", "wetteraukreis"}
    assert set(regions().resolve("Nordhessen")) >= {"kassel-stadt", "fulda", "werra-meissner-kreis"}


def test_the_26_districts_in_three_regierungsbezirke() -> None:
    known = regions()
    assert len(known.districts) == 26
    assert [len(ds) for _, ds in known.grouped()] == [14, 5, 7]
    assert len({d.code for d in known.districts}) == 26


def test_topics_from_profile_intents_and_slots() -> None:
    assert topics_of({}) == ("allgemein",)
    assert topics_of(summary(parttime=["ja"])) == ("teilzeit", "allgemein")
    assert topics_of(summary(funding=["bab"], language=["ja"])) == ("foerderung", "sprache", "allgemein")
    assert topics_of(summary(funding=["erasmus"])) == ("foerderung", "ausland", "allgemein")
    assert topics_of(summary(intents=["greet", "crisis"])) == ("krise", "allgemein")
    assert topics_of({"slots": {"topic": "ausland", "search_parttime": True}}) == ("teilzeit", "ausland", "allgemein")
    assert topics_of({"intents": "kaputt", "profile": "kaputt", "slots": []}) == ("allgemein",)  # odd shapes


def test_place_prefers_the_profile() -> None:
    assert place_of(summary("Kassel", place=["Frankfurt am Main"])) == "Frankfurt am Main"
    assert place_of(summary("Kassel")) == "Kassel"
    assert place_of(summary()) is None


def test_no_teams_no_route() -> None:
    assert route(summary("Kassel"), []).team_id is None


def test_region_match_wins() -> None:
    teams = [FRANKFURT, KASSEL, FALLBACK]
    assert route(summary("Frankfurt am Main"), teams).team_id == 1
    assert route(summary("60311"), teams).team_id == 1
    assert route(summary("Fulda"), teams).team_id == 2
    assert route(summary(place=["Landkreis Kassel"]), teams).team_id == 2


def test_unknown_or_missing_place_goes_to_the_fallback() -> None:
    teams = [FRANKFURT, KASSEL, FALLBACK]
    decision = route(summary("Berlin"), teams)
    assert decision.team_id == 5 and decision.districts == () and "Auffangteam" in decision.why
    assert route(summary(None), teams).team_id == 5
    assert route(summary("Wiesbaden"), [FRANKFURT, KASSEL]).team_id is None  # no fallback: nobody's in particular


def test_topic_specialist_beats_regional_generalist_and_regional_specialist_beats_both() -> None:
    parttime = summary("Frankfurt", parttime=["ja"])
    assert route(parttime, [FRANKFURT, TEILZEIT, FALLBACK]).team_id == 3
    assert route(parttime, [FRANKFURT, TEILZEIT, SUED_TEILZEIT, FALLBACK]).team_id == 6
    assert route(summary("Frankfurt"), [FRANKFURT, TEILZEIT, SUED_TEILZEIT]).team_id == 1  # no part-time need
    assert route(summary("Kassel", parttime=["ja"]), [SUED_TEILZEIT, KASSEL]).team_id == 2


def test_crisis_goes_first_to_a_crisis_team() -> None:
    crisis = summary("Kassel", intents=["crisis"])
    assert route(crisis, [KASSEL, KRISE, FALLBACK]).team_id == 4
    assert route(crisis, [KASSEL, FALLBACK]).team_id == 2  # no crisis team: the regional one
    regional_crisis = TeamRule(7, "Krise Nord", frozenset({"kassel-stadt"}), frozenset({"krise"}))
    assert route(crisis, [KRISE, regional_crisis]).team_id == 7
    assert route(summary("Frankfurt", intents=["crisis"]), [KRISE, regional_crisis]).team_id == 4


def test_several_matching_teams_tie_break_on_smaller_region_then_older_team() -> None:
    small = TeamRule(10, "Nur Stadt", frozenset({"frankfurt"}))
    wide = TeamRule(9, "Süd", frozenset({"frankfurt", "offenbach-stadt", "wiesbaden"}))
    assert route(summary("Frankfurt"), [wide, small]).team_id == 10
    twin = TeamRule(11, "Auch Stadt", frozenset({"frankfurt"}))
    assert route(summary("Frankfurt"), [twin, small]).team_id == 10


def test_a_team_without_the_topic_and_without_allgemein_does_not_take_other_cases() -> None:
    abroad = TeamRule(12, "Ausland Frankfurt", frozenset({"frankfurt"}), frozenset({"ausland"}))
    assert route(summary("Frankfurt"), [abroad, FALLBACK]).team_id == 5
    assert route(summary("Frankfurt", intents=["ask_abroad"]), [abroad, FALLBACK]).team_id == 12


def test_ambiguous_place_matches_a_team_of_either_district() -> None:
    wetterau = TeamRule(13, "Wetterau", frozenset({"wetteraukreis"}))
    assert route(summary("Reichelsheim"), [FRANKFURT, wetterau, FALLBACK]).team_id == 13


@pytest.mark.parametrize("text", ["1" * 40_000, "Bad " * 10_000, "a-" * 20_000, "(" * 40_000, "ä" * 40_000])
def test_place_resolution_is_fast_on_hostile_input(text: str) -> None:
    import time

    start = time.perf_counter()
    regions().resolve(text)
    assert time.perf_counter() - start < 0.5
