import pytest

from knowledge_base.text import gender_forms, normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kfz-Mechatroniker/-in", "kfz mechatroniker in"),
        ("Gießen", "giessen"),
        ("  BÜROKAUFFRAU!! ", "buerokauffrau"),
        ("Köchin", "koechin"),
        ("<script>alert(1)</script>", "script alert 1 script"),
        ("🙂🙂", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("name", "forms"),
    [
        ("Tischler/-in", ["Tischler", "Tischlerin"]),
        ("Kaufmann/Kauffrau im Einzelhandel", ["Kaufmann im Einzelhandel", "Kauffrau im Einzelhandel"]),
        ("Medizinische/-r Fachangestellte/-r", ["Medizinische Fachangestellte", "Medizinischer Fachangestellter"]),
        ("Koch/Köchin (IH)", ["Koch", "Köchin"]),
        ("Industriekaufmann/-frau", ["Industriekaufmann", "Industriekauffrau"]),
        ("Pflanzentechnologe/-technologin", ["Pflanzentechnologe", "Pflanzentechnologin"]),
        ("Fachkraft für Lagerlogistik", ["Fachkraft für Lagerlogistik"]),
    ],
)
def test_gender_forms(name: str, forms: list[str]) -> None:
    assert gender_forms(name) == forms


def test_gender_forms_fachrichtung_with_and_without_word() -> None:
    forms = gender_forms("Fachinformatiker/-in FR Anwendungsentwicklung")
    assert "Fachinformatiker Anwendungsentwicklung" in forms
    assert "Fachinformatikerin Fachrichtung Anwendungsentwicklung" in forms
