"""Occupation resolution from free text: official names, aliases, gender forms, lemmas and typos."""

from __future__ import annotations

import pytest

from knowledge_base.resolve import AliasIndex, find_funding, match_interest, suggest_occupations


@pytest.fixture
def index(session) -> AliasIndex:  # type: ignore[no-untyped-def]
    return AliasIndex.build(session)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kraftfahrzeugmechatroniker/-in", "Kraftfahrzeugmechatroniker/-in"),
        ("Wie lange dauert die Ausbildung zum Kfz-Mechatroniker?", "Kraftfahrzeugmechatroniker/-in"),
        ("kfz mechaniker", "Kraftfahrzeugmechatroniker/-in"),
        ("Bürokauffrau", "Kaufmann/Kauffrau für Büromanagement"),
        ("buerokaufmann", "Kaufmann/Kauffrau für Büromanagement"),
        ("Einzelhandelskauffrau", "Kaufmann/Kauffrau im Einzelhandel"),
        ("Arzthelferin", "Medizinische/-r Fachangestellte/-r"),
        ("Tischlerin", "Tischler/-in"),
        ("Schreiner", "Tischler/-in"),
        ("Tischlr", "Tischler/-in"),
        ("was macht eine Köchin", "Koch/Köchin (IH)"),
        ("Koechin", "Koch/Köchin (IH)"),
        ("Erzieherin", None),  # school-based, name checked below
    ],
)
def test_resolves_to_expected_occupation(index: AliasIndex, text: str, expected: str | None) -> None:
    resolution = index.resolve(text)
    assert resolution.best is not None, text
    if expected:
        assert resolution.best.name == expected, resolution.candidates
        assert resolution.is_sure


def test_school_based_occupation_is_found(index: AliasIndex) -> None:
    assert "Erzieher" in index.resolve("Ich will Erzieherin werden").best.name  # type: ignore[union-attr]


def test_fachinformatiker_alias(index: AliasIndex) -> None:
    best = index.resolve("Fachinformatiker AE").best
    assert best is not None and "Fachinformatiker" in best.name and "Anwendungsentwicklung" in best.name


def test_elektriker_means_elektroniker(index: AliasIndex) -> None:
    best = index.resolve("Elektriker").best
    assert best is not None and best.name.startswith("Elektroniker")


def test_inflected_form_via_lemma(index: AliasIndex) -> None:
    best = index.resolve("Ausbildung bei Tischlern").best
    assert best is not None and best.name == "Tischler/-in"


def test_ambiguous_text_is_not_sure(index: AliasIndex) -> None:
    resolution = index.resolve("Kaufmann")
    assert len(resolution.candidates) >= 2
    assert not resolution.is_sure


@pytest.mark.parametrize("text", ["Astronaut", "", "🙂🙂🙂", "'; DROP TABLE occupation; --", "<b>hallo</b>"])
def test_unknown_or_odd_text_gives_no_false_match(index: AliasIndex, text: str) -> None:
    resolution = index.resolve(text)
    assert not resolution.is_sure


@pytest.mark.parametrize("text", [
    "Welche Voraussetzungen muss unser Sohn erfüllen, um für eine Ausbildung nach Deutschland einreisen zu dürfen?",
    "Meine kleine Schwester will wissen, wie lange eine Ausbildung dauert",
    "Unsere Tochter interessiert sich für eine Lehre im Handwerk. Wie viele Jahre dauert das?",
    "Was geht bei der Rentenversicherung vom Azubi-Gehalt ab?",
])
def test_everyday_words_inside_long_names_name_no_occupation(index: AliasIndex, text: str) -> None:
    # "Deutschland" is a word of "… Kirchenverwaltung in den Gliedkirchen der Evangelischen Kirchen in Deutschland",
    # "Schwester" of "OP-Schwester", "kleine" of "Fischwirt … kleine Hochseefischerei"
    assert index.resolve(text).candidates == []


def test_a_distinctive_word_of_a_long_name_still_resolves(index: AliasIndex) -> None:
    resolution = index.resolve("Ausbildung in der Lagerlogistik")
    assert resolution.best is not None and "Lagerlogistik" in resolution.best.name
    assert index.resolve("OP-Schwester").best is not None


def test_huge_text_is_handled(index: AliasIndex) -> None:
    resolution = index.resolve("bla " * 1500 + "Tischler")
    assert resolution is not None  # no exception, bounded work


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("BAB", "bab"),
        ("Was ist Berufsausbildungsbeihilfe?", "bab"),
        ("meister bafög", "aufstiegs_bafoeg"),
        ("AsA flex", "asa_flex"),
        ("Einstiegsqualifizierung", "eq"),
    ],
)
def test_find_funding(session, text: str, key: str) -> None:  # type: ignore[no-untyped-def]
    program = find_funding(session, text)
    assert program is not None and program.key == key


def test_no_funding_for_unrelated_text(session) -> None:  # type: ignore[no-untyped-def]
    assert find_funding(session, "Wie wird das Wetter morgen?") is None


def test_interest_suggestions(session) -> None:  # type: ignore[no-untyped-def]
    interest = match_interest(session, "Ich mag Tiere sehr")
    assert interest is not None
    suggestion = suggest_occupations(session, interest)
    assert suggestion.occupations
    assert all(o.curated for o in suggestion.occupations)


def test_suggestions_put_the_most_chosen_occupations_first(session) -> None:  # type: ignore[no-untyped-def]
    interest = match_interest(session, "Medizin")
    assert interest is not None
    names = [o.name for o in suggest_occupations(session, interest).occupations]
    assert "Medizinische/-r Fachangestellte/-r" in names, names
