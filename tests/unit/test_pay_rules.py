"""Pay of school-based trainings (issue 11 §4) and follow-ups that keep the occupation (§5): the pay rule comes
from the knowledge base (occupation.pay_rule → article), never the BBiG table for Pflege, Erzieher …"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from sqlalchemy import select

from actions.occupation_actions import ActionAnswerOccupation, remembered_occupation
from actions.topic_actions import ActionAnswerTrainingPay
from knowledge_base.loader import ContentError, read_content
from knowledge_base.models import Article, Occupation
from tests.unit.test_actions import responses, run, slot

pytestmark = pytest.mark.usefixtures("actions_kb")


def slot_event(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def follow_up(text: str, intent: str, events: list[dict[str, Any]] | None = None, **slots: Any) -> Tracker:
    return Tracker(
        sender_id="t", slots=slots, latest_message={"text": text, "intent": {"name": intent}, "entities": []},
        events=events or [], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen",
    )


def pay(text: str, entities: list[dict[str, Any]] | None = None, **slots: Any) -> list[dict[str, Any]]:
    t = follow_up(text, "ask_training_pay", **slots)
    t.latest_message["entities"] = entities or []
    return run(ActionAnswerTrainingPay(), t)[0]


def test_nursing_gets_the_pflbg_rule_not_the_bbig_table() -> None:
    msgs = pay("Was verdient man in der Pflegeausbildung?", [{"entity": "occupation", "value": "Pflegefachfrau"}])
    assert responses(msgs) == ["utter_training_pay_rule"], msgs
    assert msgs[0]["occupation"] == "Pflegefachfrau/Pflegefachmann"
    assert "§ 19 PflBG" in msgs[0]["summary"] and "BBiG-Mindestvergütung gilt hier nicht" in msgs[0]["summary"]
    assert "pflbg/__19.html" in msgs[0]["source"] and "Stand:" in msgs[0]["source"]
    assert "724" not in str(msgs)  # no row of the BBiG table


def test_erzieher_named_in_the_text_gets_the_fachschule_rule_with_verify_hint() -> None:
    msgs = pay("Was verdient man als Erzieherin in der Ausbildung?")
    assert responses(msgs) == ["utter_training_pay_rule", "utter_verify_hint"], msgs
    assert "Anerkennungsjahr" in msgs[0]["body"] and "PiA" in msgs[0]["body"]


def test_pflegefachassistenz_names_the_date_of_the_18_months() -> None:
    msgs = pay("und was verdient man da?", occupation="Pflegefachassistent/-in")
    assert responses(msgs) == ["utter_training_pay_rule"], msgs
    assert "1. Januar 2027" in msgs[0]["summary"] and "18 Monate" in msgs[0]["summary"]
    assert "BGBl. 2025 I Nr. 259" in msgs[0]["summary"]


def test_dual_occupation_after_an_offer_search_gets_the_bbig_table_for_it() -> None:
    msgs = pay("und was verdient man da?", search_occupation="Tischler/-in")
    assert responses(msgs)[:2] == ["utter_training_pay_occupation", "utter_training_pay"], msgs
    assert msgs[0]["occupation"] == "Tischler/-in"
    assert "Beginn 2026" in msgs[1]["table"]


def test_pay_follow_up_remembers_the_occupation() -> None:
    t = follow_up("und was verdient man da?", "ask_training_pay", occupation="Physiotherapeut/-in")
    msgs, events = run(ActionAnswerTrainingPay(), t)
    assert responses(msgs)[0] == "utter_training_pay_rule" and "Schulgeld" in msgs[0]["summary"]
    assert slot(events, "occupation") == "Physiotherapeut/-in"


def test_general_pay_question_without_occupation_shows_the_table() -> None:
    msgs = pay("Wie viel verdient man in der Ausbildung?")
    assert responses(msgs)[0] == "utter_training_pay", msgs


def test_every_school_based_training_has_a_sourced_pay_rule(session) -> None:  # type: ignore[no-untyped-def]
    school = session.scalars(select(Occupation).where(Occupation.training_type == "schulisch")).all()
    assert len(school) >= 15
    for occ in school:
        article = session.scalar(select(Article).where(Article.key == occ.pay_rule))
        assert article is not None, occ.name
        assert article.source_url.startswith("https://") and article.stand
        msgs = pay("und was verdient man da?", occupation=occ.name)
        assert responses(msgs)[0] == "utter_training_pay_rule", (occ.name, msgs)
    dual = session.scalars(select(Occupation).where(Occupation.training_type == "dual", Occupation.curated)).all()
    assert dual and all(o.pay_rule is None for o in dual)


@pytest.mark.parametrize(("events", "slots", "expected"), [
    ([slot_event("occupation", "Koch/Köchin"), slot_event("search_occupation", "Tischler/-in")], {}, "Tischler/-in"),
    ([slot_event("search_occupation", "Tischler/-in"), slot_event("occupation", "Koch/Köchin")], {}, "Koch/Köchin"),
    ([slot_event("occupation", "Koch/Köchin"), slot_event("search_occupation", "egal")], {}, "Koch/Köchin"),
    ([], {"search_occupation": "interest:technik"}, None),
    ([], {"search_occupation": "Tischler/-in"}, "Tischler/-in"),
])
def test_remembered_occupation_is_the_latest_single_one(events, slots, expected) -> None:  # type: ignore[no-untyped-def]
    assert remembered_occupation(follow_up("x", "ask_occupation_requirements", events, **slots)) == expected


@pytest.mark.parametrize(("text", "intent", "response"), [
    ("welchen Abschluss brauche ich dafür?", "ask_occupation_requirements", "utter_occupation_requirements"),
    ("wie lange dauert das?", "ask_occupation_duration", "utter_occupation_duration"),
])
def test_occupation_follow_ups_after_offer_results_keep_the_occupation(text: str, intent: str, response: str) -> None:
    events = [slot_event("search_occupation", "Tischler/-in")]
    msgs, out = run(ActionAnswerOccupation(), follow_up(text, intent, events, search_occupation="Tischler/-in"))
    assert responses(msgs)[0] == response, msgs
    assert msgs[0]["occupation"] == "Tischler/-in"
    assert slot(out, "occupation") == "Tischler/-in"


def _edit(path: Path, mutate) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _occupation(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in data["occupations"] if o["name"] == name)


def test_school_based_training_without_pay_rule_is_rejected(content_copy: Path) -> None:
    _edit(content_copy / "occupations.yml", lambda d: _occupation(d, "Erzieher/-in").pop("pay_rule"))
    with pytest.raises(ContentError, match="pay_rule") as info:
        read_content(content_copy)
    assert "Erzieher" in str(info.value)


def test_pay_rule_must_name_an_existing_article(content_copy: Path) -> None:
    _edit(content_copy / "occupations.yml",
          lambda d: _occupation(d, "Physiotherapeut/-in").update(pay_rule="gibt_es_nicht"))
    with pytest.raises(ContentError, match="gibt_es_nicht"):
        read_content(content_copy)
