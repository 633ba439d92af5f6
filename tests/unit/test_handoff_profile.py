"""The profile card extracted from the tracker (actions/handoff_profile.py via handoff_actions.summary)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rasa_sdk import Tracker

from actions.handoff_actions import summary, transcript
from actions.handoff_profile import age_in, mentions_language
from handoff.routing import TeamRule, route

T0 = 1_795_000_000.0


def user(text: str, intent: str, *entities: tuple[str, str]) -> dict[str, Any]:
    return {"event": "user", "text": text, "timestamp": T0, "parse_data": {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [{"entity": e, "value": v} for e, v in entities]}}


def bot(text: str, response: str | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": text, "timestamp": T0, "data": {},
            "metadata": {"utter_action": response} if response else {}}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value, "timestamp": T0}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name, "timestamp": T0}


PARENT_CONVERSATION = [
    action("action_session_start"),
    action("action_listen"),
    user("Hallo, ich bin Mutter", "inform_parent", ("persona", "parent")),                         # line 0
    action("action_set_persona"), slot("persona", "parent"),
    bot("Guten Tag! Wie kann ich Ihnen helfen?"),                                                  # line 1
    user("Mein Sohn ist 16 und hat einen Hauptschulabschluss", "ask_career_orientation",
         ("school_qualification", "hauptschulabschluss")),                                       # line 2
    bot("Mit Hauptschulabschluss …"),                                                              # line 3
    user("Er spricht noch nicht so gut Deutsch", "ask_support_special_needs"),                    # line 4
    bot("Es gibt Deutschkurse …"),                                                                 # line 5
    user("Geht Tischler auch in Teilzeit?", "ask_parttime", ("occupation", "Tischler")),          # line 6
    slot("occupation", "Tischler/-in"),
    bot("Ja, Teilzeitausbildung …"),                                                               # line 7
    user("Gibt es BAB in Kassel?", "ask_funding", ("funding_program", "bab"), ("location", "Kassel")),  # line 8
    action("action_answer_funding"), bot("Berufsausbildungsbeihilfe …"), slot("funding_program", "bab"),  # line 9
    user("Zeig mir Ausbildungsplätze als Tischler in Kassel", "search_offers",
         ("occupation", "Tischler"), ("location", "Kassel")),                                     # line 10
    slot("search_occupation", "Tischler/-in"), slot("search_place", "Kassel"),
    action("action_search_offers"),
    bot("Ich habe 12 Angebote gefunden …", "utter_offer_results"),                                 # line 11
    slot("search_parttime", False),
    user("/request_human", "request_human"),                                                       # line 12
]


def tracker(events: list[dict[str, Any]], **slots: Any) -> Tracker:
    return Tracker(sender_id="p-1", slots=slots, latest_message={}, events=events, paused=False,
                   followup_action=None, active_loop={}, latest_action_name=None)


def card(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = summary(tracker(events), "request", None)["profile"]
    return result


def values(result: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    return {key: [(item["value"], item["line"]) for item in items] for key, items in result.items()}


def test_profile_of_a_parent_conversation_with_lines() -> None:
    result = card(PARENT_CONVERSATION)
    assert values(result) == {
        "persona": [("parent", 0)],
        "school": [("hauptschulabschluss", 2)],
        "age": [("16", 2)],
        "place": [("Kassel", 10)],
        "occupations": [("Tischler", 6), ("Tischler/-in", 6)],
        "parttime": [("ja", 6)],
        "language": [("ja", 4)],
        "funding": [("bab", 8)],
        "offers": [("Tischler/-in|Kassel", 11)],
    }
    assert result["persona"][0]["label"] == "Elternteil (Sie)"
    assert result["school"][0]["label"] == "Hauptschulabschluss"
    assert result["funding"][0]["label"] == "Berufsausbildungsbeihilfe (BAB)"
    assert result["offers"][0]["label"] == "Tischler/-in · Kassel"
    lines = transcript(PARENT_CONVERSATION)  # every line number points at the message it came from
    assert lines[2]["text"].startswith("Mein Sohn ist 16") and lines[11]["text"].startswith("Ich habe 12")


def test_profile_routes_the_case() -> None:
    teams = [TeamRule(1, "Nord", frozenset({"kassel-stadt"})), TeamRule(2, "Teilzeit Nord", frozenset({"kassel-stadt"}),
                                                                       frozenset({"teilzeit"}))]
    assert route(summary(tracker(PARENT_CONVERSATION), "request", None), teams).team_id == 2


def test_student_persona_from_the_slot_and_search_place_slot() -> None:
    events = [user("ich bin schüler", "inform_student"), slot("persona", "student"), bot("Hi!"),
              user("Frankfurt am Main", "inform_location"), slot("search_place", "Frankfurt am Main")]
    assert values(card(events)) == {"persona": [("student", 0)], "place": [("Frankfurt am Main", 2)]}


def test_nothing_revealed_gives_an_empty_card() -> None:
    assert card([]) == {}
    assert card([user("Hallo", "greet"), bot("Hallo!"), user("/request_human", "request_human")]) == {}


def test_free_text_never_becomes_a_value() -> None:
    secret = "<script>alert(1)</script> meine Adresse ist Musterweg 1"
    result = card([user(secret, "ask_support_special_needs"), user(secret, "nlu_fallback")])
    assert secret not in str(result)
    assert "Musterweg" not in str(result)


def test_long_values_are_cut_and_lists_bounded() -> None:
    events = [user("x", "inform_occupation", ("occupation", f"Beruf {i} " + "y" * 200)) for i in range(20)]
    result = card(events)
    assert len(result["occupations"]) == 8
    assert all(len(item["value"]) <= 80 for item in result["occupations"])


def test_lines_follow_the_transcript_when_it_is_cut() -> None:
    events = [bot(f"Nachricht {i}") for i in range(250)] + [user("Ich bin 17 Jahre alt", "inform_student")]
    result = card(events)
    assert result["age"] == [{"value": "17", "label": "17 Jahre", "line": 199}]  # the transcript keeps 200 lines
    assert transcript(events)[199]["text"] == "Ich bin 17 Jahre alt"


@pytest.mark.parametrize(("text", "age"), [
    ("Ich bin 17 Jahre alt", "17"), ("bin 16", "16"), ("meine Tochter ist 15", "15"), ("19 J.", "19"),
    ("Ich habe 2 Kinder", None), ("seit 1999", None), ("Ich bin 5", None), ("PLZ 34117", None), ("", None),
])
def test_age(text: str, age: str | None) -> None:
    assert age_in(text) == age


def test_language_words() -> None:
    assert mentions_language("mein Deutsch ist nicht so gut")
    assert not mentions_language("Ich habe eine Behinderung")


@pytest.mark.parametrize("text", ["1" * 40_000, "bin " * 10_000, "16 " * 13_000, "ä" * 40_000])
def test_age_and_language_are_fast_on_hostile_input(text: str) -> None:
    start = time.perf_counter()
    age_in(text)
    mentions_language(text)
    assert time.perf_counter() - start < 0.5
