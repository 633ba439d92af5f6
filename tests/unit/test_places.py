"""Place resolution from free text (gazetteer plz_de.csv + place_aliases.yml): names, postcodes, aliases, districts,
places inside a sentence, ambiguous names, typos and junk input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge_base.gazetteer import HESSEN
from knowledge_base.models import Place
from knowledge_base.offer_search import haversine_km
from knowledge_base.places import PlaceResolution, hessian_districts, resolve_place

# Reference coordinates (city centres); the resolver returns the centroid of a place's postcodes.
KASSEL = (51.3155, 9.4924)
FRANKFURT = (50.1109, 8.6821)
GIESSEN = (50.5841, 8.6784)
MARBURG = (50.8021, 8.7668)
BAD_HOMBURG = (50.2268, 8.6182)
DARMSTADT = (49.8728, 8.6512)
FULDA = (50.5558, 9.6808)
CLOSE_KM = 6.0  # centroid of the postcodes vs. city centre
HESSEN_BOX = (49.3, 51.7, 7.7, 10.3)  # min_lat, max_lat, min_lon, max_lon


def resolve(session: Session, text: str, limit: int = 5) -> PlaceResolution:
    return resolve_place(session, text, limit)


def near(candidate_lat: float, candidate_lon: float, ref: tuple[float, float], km: float = CLOSE_KM) -> bool:
    return haversine_km(candidate_lat, candidate_lon, *ref) <= km


def describe(r: PlaceResolution) -> list[tuple[str, float, str, str]]:
    return [(c.name, c.score, c.kind, c.state) for c in r.candidates]


# ---------------------------------------------------------------------------------------------- names, aliases


@pytest.mark.parametrize(
    ("text", "name", "ref"),
    [
        ("Kassel", "Kassel", KASSEL),
        ("kassel", "Kassel", KASSEL),
        ("Kassel bitte", "Kassel", KASSEL),
        ("Frankfurt am Main", "Frankfurt am Main", FRANKFURT),
        ("FFM", "Frankfurt am Main", FRANKFURT),
        ("Frankfurt", "Frankfurt am Main", FRANKFURT),
        ("Frankfurt a. M.", "Frankfurt am Main", FRANKFURT),
        ("Gießen", "Gießen", GIESSEN),
        ("Giessen", "Gießen", GIESSEN),
        ("Marburg", "Marburg", MARBURG),
        ("Bad Homburg", "Bad Homburg vor der Höhe", BAD_HOMBURG),
        ("Darmstadt", "Darmstadt", DARMSTADT),
        ("Fulda", "Fulda", FULDA),
    ],
)
def test_hessian_city_resolves_surely(session: Session, text: str, name: str, ref: tuple[float, float]) -> None:
    r = resolve(session, text)
    best = r.best
    assert best is not None, text
    assert (best.name, best.kind, best.state) == (name, "ort", HESSEN), describe(r)
    assert r.is_sure, describe(r)
    assert near(best.lat, best.lon, ref), (best.lat, best.lon)


def test_postcode_resolves_to_that_postcode(session: Session) -> None:
    r = resolve(session, "35390")
    best = r.best
    assert best is not None and r.is_sure
    assert (best.name, best.kind, best.postcodes) == ("35390 Gießen", "plz", ("35390",))
    assert best.district == "Landkreis Gießen" and best.is_hessian
    assert near(best.lat, best.lon, GIESSEN, km=3)
    assert len(r.candidates) == 1  # a known postcode decides; names in the text are not looked at


def test_postcode_inside_a_sentence(session: Session) -> None:
    best = resolve(session, "Ich wohne in 34117 Kassel, gibt es da was?").best
    assert best is not None and (best.name, best.kind) == ("34117 Kassel", "plz")
    assert near(best.lat, best.lon, KASSEL, km=3)


def test_unknown_postcode_is_no_place(session: Session) -> None:
    assert not resolve(session, "00000").candidates
    assert not resolve(session, "123456").candidates  # six digits are not a postcode


def test_frankfurt_is_the_hessian_one(session: Session) -> None:
    r = resolve(session, "Frankfurt")
    assert r.best is not None and r.best.name == "Frankfurt am Main" and r.is_sure
    names = [c.name for c in r.candidates]
    assert "Frankfurt (Oder)" in names and names.index("Frankfurt (Oder)") > 0
    oder = resolve(session, "Frankfurt (Oder)")
    assert oder.best is not None and oder.best.name == "Frankfurt (Oder)" and oder.is_sure
    assert oder.best.lon > 14  # Brandenburg, not Hessen
    assert not oder.best.is_hessian


@pytest.mark.parametrize("text", ["Gießen", "Giessen", "GIESSEN", "gießen", "  Gießen  "])
def test_spellings_of_giessen_give_the_same_coordinates(session: Session, text: str) -> None:
    reference = resolve(session, "Gießen").best
    best = resolve(session, text).best
    assert reference is not None and best is not None
    assert (best.name, best.lat, best.lon) == (reference.name, reference.lat, reference.lon)


@pytest.mark.parametrize(
    ("text", "name", "ref"),
    [
        ("Ausbildung als Tischler in Kassel", "Kassel", KASSEL),
        ("Gibt es Ausbildungsplätze als Tischler in Kassel?", "Kassel", KASSEL),
        ("Praktikum in Darmstadt", "Darmstadt", DARMSTADT),
        ("Ausbildung als Koch in Fulda", "Fulda", FULDA),
        ("Ich suche was in Frankfurt am Main oder so", "Frankfurt am Main", FRANKFURT),
        ("in der Nähe von Gießen", "Gießen", GIESSEN),
        ("Ich suche eine Ausbildung als Kaufmann im Einzelhandel in Bad Homburg", "Bad Homburg vor der Höhe",
         BAD_HOMBURG),
        ("Tischler Kassel", "Kassel", KASSEL),
    ],
)
def test_place_inside_a_sentence(session: Session, text: str, name: str, ref: tuple[float, float]) -> None:
    r = resolve(session, text)
    assert r.best is not None and r.best.name == name, describe(r)
    assert r.is_sure
    assert near(r.best.lat, r.best.lon, ref)


def test_sentence_without_a_place_gives_none(session: Session) -> None:
    for text in ("Ich suche eine Ausbildung als Tischler", "Tischler", "Koch"):
        assert not resolve(session, text).is_sure, text


# ---------------------------------------------------------------------------------------------- ambiguity


def test_ambiguous_reichelsheim_is_not_sure(session: Session) -> None:
    r = resolve(session, "Reichelsheim")
    assert not r.is_sure
    by_name = {c.name: c for c in r.candidates}
    odenwald = by_name["Reichelsheim (Odenwaldkreis)"]
    wetterau = by_name["Reichelsheim (Wetteraukreis)"]
    assert (odenwald.district, wetterau.district) == ("Odenwaldkreis", "Wetteraukreis")
    assert odenwald.is_hessian and wetterau.is_hessian
    assert odenwald.score == wetterau.score == 100.0
    assert haversine_km(odenwald.lat, odenwald.lon, wetterau.lat, wetterau.lon) > 50


@pytest.mark.parametrize("district", ["Odenwaldkreis", "Wetteraukreis"])
def test_qualified_reichelsheim_is_sure(session: Session, district: str) -> None:
    r = resolve(session, f"Reichelsheim ({district})")
    assert r.is_sure and r.best is not None
    assert (r.best.name, r.best.district) == (f"Reichelsheim ({district})", district)


def test_ambiguity_does_not_depend_on_the_limit(session: Session) -> None:
    """is_sure is decided on all candidates, not only on those kept after ``limit``."""
    assert not resolve(session, "Reichelsheim", limit=1).is_sure


# ---------------------------------------------------------------------------------------------- typos


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Darmstad", "Darmstadt"),
        ("ausbildung in darmstad bitte", "Darmstadt"),
        ("Kasssel", "Kassel"),
        ("Wiesbadn", "Wiesbaden"),
        ("Offenbah", "Offenbach"),
        ("Hanaau", "Hanau"),
    ],
)
def test_typo_is_matched_fuzzily(session: Session, text: str, name: str) -> None:
    r = resolve(session, text)
    assert r.best is not None and r.best.name == name, describe(r)
    assert r.best.score < 100  # fuzzy, not exact
    assert r.is_sure and r.best.is_hessian


def test_weak_typo_is_a_candidate_but_not_sure(session: Session) -> None:
    r = resolve(session, "Marbrug")
    assert "Marburg" in [c.name for c in r.candidates]
    assert not r.is_sure


@pytest.mark.parametrize(("text", "hessian"), [("Kasel", "Kassel"), ("Giesen", "Gießen")])
def test_typo_of_hessian_city_is_not_sure_elsewhere(session: Session, text: str, hessian: str) -> None:
    """'Kasel' is a place near Trier and 'Giesen' one near Hildesheim, but here most likely typos of Kassel and
    Gießen: the Hessian city must be a candidate and the place elsewhere must not be sure."""
    r = resolve(session, text)
    assert hessian in [c.name for c in r.candidates], describe(r)
    assert not r.is_sure or (r.best is not None and r.best.is_hessian), describe(r)


@pytest.mark.parametrize(
    ("text", "name", "state"),
    [
        ("Berlin", "Berlin", "Berlin"),
        ("Ich will nach Berlin", "Berlin", "Berlin"),
        ("Hamburg", "Hamburg", "Hamburg"),
        ("München", "München", "Bayern"),
        ("Mainz", "Mainz", "Rheinland-Pfalz"),
        ("Aschaffenburg", "Aschaffenburg", "Bayern"),
        ("Neustadt an der Weinstraße", "Neustadt an der Weinstraße", "Rheinland-Pfalz"),
    ],
)
def test_cities_outside_hessen_stay_sure(session: Session, text: str, name: str, state: str) -> None:
    """The preference for Hessian readings must not make well-known places elsewhere unsure."""
    r = resolve(session, text)
    assert r.best is not None and (r.best.name, r.best.state) == (name, state), describe(r)
    assert r.is_sure, describe(r)


def test_plain_neustadt_is_not_sure_outside_hessen(session: Session) -> None:
    """Exact 'Neustadt' is in Thüringen; Hessen's is called 'Neustadt (Hessen)' (base-name score 95)."""
    r = resolve(session, "Neustadt")
    assert "Neustadt (Hessen)" in [c.name for c in r.candidates], describe(r)
    assert not r.is_sure or (r.best is not None and r.best.is_hessian), describe(r)


