"""Articles for one age group ("… unter 18" / "… ab 18"): the age a message names decides between the twins."""

from __future__ import annotations

import time

import pytest

from knowledge_base.faq_age import ADULT, MINOR, age_group, counterparts, for_age


@pytest.mark.parametrize(("text", "group"), [
    ("ich bin 20 und muss oft 10 Stunden am Stück arbeiten", ADULT),
    ("Ich bin 16 und soll jeden Samstag im Supermarkt arbeiten", MINOR),
    ("Darf ich mit 17 in der Bäckerei um 4 Uhr anfangen?", MINOR),
    ("urlaubsanspruch azubi 17 jahre", MINOR),
    ("unsere 16-jährige Tochter muss bis 22 Uhr bleiben", MINOR),
    ("Meine Tochter (15) macht eine Ausbildung", MINOR),
    ("bin noch nicht volljährig", MINOR),
    ("ich bin minderjährig, wie viel urlaub", MINOR),
    ("bin volljährig, wie viel urlaub", ADULT),
    ("bin 19, darf ich 10 stunden arbeiten", ADULT),
    ("als 25-Jähriger noch eine Ausbildung?", ADULT),
    ("ich arbeite 40 stunden die woche", None),
    ("pause nur mit 30 minuten", None),
    ("ich bin 3 jahre in der ausbildung", None),
    ("mit 2 kindern geht das", None),
    ("15 jahre berufserfahrung", None),
    ("ich hab 25 urlaubstage", None),
    ("ist 20 euro zu wenig", None),
    ("wie viele urlaubstage hab ich", None),
    ("", None),
])
def test_age_group(text: str, group: str | None) -> None:
    assert age_group(text) == group


def test_only_twins_of_the_same_subject_are_swapped() -> None:
    keys = ["az_u18", "az_18", "urlaub_u18", "pausen_u18", "vertrag"]
    titles = ["Arbeitszeit unter 18", "Arbeitszeit ab 18", "Urlaub unter 18", "Pausen unter 18", "Ausbildungsvertrag"]
    twins = counterparts(keys, titles)
    assert set(twins) == {"az_u18", "az_18"}  # "Urlaub unter 18" and "Pausen unter 18" have no twin here
    assert for_age("az_u18", "ich bin 20, wie lange darf ich arbeiten", twins) == "az_18"
    assert for_age("az_18", "bin 16, wie lange darf ich arbeiten", twins) == "az_u18"
    assert for_age("az_18", "wie lange darf ich arbeiten", twins) == "az_18"  # no age named: retrieval decides
    assert for_age("pausen_u18", "ich bin 20", twins) == "pausen_u18"
    assert for_age("vertrag", "ich bin 16", twins) == "vertrag"


def test_linear_on_hostile_input() -> None:
    for text in ("bin " * 20000, "1" * 100000, "mit 1" * 20000, "(" * 50000 + "17"):
        started = time.perf_counter()
        age_group(text)
        assert time.perf_counter() - started < 0.5
