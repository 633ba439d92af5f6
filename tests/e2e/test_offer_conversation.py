"""End-to-end offer search: real Rasa server + action server over REST, on the small demo offer set."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.conftest import texts
from tests.servers import Stack

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"offers-{uuid.uuid4().hex[:8]}"


def buttons(messages: list[dict]) -> dict[str, str]:
    return {b["title"]: b["payload"] for m in messages for b in m.get("buttons", [])}


def numbered(reply: str) -> list[str]:
    return re.findall(r"^\d+\. .+$", reply, flags=re.MULTILINE)


def test_search_in_one_message_lists_offers_with_buttons(stack: Stack) -> None:
    messages = stack.say(sender(), "Gibt es Ausbildungsplätze als Tischler in Kassel?")
    reply = texts(messages)
    assert "Tischler/-in" in reply and "um Kassel" in reply, reply
    lines = numbered(reply)
    assert 3 <= len(lines) <= 5, reply
    assert all("km)" in line and "Beginn" in line for line in lines), reply
    assert "Demo-Angebote" in reply  # demo offers are labelled as such
    assert {"Nur Teilzeit", "Umkreis vergrößern", "Beratung dazu"} <= set(buttons(messages)), buttons(messages)


def test_follow_ups_keep_the_context(stack: Stack) -> None:
    who = sender()
    assert "um Kassel" in texts(stack.say(who, "Gibt es Ausbildungsplätze als Tischler in Kassel?"))
    reply = texts(stack.say(who, "und in Marburg?"))
    assert "Tischler/-in" in reply and "um Marburg" in reply, reply
    reply = texts(stack.say(who, "gibt's das auch in Teilzeit?"))
    assert "in Teilzeit" in reply and "Marburg" in reply, reply
    for line in numbered(reply):
        assert "Teilzeit möglich" in line, reply
    reply = texts(stack.say(who, "und als Koch?"))
    assert "Koch" in reply and "Marburg" in reply, reply


def test_more_results_pages_on(stack: Stack) -> None:
    who = sender()
    first = stack.say(who, "Ausbildung als Kaufmann im Einzelhandel in Frankfurt")
    assert "Mehr anzeigen" in buttons(first), texts(first)
    reply = texts(stack.say(who, buttons(first)["Mehr anzeigen"]))
    assert "hier sind 5 bis 8" in reply, reply
    assert not set(numbered(reply)) & set(numbered(texts(first)))


def test_form_asks_for_what_is_missing_and_accepts_skip(stack: Stack) -> None:
    who = sender()
    reply = texts(stack.say(who, "Zeig mir freie Stellen"))
    assert "Beruf" in reply, reply
    reply = texts(stack.say(who, "egal"))
    assert "Wo suchst du" in reply, reply
    reply = texts(stack.say(who, "Darmstadt"))
    assert "Darmstadt" in reply and numbered(reply), reply


@pytest.mark.parametrize(("message", "what", "where"), [
    ("Praktikum in Darmstadt", "(nur Praktikum)", "um Darmstadt"),
    ("Duales Studium in Darmstadt", "(nur Duales Studium)", "um Darmstadt"),
    ("Teilzeitausbildung in Wiesbaden", "in Teilzeit", "um Wiesbaden"),
    ("Ausbildungsplätze in der Nähe von 35390", "Angebote", "35390 Gießen"),
])
def test_type_and_place_are_enough_to_search(stack: Stack, message: str, what: str, where: str) -> None:
    """Issue 11 §5: results at once, no question for an occupation first, and buttons to narrow by occupation."""
    who = sender()
    messages = stack.say(who, message)
    reply = texts(messages)
    assert "Für welchen Beruf" not in reply, reply
    assert what in reply and where in reply and numbered(reply), reply
    narrow = {t: p for t, p in buttons(messages).items() if p.startswith("/inform_occupation")}
    assert narrow, buttons(messages)
    title, payload = next(iter(narrow.items()))
    occupation = title.rsplit(" (", 1)[0]
    reply = texts(stack.say(who, payload))
    assert occupation in reply and where in reply and numbered(reply), reply


def test_parttime_training_lists_only_parttime_trainings(stack: Stack) -> None:
    reply = texts(stack.say(sender(), "Teilzeitausbildung in Wiesbaden"))
    lines = numbered(reply)
    assert lines and all("Teilzeit möglich" in line and "Praktikum" not in line for line in lines), reply


def test_place_outside_hessen_is_named_and_coverage_said(stack: Stack) -> None:
    reply = texts(stack.say(sender(), "Gibt es Ausbildungsplätze in Göttingen?"))
    assert "Göttingen liegt in Niedersachsen, nicht in Hessen" in reply, reply
    assert "nur Angebote in Hessen" in reply, reply


def test_follow_ups_after_results_keep_the_occupation(stack: Stack) -> None:
    who = sender()
    assert "um Kassel" in texts(stack.say(who, "Gibt es Ausbildungsplätze als Tischler in Kassel?"))
    reply = texts(stack.say(who, "und was verdient man da?"))
    assert "Tischler/-in ist eine duale Ausbildung" in reply and "Beginn 2026" in reply, reply
    reply = texts(stack.say(who, "welchen Abschluss brauche ich dafür?"))
    assert "Schulabschluss für Tischler/-in" in reply, reply


def test_pay_of_a_school_based_training_is_not_the_bbig_table(stack: Stack) -> None:
    who = sender()
    assert "Erzieher" in texts(stack.say(who, "Was macht eine Erzieherin?"))
    reply = texts(stack.say(who, "und was verdient man da?"))
    assert "Ausbildungsvergütung Erzieher/-in" in reply and "BBiG-Mindestvergütung gilt nicht" in reply, reply
    assert "Beginn 2026" not in reply, reply


def test_form_asks_for_the_place(stack: Stack) -> None:
    who = sender()
    reply = texts(stack.say(who, "Ich suche einen Ausbildungsplatz als Elektroniker"))
    assert "Wo suchst du" in reply, reply
    reply = texts(stack.say(who, "überall in Hessen"))
    assert "in ganz Hessen" in reply and numbered(reply), reply


def test_unknown_place_is_asked_back_and_nothing_is_lost(stack: Stack) -> None:
    who = sender()
    reply = texts(stack.say(who, "Ich suche eine Ausbildung als Bäcker in Xyzzyhausen"))
    assert "Xyzzyhausen" in reply and "finde ich nicht" in reply, reply
    reply = texts(stack.say(who, "Fulda"))
    assert "Bäcker" in reply and "Fulda" in reply, reply


@pytest.mark.parametrize("bad", ["🙂🙂🙂", "<script>alert(1)</script>", "'; DROP TABLE offer; --"])
def test_bad_place_answers_do_not_crash_the_form(stack: Stack, bad: str) -> None:
    who = sender()
    assert "Wo suchst du" in texts(stack.say(who, "Ich suche einen Ausbildungsplatz als Koch"))
    reply = texts(stack.say(who, bad))
    assert reply and "technisches Problem" not in reply, reply
    reply = texts(stack.say(who, "Wiesbaden"))
    assert "Koch" in reply and "Wiesbaden" in reply, reply


def test_parttime_request_filters_from_the_start(stack: Stack) -> None:
    who = sender()
    reply = texts(stack.say(who, "Teilzeitausbildung als Friseur in Wiesbaden"))
    assert "in Teilzeit" in reply and "Wiesbaden" in reply, reply
    for line in numbered(reply):
        assert "Teilzeit möglich" in line


def test_no_results_offers_alternatives(stack: Stack) -> None:
    messages = stack.say(sender(), "Gibt es Ausbildungsplätze als Pflanzentechnologe in Fulda?")
    reply = texts(messages)
    assert "keine" in reply and "Fulda" in reply, reply
    assert "Beratung" in reply
    assert any("Umkreis" in title for title in buttons(messages)), buttons(messages)


def test_advice_after_results(stack: Stack) -> None:
    who = sender()
    first = stack.say(who, "Gibt es Ausbildungsplätze als Tischler in Kassel?")
    reply = texts(stack.say(who, buttons(first)["Beratung dazu"]))
    assert "Beratung" in reply and "Kassel" in reply, reply


def test_parent_gets_sie_in_the_search(stack: Stack) -> None:
    who = sender()
    stack.say(who, "Ich bin die Mutter von einer Tochter")
    reply = texts(stack.say(who, "Meine Tochter sucht einen Ausbildungsplatz als Friseurin"))
    assert "Wo suchen Sie" in reply, reply