# ---------------------------------------------------------------------------------------------- junk


@pytest.mark.parametrize(
    "text",
    [
        "Xyzabc",
        "überall",
        "😀🎉",
        "'; DROP TABLE offer;--",
        "'; DROP TABLE place;--",
        "",
        "   ",
        "in",
        "\x00",
        "a" * 5000,
        "in " + "x" * 4997,
        " ".join(f"wort{i}" for i in range(1000)),
        "😀" * 5000,
    ],
)
def test_unknown_text_gives_no_sure_place(session: Session, text: str) -> None:
    places_before = session.scalar(select(func.count()).select_from(Place))
    r = resolve(session, text)
    assert not r.is_sure, describe(r)
    assert session.scalar(select(func.count()).select_from(Place)) == places_before


def test_long_text_with_a_place_does_not_crash(session: Session) -> None:
    r = resolve(session, "Ausbildung in Kassel " * 250)
    assert r.best is not None and r.best.name == "Kassel"


def test_hessen_alone_is_not_a_place_outside_hessen(session: Session) -> None:
    """'Hessen' is a stop word for places, not the village Hessen (Landkreis Harz, Sachsen-Anhalt)."""
    r = resolve(session, "Hessen")
    assert not (r.is_sure and r.best is not None and not r.best.is_hessian), describe(r)


