"""Which team a new hand-off goes to, from the place and topics in its summary. Pure: no database, no clock.

Rules (``route``):
- The place is resolved to Hessian districts (``handoff/regions.py``): the profile's place, else the summary's.
- Topics come from the profile (part-time need, funding, language difficulties), the detected intents and the
  topic slots (``topics_of``); ``allgemein`` is always one of them.
- A crisis (topic ``krise``) goes first to a team with the topic ``krise`` whose region fits (its districts, or a
  team for all of Hessen, i.e. without districts).
- Otherwise every team whose region fits scores: region 2 (the district is one of its districts) or 1 (team for
  all of Hessen); topic 2 (one of its topics is one of the case's, other than ``allgemein``) or 1 (the team takes
  ``allgemein`` or has no topics); a team with topic score 0 does not take the case. Highest sum wins; ties go to
  the better topic match, then the smaller region, then the older team (smaller id).
- No other team fits: the fallback team (it takes part in nothing else); no fallback team: no team (every adviser may take it, as before teams).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from handoff.regions import Regions, regions

GENERAL = "allgemein"
CRISIS = "krise"
INTENT_TOPICS = {
    "ask_parttime": "teilzeit",
    "request_parttime_only": "teilzeit",
    "ask_funding": "foerderung",
    "ask_abroad": "ausland",
    "crisis": CRISIS,
}
SLOT_TOPICS = {  # values of the ``topic`` slot (article topics) that are routing topics
    "teilzeit": "teilzeit",
    "ausland": "ausland",
    "krise": CRISIS,
}
ABROAD_PROGRAMS = {"erasmus", "ausbildung_weltweit"}


@dataclass(frozen=True)
class TeamRule:
    """What routing needs to know of a team."""

    id: int
    name: str
    region: frozenset[str] = frozenset()  # district keys; empty: all of Hessen
    topics: frozenset[str] = frozenset()  # empty: allgemein
    is_fallback: bool = False


@dataclass(frozen=True)
class Route:
    team_id: int | None
    districts: tuple[str, ...]
    topics: tuple[str, ...]
    why: str  # short German reason for the audit log (no user text)


def _profile_values(summary: Mapping[str, Any], key: str) -> list[str]:
    """The values of one profile entry (``actions/handoff_profile.py``: a list of {value, label, line})."""
    profile = summary.get("profile")
    items = profile.get(key) if isinstance(profile, dict) else None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return []
    return [str(i["value"]) for i in items if isinstance(i, dict) and i.get("value") not in (None, "")]


def place_of(summary: Mapping[str, Any]) -> str | None:
    places = _profile_values(summary, "place")
    place = places[-1] if places else summary.get("place")
    return str(place)[:200] if place else None


def topics_of(summary: Mapping[str, Any]) -> tuple[str, ...]:
    found = {GENERAL}
    if _profile_values(summary, "parttime"):
        found.add("teilzeit")
    if _profile_values(summary, "language"):
        found.add("sprache")
    funding = _profile_values(summary, "funding")
    slots = summary.get("slots")
    slots = slots if isinstance(slots, dict) else {}
    if slots.get("funding_program"):
        funding = [*funding, str(slots["funding_program"])]
    if funding:
        found.add("foerderung")
    if any(str(p) in ABROAD_PROGRAMS for p in funding):
        found.add("ausland")
    intents = summary.get("intents")
    for intent in intents if isinstance(intents, list) else []:
        if isinstance(intent, str) and intent in INTENT_TOPICS:
            found.add(INTENT_TOPICS[intent])
    if str(slots.get("topic") or "") in SLOT_TOPICS:
        found.add(SLOT_TOPICS[str(slots["topic"])])
    if slots.get("search_parttime") is True:
        found.add("teilzeit")
    order = ("krise", "teilzeit", "foerderung", "ausland", "sprache", GENERAL)
    return tuple(t for t in order if t in found)


def _region_score(team: TeamRule, districts: tuple[str, ...]) -> int:
    if not team.region:
        return 1
    return 2 if team.region.intersection(districts) else 0


def _topic_score(team: TeamRule, topics: tuple[str, ...]) -> int:
    specific = set(topics) - {GENERAL}
    if team.topics & specific:
        return 2
    return 1 if not team.topics or GENERAL in team.topics else 0


def route(summary: Mapping[str, Any], teams: Iterable[TeamRule], known: Regions | None = None) -> Route:
    teams = list(teams)
    districts = (known or regions()).resolve(place_of(summary))
    topics = topics_of(summary)
    if not teams:
        return Route(None, districts, topics, "keine Teams angelegt")
    if CRISIS in topics:
        crisis = [t for t in teams if CRISIS in t.topics and _region_score(t, districts)]
        if crisis:
            best = max(crisis, key=lambda t: (_region_score(t, districts), -len(t.region or ()), -t.id))
            return Route(best.id, districts, topics, "Krise")
    scored = []
    for team in teams:
        if team.is_fallback:
            continue
        region, topic = _region_score(team, districts), _topic_score(team, topics)
        if region and topic:
            scored.append(((region + topic, topic, -len(team.region) if team.region else -999, -team.id), team))
    if scored:
        key, best = max(scored, key=lambda pair: pair[0])
        return Route(best.id, districts, topics, f"Region {'passt' if key[0] - key[1] == 2 else 'ganz Hessen'}, "
                                                 f"Thema {'passt' if key[1] == 2 else 'allgemein'}")
    fallback = next((t for t in sorted(teams, key=lambda t: t.id) if t.is_fallback), None)
    if fallback is not None:
        return Route(fallback.id, districts, topics, "Auffangteam" + ("" if districts else " (Ort unbekannt)"))
    return Route(None, districts, topics, "kein passendes Team, kein Auffangteam")


def rules_of(teams: Iterable[Any]) -> list[TeamRule]:
    """``TeamRule`` of ``handoff.teams.Team`` rows."""
    return [TeamRule(id=t.id, name=t.name, region=frozenset(t.region or ()), topics=frozenset(t.topics or ()),
                     is_fallback=bool(t.is_fallback)) for t in teams]
