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
    offer_type_in_text,
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


@pytest.mark.parametrize(("text", "expected"), [
    ("Teilzeitausbildung in Wiesbaden", "ausbildung"),
    ("Duales Studium in Darmstadt", "dual_studium"),
    ("wo kann ich dual studieren", "dual_studium"),
    ("Praktikum in Darmstadt", "praktikum"),
    ("Schnupperpraktika bei Kassel", "praktikum"),
    ("Ausbildungsplätze in der Nähe von 35390", "ausbildung"),
    ("Einstiegsqualifizierung in Hanau", "eq"),
    ("Was gibt es in Kassel?", None),
])
def test_offer_type_in_words(text: str, expected: str | None) -> None:
    assert offer_type_in_text(text) == expected


def _extract(text: str, entities: list[dict[str, Any]] | None = None, intent: str = "search_offers",
             **slots: Any) -> dict[str, Any]:
    return ValidateOfferSearchForm().extract_search_occupation(
        CollectingDispatcher(), search_tracker(intent, text, entities=entities, **slots), {})


@pytest.mark.parametrize(("text", "entities"), [
    ("Praktikum in Darmstadt", [{"entity": "offer_type", "value": "praktikum"},
                                {"entity": "location", "value": "Darmstadt"}]),
    ("Duales Studium in Darmstadt", []),  # nothing tagged: type and place are read from the words
    ("Teilzeitausbildung in Wiesbaden", [{"entity": "location", "value": "Wiesbaden"}]),
    ("Ausbildungsplätze in der Nähe von 35390", [{"entity": "offer_type", "value": "ausbildung"}]),
])
def test_type_and_place_are_enough_to_search(text: str, entities: list[dict[str, Any]]) -> None:
    # also replaces the occupation of an earlier search: a new request without occupation searches all of them
    assert _extract(text, entities, search_occupation="Tischler/-in") == {"search_occupation": "egal"}


def test_occupation_is_still_asked_when_nothing_but_the_wish_is_said() -> None:
    assert _extract("ich such was") == {}
    assert _extract("Praktikum in Darmstadt", intent="inform_location") == {}  # only a new search decides
    tagged = [{"entity": "occupation", "value": "Koch"}]
    assert _extract("Ausbildung als Koch in Kassel", tagged) == {}  # the slot mapping takes the entity


def test_untagged_occupation_is_read_from_the_request() -> None:
    assert _extract("Ich suche ein Praktikum als Tischler in Kassel") == {"search_occupation": "Tischler/-in"}


def test_search_without_occupation_lists_offers_and_buttons_to_narrow() -> None:
    text = "Praktikum in Darmstadt"
    t = search_tracker("search_offers", text, search_occupation="egal", search_place="Darmstadt",
                       events=[user(text, "search_offers", [{"entity": "offer_type", "value": "praktikum"}])])
    msgs, events = run(ActionSearchOffers(), t)
    assert responses(msgs)[:2] == ["utter_offer_results", "utter_offer_narrow"], msgs
    assert "(nur Praktikum)" in msgs[0]["what"] and "um Darmstadt" in msgs[0]["where"]
    assert slot(events, "offer_type") == "praktikum"
    narrow = msgs[1]["buttons"]
    assert 1 <= len(narrow) <= 4 and all(b["payload"].startswith("/inform_occupation{") for b in narrow)
    counts = [int(b["title"].rsplit("(", 1)[1].rstrip(")")) for b in narrow]
    assert counts == sorted(counts, reverse=True) and counts[0] >= 1
    # the first button narrows the same search to that occupation
    name = narrow[0]["title"].rsplit(" (", 1)[0]
    narrowed = search_tracker("inform_occupation", name, search_occupation=name, search_place="Darmstadt",
                              offer_type="praktikum", search_page=0, search_radius=25.0)
    msgs, _ = run(ActionSearchOffers(), narrowed)
    assert responses(msgs)[0] == "utter_offer_results" and "utter_offer_narrow" not in responses(msgs)
    assert int(msgs[0]["total"]) == counts[0], msgs[0]
    assert name in msgs[0]["what"]