# ---------------------------------------------------------------------------------------------- districts


@pytest.mark.parametrize(
    ("text", "district"),
    [
        ("Wetteraukreis", "Wetteraukreis"),
        ("Landkreis Kassel", "Landkreis Kassel"),
        ("Kreis Kassel", "Landkreis Kassel"),
        ("Main-Kinzig-Kreis", "Main-Kinzig-Kreis"),
        ("Landkreis Waldeck-Frankenberg", "Landkreis Waldeck-Frankenberg"),
        ("Kreisfreie Stadt Kassel", "Kreisfreie Stadt Kassel"),
    ],
)
def test_district_name_resolves_to_the_district(session: Session, text: str, district: str) -> None:
    r = resolve(session, text)
    assert r.best is not None and r.is_sure, describe(r)
    assert (r.best.name, r.best.kind, r.best.district) == (district, "kreis", district)


def test_landkreis_kassel_is_not_the_city(session: Session) -> None:
    county = resolve(session, "Landkreis Kassel").best
    city = resolve(session, "Kassel").best
    assert county is not None and city is not None
    assert county.district_code != city.district_code
    assert len(county.postcodes) > len(city.postcodes)
    assert (county.lat, county.lon) != (city.lat, city.lon)


def test_every_hessian_district_resolves_by_its_name(session: Session) -> None:
    for d in hessian_districts(session):
        r = resolve(session, d.name)
        assert r.is_sure and r.best is not None, (d.name, describe(r))
        assert (r.best.kind, r.best.district_code, r.best.name) == ("kreis", d.code, d.name)


