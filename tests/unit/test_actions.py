"""Every custom action, run against the real knowledge base with tracker fixtures."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_actions import ActionDeleteConversation, ActionSetPersona
from actions.occupation_actions import ActionAnswerOccupation, ActionSuggestOccupations
from actions.topic_actions import ActionAnswerFunding, ActionAnswerTopic, ActionAnswerTrainingPay

pytestmark = pytest.mark.usefixtures("actions_kb")


def tracker(text: str, intent: str, entities: list[dict[str, Any]] | None = None, **slots: Any) -> Tracker:
    return Tracker(
        sender_id="test",
        slots=slots,
        latest_message={"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities or []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def run(action, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events


def responses(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("response") for m in messages]


def slot(events: list[dict[str, Any]], name: str) -> Any:
    return next(e["value"] for e in events if e.get("event") == "slot" and e["name"] == name)


def test_duration_of_kfz_mechatroniker() -> None:
    msgs, events = run(
        ActionAnswerOccupation(),
        tracker("Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?", "ask_occupation_duration",
                [{"entity": "occupation", "value": "Kfz-Mechatroniker"}]),
    )
    assert responses(msgs)[0] == "utter_occupation_duration"
    assert msgs[0]["months"] == 42
    assert msgs[0]["years"] == "3,5 Jahre"
    assert "Stand:" in msgs[0]["source"] and "https://" in msgs[0]["source"]
    assert msgs[0]["buttons"]
    assert slot(events, "occupation") == "Kraftfahrzeugmechatroniker/-in"


def test_info_without_entity_resolves_from_text() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Was macht eigentlich eine Bürokauffrau?", "ask_occupation_info"))
    assert responses(msgs)[0] == "utter_occupation_info"
    assert msgs[0]["occupation"] == "Kaufmann/Kauffrau für Büromanagement"
    assert msgs[0]["tasks"].startswith("• ")


def test_requirements() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Welchen Abschluss brauche ich als Tischler?",
                                                    "ask_occupation_requirements"))
    assert responses(msgs) == ["utter_occupation_requirements"]
    assert msgs[0]["qualification"]


def test_missing_occupation_is_asked_and_aspect_remembered() -> None:
    msgs, events = run(ActionAnswerOccupation(), tracker("Wie lange dauert sie?", "ask_occupation_duration"))
    assert responses(msgs) == ["utter_ask_occupation"]
    assert slot(events, "occupation_aspect") == "duration"
    msgs, _ = run(ActionAnswerOccupation(), tracker("Friseurin", "inform_occupation", occupation_aspect="duration"))
    assert responses(msgs)[0] == "utter_occupation_duration"


@pytest.mark.parametrize("text", [
    "Ich hab Abi. Muss ich als Industriekaufmann die vollen drei Jahre machen, oder kann man das abkürzen?",
    "wie lange dauert tischler, kann man verkürzen?",
])
def test_duration_with_a_question_about_shortening_adds_the_article(text: str) -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker(text, "ask_occupation_duration"))
    assert responses(msgs)[0] == "utter_occupation_duration"
    assert "utter_faq_answer" in responses(msgs)
    assert next(m for m in msgs if m.get("response") == "utter_faq_answer")["title"] == "Ausbildung verkürzen"


def test_duration_alone_offers_shortening_as_a_button() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Wie lange dauert die Ausbildung zum Tischler?",
                                                    "ask_occupation_duration"))
    assert "utter_faq_answer" not in responses(msgs)
    assert {"title": "Geht es auch kürzer?", "payload": '/ask_faq{"faq_key": "ausbildung_verkuerzen"}'} in msgs[0]["buttons"]


def test_follow_up_uses_remembered_occupation() -> None:
    msgs, _ = run(ActionAnswerOccupation(),
                  tracker("und wie lange dauert die?", "ask_occupation_duration", occupation="Tischler/-in"))
    assert responses(msgs)[0] == "utter_occupation_duration"
    assert msgs[0]["occupation"] == "Tischler/-in"


def test_ambiguous_occupation_offers_choices() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Kaufmann", "inform_occupation"))
    assert responses(msgs) == ["utter_occupation_did_you_mean"]
    assert 2 <= len(msgs[0]["buttons"]) <= 4
    assert all(b["payload"].startswith("/inform_occupation{") for b in msgs[0]["buttons"])


def test_unknown_occupation_is_said_plainly() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Drachenzähmer", "inform_occupation"))
    assert responses(msgs) == ["utter_occupation_unknown"]
    assert msgs[0]["query"] == "Drachenzähmer"


def test_uncurated_occupation_gets_basic_answer() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Was macht ein Pflanzentechnologe?", "ask_occupation_info"))
    assert responses(msgs)[0] == "utter_occupation_basic"
    assert "BIBB" in msgs[0]["source"]


def test_funding_bab_with_amounts_and_source() -> None:
    msgs, events = run(ActionAnswerFunding(), tracker("Was ist BAB?", "ask_funding",
                                                     [{"entity": "funding_program", "value": "bab"}]))
    assert responses(msgs)[0] == "utter_funding_program"
    assert "822" in msgs[0]["amounts"]
    assert "Stand:" in msgs[0]["source"]
    assert "utter_verify_hint" in responses(msgs)  # BAB need figures are marked "to verify"
    assert {b["payload"] for b in msgs[0]["buttons"]} == {"/ask_funding", "/ask_advice_services"}
    assert slot(events, "funding_program") == "bab"


@pytest.mark.parametrize(("program", "article"), [("kindergeld", "kindergeld_ausbildung"),
                                                  ("schuelerticket", "schuelerticket_hessen_azubi")])
def test_a_programme_with_an_faq_article_is_answered_by_the_article(program: str, article: str) -> None:
    # the button of the overview names the programme; its twin article answers, with the way back to the others
    msgs, events = run(ActionAnswerFunding(), tracker(f"/ask_funding{{\"funding_program\": \"{program}\"}}",
                                                      "ask_funding", [{"entity": "funding_program", "value": program}]))
    assert responses(msgs)[0] == "utter_faq_answer"
    assert "Stand:" in msgs[0]["source"]
    assert msgs[0]["buttons"][0]["payload"] == "/ask_funding" and msgs[0]["buttons"][-1]["payload"] == "/request_human"
    assert slot(events, "faq_key") == article and slot(events, "funding_program") == program


def test_funding_overview_without_programme() -> None:
    msgs, _ = run(ActionAnswerFunding(), tracker("Welche Förderung gibt es?", "ask_funding"))
    assert responses(msgs) == ["utter_funding_overview"]
    assert len(msgs[0]["buttons"]) >= 4


@pytest.mark.parametrize(
    ("intent", "text", "topic"),
    [
        ("ask_parttime", "Kann ich die Ausbildung in Teilzeit machen?", "teilzeit"),
        ("ask_abroad", "Kann ich ins Ausland?", "ausland"),
        ("ask_study_without_abitur", "studieren ohne abi?", "studium"),
        ("ask_career_orientation", "keine Ahnung was ich werden will", "orientierung"),
        ("ask_advice_services", "wo gibt es Beratung", "beratung"),
        ("ask_parents_info", "wie kann ich mein Kind unterstützen", "eltern"),
        ("ask_why_ausbildung", "warum Ausbildung", "attraktivitaet"),
        ("ask_support_special_needs", "mein Deutsch ist nicht gut", "unterstuetzung"),
        ("ask_support_special_needs", "ich habe keinen Schulabschluss", "unterstuetzung"),
        ("ask_training_problems", "ich will abbrechen", "beratung"),
    ],
)
def test_topic_articles(intent: str, text: str, topic: str) -> None:
    msgs, events = run(ActionAnswerTopic(), tracker(text, intent))
    assert "utter_article" in responses(msgs)
    article = next(m for m in msgs if m.get("response") == "utter_article")
    assert article["summary"] and "Stand:" in article["source"]
    assert slot(events, "topic") == topic


def test_parttime_mentions_7a() -> None:
    msgs, _ = run(ActionAnswerTopic(), tracker("Teilzeit?", "ask_parttime"))
    article = next(m for m in msgs if m.get("response") == "utter_article")
    assert "7a" in article["summary"] + article["body"] + article["source"]


def test_training_pay_table_from_kb() -> None:
    msgs, _ = run(ActionAnswerTrainingPay(), tracker("Was verdient man?", "ask_training_pay"))
    assert responses(msgs)[0] == "utter_training_pay"
    assert "Beginn 2026: 1. Jahr 724 €" in msgs[0]["table"]
    assert "Beginn 2025: 1. Jahr 682 €" in msgs[0]["table"]


def test_suggestions_by_interest() -> None:
    msgs, _ = run(ActionSuggestOccupations(), tracker("Ich mag Tiere, was kann ich werden?", "ask_occupation_suggestion",
                                                      [{"entity": "interest", "value": "Tiere"}]))
    assert responses(msgs) == ["utter_occupation_suggestions"]
    assert msgs[0]["occupations"].startswith("• ")


def test_suggestions_ask_for_interest_when_none_given() -> None:
    msgs, _ = run(ActionSuggestOccupations(), tracker("Welcher Beruf passt zu mir?", "ask_occupation_suggestion"))
    assert responses(msgs) == ["utter_ask_interest"]
    assert msgs[0]["buttons"]


@pytest.mark.parametrize(("intent", "value"), [("inform_parent", "parent"), ("inform_student", "student")])
def test_set_persona(intent: str, value: str) -> None:
    _, events = run(ActionSetPersona(), tracker("Ich bin Mutter", intent))
    assert slot(events, "persona") == value


def test_delete_conversation_sends_marker() -> None:
    msgs, _ = run(ActionDeleteConversation(), tracker("ja", "affirm"))
    assert msgs[0]["response"] == "utter_data_deleted"
    assert msgs[1]["custom"] == {"delete_conversation": True}


def test_database_failure_gives_apology(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from actions import kb

    monkeypatch.setenv("KB_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no tables
    kb.reset()
    for action, intent in ((ActionAnswerFunding(), "ask_funding"), (ActionAnswerOccupation(), "ask_occupation_info"),
                           (ActionAnswerTopic(), "ask_parttime"), (ActionAnswerTrainingPay(), "ask_training_pay")):
        msgs, events = run(action, tracker("Tischler BAB", intent))
        assert responses(msgs) == ["utter_technical_problem"], action.name()
        assert events == []


def test_unverified_occupation_facts_say_so() -> None:
    msgs, _ = run(ActionAnswerOccupation(), tracker("Wie lange dauert die Ausbildung zur Physiotherapeutin?",
                                                    "ask_occupation_duration"))
    assert responses(msgs)[0] == "utter_occupation_duration"
    assert "utter_verify_hint" in responses(msgs)
    assert msgs[0]["kind"] == "schulische Ausbildung"


@pytest.mark.parametrize(("text", "line", "absent"), [
    ("ich hab 2025 angefangen, bin im 2. Jahr, wie viel muss ich mindestens kriegen?",
     "Ausbildungsbeginn 2025, 2. Ausbildungsjahr: mindestens 805 €", "Beginn 2026"),
    ("Mein Sohn hat 2024 begonnen und ist jetzt im dritten Lehrjahr", "3. Ausbildungsjahr: mindestens 876 €",
     "Beginn 2025"),
    ("Start 2026, was bekomme ich?", "Beginn 2026: 1. Jahr 724 €", "Beginn 2024"),
])
def test_training_pay_uses_the_start_year_the_user_names(text: str, line: str, absent: str) -> None:
    msgs, _ = run(ActionAnswerTrainingPay(), tracker(text, "ask_training_pay"))
    assert line in msgs[0]["table"] and absent not in msgs[0]["table"]


def test_training_pay_for_a_start_year_without_values_shows_the_whole_table() -> None:
    msgs, _ = run(ActionAnswerTrainingPay(), tracker("ich fange 2031 an", "ask_training_pay"))
    assert "Beginn 2024" in msgs[0]["table"] and "Beginn 2026" in msgs[0]["table"]
