"""The minimum training pay table (§ 17 BBiG) and the pay answer for a named start year and training year."""

from __future__ import annotations

import asyncio
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.topic_actions import ActionAnswerTrainingPay, start_and_training_year
from knowledge_base.loader import CONTENT_DIR

# § 17 Abs. 2 Satz 1 Nr. 2 to 4 BBiG: the 2nd to 4th year add 18 %, 35 % and 40 % to the 1st-year amount.
SURCHARGE = {1: Decimal("1.00"), 2: Decimal("1.18"), 3: Decimal("1.35"), 4: Decimal("1.40")}


def rates() -> dict[int, dict[int, Decimal]]:
    data = yaml.safe_load((CONTENT_DIR / "minimum_pay.yml").read_text(encoding="utf-8"))
    table: dict[int, dict[int, Decimal]] = {}
    for r in data["rates"]:
        table.setdefault(r["start_year"], {})[r["training_year"]] = Decimal(str(r["amount_eur"]))
    return table


def test_start_2023_is_the_amount_fixed_in_the_law_with_unrounded_surcharges() -> None:
    assert rates()[2023] == {1: Decimal("620"), 2: Decimal("731.6"), 3: Decimal("837"), 4: Decimal("868")}


def test_every_start_year_follows_the_surcharges_of_the_law() -> None:
    for start, years in rates().items():
        assert set(years) == {1, 2, 3, 4}, start
        for year, amount in years.items():
            expected = years[1] * SURCHARGE[year]
            if start >= 2024:  # the published notices give full euros
                expected = expected.quantize(Decimal("1"), rounding=ROUND_HALF_UP)
            assert amount == expected, (start, year)


def answer(text: str) -> str:
    t = Tracker(
        sender_id="test",
        slots={},
        latest_message={"text": text, "intent": {"name": "ask_training_pay", "confidence": 0.99}, "entities": []},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAnswerTrainingPay().run(dispatcher, t, {}))
    msg: dict[str, Any] = next(m for m in dispatcher.messages if m.get("response") == "utter_training_pay")
    return str(msg["table"])


@pytest.mark.usefixtures("actions_kb")
@pytest.mark.parametrize(("text", "line"), [
    ("Meine Tochter hat 2023 angefangen und ist jetzt im dritten Ausbildungsjahr – wie viel muss sie mindestens bekommen?",
     "Ausbildungsbeginn 2023, 3. Ausbildungsjahr: mindestens 837 € im Monat."),
    ("Ausbildung begonnen im August 2023, 3,5 Jahre, ich bin jetzt im 4. Lehrjahr. Was steht mir zu?",
     "Ausbildungsbeginn 2023, 4. Ausbildungsjahr: mindestens 868 € im Monat."),
    ("hab 2023 angefangen, bin im 2. Jahr", "Ausbildungsbeginn 2023, 2. Ausbildungsjahr: mindestens 731,60 € im Monat."),
])
def test_pay_answer_uses_the_2023_row(text: str, line: str) -> None:
    table = answer(text)
    assert line in table, table
    assert "Beginn 2023: 1. Jahr 620 €, 2. Jahr 731,60 €, 3. Jahr 837 €, 4. Jahr 868 €" in table, table
    assert "Beginn 2024" not in table and "Beginn 2026" not in table, table


@pytest.mark.usefixtures("actions_kb")
def test_pay_answer_without_a_start_year_lists_2023_too() -> None:
    table = answer("Wie hoch ist die Mindestvergütung?")
    assert table.splitlines()[0].startswith("Beginn 2023: 1. Jahr 620 €"), table
    assert "Beginn 2026: 1. Jahr 724 €" in table, table


def test_start_and_training_year_reads_2023() -> None:
    assert start_and_training_year("2023 angefangen, jetzt im dritten Lehrjahr") == (2023, 3)
    assert start_and_training_year("seit 2023 in der Ausbildung, 4. Ausbildungsjahr") == (2023, 4)
