"""The offer search form validation and the result action, against a knowledge base with demo offers."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.offer_actions import (
    ActionOfferAdvice,
    ActionSearchOffers,
    ValidateOfferSearchForm,
    choose_occupation,
    choose_place,
    offer_types,
    place_phrase,
)
from tests.unit.test_actions import responses, run, slot

pytestmark = pytest.mark.usefixtures("actions_kb")  # the shared test KB holds the small demo offer set


def search_tracker(intent: str, text: str = "", events: list[dict[str, Any]] | None = None,
                   entities: list[dict[str, Any]] | None = None, **slots: Any) -> Tracker:
    return Tracker(
        sender_id="t", slots=slots,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []},
        events=events or [], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen",
    )


def user(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": entities or []}}


@pytest.mark.parametrize(("raw", "expected"), [
    ("Tischler", "Tischler/-in"), ("Kfz-Mechatroniker", "Kraftfahrzeugmechatroniker/-in"), ("egal", "egal"),
    ("irgendwas mit Tieren", None),  # interest: checked below
])
def test_choose_occupation(session, raw: str, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    choice = choose_occupation(session, raw)
    if expected:
        assert choice.value == expected
    else:
        assert choice.value is not None and choice.value.startswith("interest:")


def test_unknown_occupation_is_asked_back(session) -> None:  # type: ignore[no-untyped-def]
    choice = choose_occupation(session, "Drachenzähmer")
    assert choice.value is None and choice.response == "utter_search_occupation_unknown"


@pytest.mark.parametrize(("raw", "expected"), [("Kassel", "Kassel"), ("überall in Hessen", "Hessen"), ("egal", "Hessen")])
def test_choose_place(session, raw: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert choose_place(session, raw).value == expected


def test_unknown_place_is_asked_back(session) -> None:  # type: ignore[no-untyped-def]
    choice = choose_place(session, "Hintertupfingen an der Xyz")
    assert choice.value is None and choice.response in ("utter_search_place_unknown", "utter_search_place_did_you_mean")


def test_form_validation_fills_canonical_values() -> None:
    form = ValidateOfferSearchForm()
    d = CollectingDispatcher()
    assert form.validate_search_occupation("Schreiner", d, search_tracker("inform_occupation"), {}) == {
        "search_occupation": "Tischler/-in"}
    assert form.validate_search_place("Giessen", d, search_tracker("inform_location"), {})["search_place"]
    bad = form.validate_search_place("Xyzzyhausen", d, search_tracker("inform_location"), {})
    assert bad == {"search_place": None} and d.messages


def test_search_lists_offers_with_buttons() -> None:
    t = search_tracker("search_offers", "Ausbildung Tischler in Kassel",
                       events=[user("Ausbildung Tischler in Kassel", "search_offers")],
                       search_occupation="Tischler/-in", search_place="Kassel")
    msgs, events = run(ActionSearchOffers(), t)
    assert responses(msgs)[0] == "utter_offer_results", msgs
    assert int(msgs[0]["total"]) >= 1
    assert "Tischler" in msgs[0]["offers"]
    payloads = {b["payload"] for b in msgs[0]["buttons"]}
    assert {"/request_parttime_only", "/widen_radius", "/ask_advice_services"} <= payloads
    assert "utter_offer_demo_hint" in responses(msgs)
    assert slot(events, "search_page") == 0


def test_follow_ups_change_page_parttime_and_radius() -> None:
    base = dict(search_occupation="egal", search_place="Frankfurt am Main", search_page=0, search_radius=25.0)
    msgs, events = run(ActionSearchOffers(), search_tracker("request_more_results", "mehr", **base))
    assert slot(events, "search_page") == 1
    assert msgs[0]["shown"].startswith(" – hier sind 5 bis 8")
    _, events = run(ActionSearchOffers(), search_tracker("request_parttime_only", "nur Teilzeit", **base))
    assert slot(events, "search_parttime") is True
    _, events = run(ActionSearchOffers(), search_tracker("widen_radius", "größer", **base))
    assert slot(events, "search_radius") == 50.0


def test_parttime_in_the_request_filters(session) -> None:  # type: ignore[no-untyped-def]
    text = "Teilzeitausbildung in Wiesbaden"
    t = search_tracker("search_offers", text, events=[user(text, "search_offers")],
                       search_occupation="egal", search_place="Wiesbaden", search_parttime=False)
    msgs, events = run(ActionSearchOffers(), t)
    assert slot(events, "search_parttime") is True
    assert "Teilzeit" in msgs[0]["what"]


def test_no_results_offers_alternatives() -> None:
    t = search_tracker("search_offers", "x", events=[user("x", "search_offers")],
                       search_occupation="Pflanzentechnologe/-technologin", search_place="Fulda")
    msgs, _ = run(ActionSearchOffers(), t)
    assert responses(msgs) == ["utter_offer_none"]
    assert msgs[0]["services"].startswith("• ")
    assert any(b["payload"] == "/widen_radius" for b in msgs[0]["buttons"])


@pytest.mark.parametrize(("text", "expected"), [
    ("Ich suche eine Ausbildung als Bäcker in Xyzzyhausen", "Xyzzyhausen"),
    ("Ausbildung in Teilzeit in Bad Vilbel", "Bad Vilbel"),
    ("Praktikum in der Nähe von Foo", "Foo"),
    ("Ausbildung als Koch in Frankfurt am Main?", "Frankfurt am Main"),
    ("Teilzeitausbildung bitte in Teilzeit", None),
    ("ausbildung als koch", None),
])
def test_place_phrase_takes_untagged_places(text: str, expected: str | None) -> None:
    assert place_phrase(text) == expected


def test_generic_training_words_search_all_training_types() -> None:
    assert offer_types("ausbildung") == ("betrieblich", "dual_studium", "schulisch")
    assert offer_types("bvb") == ("berufsvorbereitung",)
    assert offer_types("praktikum") == ("praktikum",)
    assert offer_types(None) == ()


def test_school_based_occupation_is_found_with_generic_training_word() -> None:
    t = search_tracker("search_offers", "Ausbildungsplätze als Erzieherin in Gießen",
                       events=[user("Ausbildungsplätze als Erzieherin in Gießen", "search_offers",
                                    [{"entity": "offer_type", "value": "ausbildung"}])],
                       search_occupation="Erzieher/-in", search_place="Gießen", offer_type="ausbildung")
    msgs, _ = run(ActionSearchOffers(), t)
    assert responses(msgs)[0] == "utter_offer_results", msgs
    assert "Schulische Ausbildung" in msgs[0]["offers"]


def test_advice_lists_services_near_the_searched_place() -> None:
    msgs, _ = run(ActionOfferAdvice(), search_tracker("ask_advice_services", search_place="Marburg"))
    assert responses(msgs) == ["utter_offer_advice"]
    assert msgs[0]["where"] == "in der Nähe von Marburg"
    lines = msgs[0]["services"].splitlines()
    assert 1 <= len(lines) <= 3 and all(line.startswith("• ") and "km)" in line for line in lines)


def test_range_is_announced_only_for_longer_lists() -> None:
    t = search_tracker("request_parttime_only", "nur Teilzeit", search_occupation="Tischler/-in",
                       search_place="Marburg", search_page=0, search_radius=25.0)
    msgs, _ = run(ActionSearchOffers(), t)
    assert responses(msgs)[0] == "utter_offer_results", msgs
    lines = msgs[0]["offers"].splitlines()
    assert lines and all("Teilzeit möglich" in line for line in lines)
    expected = "" if int(msgs[0]["total"]) <= 4 else " – hier sind 1 bis 4"
    assert msgs[0]["shown"] == expected