def test_parttime_training_means_parttime_offers_of_training_types() -> None:
    text = "Teilzeitausbildung in Wiesbaden"
    t = search_tracker("search_offers", text, events=[user(text, "search_offers")],
                       search_occupation="egal", search_place="Wiesbaden")
    msgs, events = run(ActionSearchOffers(), t)
    assert slot(events, "offer_type") == "ausbildung" and slot(events, "search_parttime") is True
    lines = msgs[0]["offers"].splitlines()
    assert lines and all("Teilzeit möglich" in line and "Praktikum" not in line for line in lines), lines


def test_place_outside_hessen_is_named_honestly() -> None:
    text = "Gibt es Ausbildungsplätze in Göttingen?"
    t = search_tracker("search_offers", text, events=[user(text, "search_offers")],
                       search_occupation="egal", search_place="Göttingen")
    msgs, _ = run(ActionSearchOffers(), t)
    assert responses(msgs)[0] == "utter_offer_outside_hessen", msgs
    assert msgs[0]["place"] == "Göttingen" and msgs[0]["state"] == "Niedersachsen"
    assert responses(msgs)[1] in ("utter_offer_results", "utter_offer_none")
    hessian = search_tracker("search_offers", "x", events=[user("x", "search_offers")],
                             search_occupation="egal", search_place="Kassel")
    assert "utter_offer_outside_hessen" not in responses(run(ActionSearchOffers(), hessian)[0])


def test_outside_hessen_is_said_once_per_search_not_on_every_filter() -> None:
    base = dict(search_occupation="egal", search_place="Göttingen", search_page=0, search_radius=25.0)
    for intent in ("request_more_results", "widen_radius", "request_parttime_only"):
        msgs, _ = run(ActionSearchOffers(), search_tracker(intent, "x", **base))
        assert "utter_offer_outside_hessen" not in responses(msgs), (intent, msgs)


# --- a question about finding a place that DIET took for a search request ------------------------------------------

QUESTION = "wo findet man eigentlich freie ausbildungsplätze, gibts da ne app oder so?"


def test_a_question_about_finding_a_place_ends_the_form_and_gets_its_article() -> None:
    import asyncio

    from actions.offer_actions import SEARCH_BUTTON_TITLE

    t = search_tracker("search_offers", QUESTION, events=[user(QUESTION, "search_offers")])
    slots = ["search_occupation", "search_place"]
    assert asyncio.run(ValidateOfferSearchForm().required_slots(slots, CollectingDispatcher(), t, {})) == []
    msgs, events = run(ActionSearchOffers(), t)
    assert responses(msgs) == ["utter_faq_answer"] and msgs[0]["title"].startswith("Lehrstellenbörsen")
    assert msgs[0]["buttons"][0] == {"title": SEARCH_BUTTON_TITLE, "payload": "/search_offers"}
    assert slot(events, "faq_key") == "bewerbung_lehrstellenboersen"


@pytest.mark.parametrize("text", ["Ausbildung Tischler in Kassel", "ich suche eine ausbildung", "/search_offers",
                                  "such mir ein schülerpraktikum in der nähe von limburg"])
def test_a_search_request_keeps_the_form(text: str) -> None:
    import asyncio

    t = search_tracker("search_offers", text, events=[user(text, "search_offers")])
    slots = ["search_occupation", "search_place"]
    assert asyncio.run(ValidateOfferSearchForm().required_slots(slots, CollectingDispatcher(), t, {})) == slots


def test_when_the_check_fails_the_form_goes_on(actions_kb_without_tables: None) -> None:
    import asyncio

    from knowledge_base.faq_search import reset_shared_index

    reset_shared_index()  # the index must be built from the broken knowledge base: that fails
    try:
        t = search_tracker("search_offers", QUESTION, events=[user(QUESTION, "search_offers")])
        slots = ["search_occupation", "search_place"]
        assert asyncio.run(ValidateOfferSearchForm().required_slots(slots, CollectingDispatcher(), t, {})) == slots
    finally:
        reset_shared_index()  # later tests build it again from the test knowledge base