def test_hessian_districts(session: Session) -> None:
    districts = hessian_districts(session)
    assert len(districts) == 26
    assert len({d.code for d in districts}) == 26 and all(d.code.startswith("06") for d in districts)
    names = {d.name for d in districts}
    assert {"Wetteraukreis", "Landkreis Kassel", "Kreisfreie Stadt Kassel", "Odenwaldkreis",
            "Kreisfreie Stadt Frankfurt am Main", "Landkreis Gießen"} <= names
    min_lat, max_lat, min_lon, max_lon = HESSEN_BOX
    for d in districts:
        assert d.postcodes > 0
        assert min_lat < d.lat < max_lat and min_lon < d.lon < max_lon, d
    assert [d.name for d in districts] == sorted(names)


# ---------------------------------------------------------------------------------------------- display names


@pytest.mark.parametrize("text", ["Reichelsheim", "35390", "Kassel", "Frankfurt", "Bad Homburg", "Gießen",
                                  "Wetteraukreis", "Landkreis Kassel", "Offenbach"])
def test_display_name_of_a_candidate_resolves_back(session: Session, text: str) -> None:
    candidates = resolve(session, text).candidates
    assert candidates
    for c in candidates:
        r = resolve(session, c.name)
        assert r.is_sure and r.best is not None, (c.name, describe(r))
        assert (r.best.name, r.best.kind, r.best.lat, r.best.lon) == (c.name, c.kind, c.lat, c.lon)


def _hessian_places(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(select(Place.name, Place.district_code).where(Place.state == HESSEN).distinct())
    return sorted((r.name, r.district_code) for r in rows)


def _round_trip_failures(session: Session, places: list[tuple[str, str]]) -> list[str]:
    """Hessian places that cannot be found by their name, or whose display name does not lead back to them."""
    failures = []
    for name, code in places:
        own = [c for c in resolve(session, name, limit=50).candidates
               if c.kind == "ort" and c.district_code == code and (c.name == name or c.name.startswith(f"{name} ("))]
        if not own:
            failures.append(f"{name} ({code}): not found by its name")
            continue
        r = resolve(session, own[0].name)
        best = r.best
        if not (r.is_sure and best is not None and (best.name, best.lat, best.lon) == (own[0].name, own[0].lat,
                                                                                          own[0].lon)):
            failures.append(f"{own[0].name}: resolves to {describe(r)[:2]}")
    return failures


# Display names longer than MAX_NGRAM (5) words: found only because a short answer is also tried as a whole.
LONG_NAMES = ("Rosbach vor der Höhe Nieder-Rosbach", "Rosbach vor der Höhe Ober-Rosbach",
              "Rosbach vor der Höhe Rodheim vor der Höhe")


def test_every_hessian_display_name_resolves_back(session: Session) -> None:
    places = _hessian_places(session)
    assert len(places) > 400
    assert _round_trip_failures(session, places) == []


def test_long_hessian_display_names_resolve_back(session: Session) -> None:
    places = [p for p in _hessian_places(session) if p[0] in LONG_NAMES]
    assert len(places) == len(LONG_NAMES)
    assert _round_trip_failures(session, places) == []
