"""Offer imports (BA Ausbildungssuche JSON, hand-kept CSV): counts, rejections, atomicity, idempotence."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from knowledge_base import cli
from knowledge_base.demo_offers import load_demo_offers
from knowledge_base.importers import (
    ImportReport,
    OfferImportError,
    Rejection,
    import_ba_files,
    import_offers_csv,
)
from knowledge_base.importers.common import (
    OFFER_TYPES,
    RowError,
    parse_datetime,
    parse_postcode,
    upsert_offers,
)
from knowledge_base.importers.offers_csv import offer_type_of
from knowledge_base.models import Offer, Place, Provider
from knowledge_base.offer_search import OFFER_TYPE_LABELS
from tests.conftest import build_kb

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BA = FIXTURES / "ba"
CSV_GOOD = FIXTURES / "offers.csv"
CSV_BAD = FIXTURES / "offers-bad.csv"


@pytest.fixture(scope="module")
def import_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated and loaded SQLite knowledge base for this module (building it takes about a second)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('offer-import') / 'kb.sqlite3'}"
    build_kb(url)
    return url


@pytest.fixture
def factory(import_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the module's database, with no offers and providers at the start of each test."""
    engine = make_engine(import_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        s.execute(delete(Offer))
        s.execute(delete(Provider))
    yield factory
    engine.dispose()


def ba(factory: sessionmaker[Session], *names: str) -> ImportReport:
    with session_scope(factory) as s:
        return import_ba_files(s, [BA / n for n in names])


def csv_import(factory: sessionmaker[Session], path: Path, delimiter: str | None = None) -> ImportReport:
    with session_scope(factory) as s:
        return import_offers_csv(s, path, delimiter)


def counts(report: ImportReport) -> tuple[int, int, int, int, int]:
    return report.new, report.updated, report.unchanged, report.skipped_older, len(report.rejected)


def offers(factory: sessionmaker[Session], source: str | None = None) -> dict[str, Offer]:
    with session_scope(factory) as s:
        query = select(Offer)
        if source:
            query = query.where(Offer.source == source)
        rows = {o.source_id: o for o in s.scalars(query)}
        for o in rows.values():
            _ = o.provider, o.occupation  # load before the session closes
        return rows


def count(factory: sessionmaker[Session], model: type[Offer] | type[Provider]) -> int:
    with session_scope(factory) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def snapshot(factory: sessionmaker[Session], source: str, ids: bool = True) -> list[tuple[Any, ...]]:
    """All offer rows of a source (with the provider's source id; without row ids if ``ids`` is False)."""
    columns = [c for c in Offer.__table__.columns if ids or c.name not in ("id", "provider_id")]
    query = (select(*columns, Provider.source_id).join(Provider, Offer.provider_id == Provider.id)
             .where(Offer.source == source).order_by(Offer.source_id))
    with session_scope(factory) as s:
        return [tuple(r) for r in s.execute(query)]


# ---------------------------------------------------------------------------------------------- BA: counts


def test_first_page_imports_every_row_as_new(factory: sessionmaker[Session]) -> None:
    report = ba(factory, "page-1.json")
    assert counts(report) == (6, 0, 0, 0, 0)
    stored = offers(factory)
    assert len(stored) == 6
    assert all(o.source == "ba" and not o.is_demo and not o.provider.is_demo for o in stored.values())


def test_newer_row_updates_and_older_row_is_skipped(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json")
    report = ba(factory, "page-2.json")
    assert counts(report) == (2, 1, 0, 1, 0)
    stored = offers(factory)
    updated = stored["410000101"]
    assert updated.updated_at == dt.datetime(2026, 11, 15, 7, 30)
    assert updated.parttime_possible is True
    assert updated.application_deadline == dt.date(2027, 6, 30)
    kept = stored["410000103"]  # page 2 holds an older state of it
    assert "ALTER STAND" not in kept.title
    assert kept.updated_at == dt.datetime(2026, 10, 5, 11, 0)


def test_pages_in_one_run_give_the_same_result_as_one_after_another(factory: sessionmaker[Session]) -> None:
    report = ba(factory, "page-1.json", "page-2.json")
    assert counts(report) == (8, 1, 0, 1, 0)
    together = snapshot(factory, "ba", ids=False)
    with session_scope(factory) as s:
        s.execute(delete(Offer))
        s.execute(delete(Provider))
    ba(factory, "page-1.json")
    ba(factory, "page-2.json")
    assert snapshot(factory, "ba", ids=False) == together


def test_reimport_changes_nothing(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json", "page-2.json")
    before = snapshot(factory, "ba")
    providers = count(factory, Provider)
    report = ba(factory, "page-1.json", "page-2.json")
    assert counts(report) == (0, 0, 8, 2, 0)
    assert report.changed == 0
    assert snapshot(factory, "ba") == before
    assert count(factory, Provider) == providers == 8


def test_rows_missing_essentials_are_rejected_and_the_others_import(factory: sessionmaker[Session]) -> None:
    report = ba(factory, "partial.json")
    assert counts(report)[:4] == (1, 0, 0, 0)
    reasons = {r.row: r.reason for r in report.rejected}
    assert all(r.file == "partial.json" for r in report.rejected)
    expected = {
        "termine[1]": "Termin-ID fehlt",
        "termine[2]": "Titel fehlt",
        "termine[3]": "Ort fehlt",
        "termine[4]": "'3539' ist keine fünfstellige",
        "termine[5]": "99999 ist unbekannt",
        "termine[6]": "Fortbildung",
        "termine[7]": "Aktualisierungsdatum fehlt",
        "termine[8]": "'angebot'",
        "termine[9]": "Anbieter fehlt",
    }
    assert set(reasons) == set(expected)
    for row, text in expected.items():
        assert text in reasons[row], (row, reasons[row])
    ids = {r.row: r.source_id for r in report.rejected}
    assert ids["termine[1]"] is None and ids["termine[2]"] == "410000203"
    assert list(offers(factory)) == ["410000201"]
    assert any("termine[5] (ID 410000206)" in line for line in report.lines())


# ---------------------------------------------------------------------------------------------- BA: malformed files


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["malformed.json"], "kein gültiges JSON"),
        (["wrong-structure.json"], "erwartet eine Liste"),
        (["page-1.json", "malformed.json"], "malformed.json"),
        (["page-1.json", "page-2.json", "wrong-structure.json"], "wrong-structure.json"),
        (["page-1.json", "fehlt.json"], "Datei fehlt"),
    ],
)
def test_malformed_file_stops_the_import_before_anything_is_written(
    factory: sessionmaker[Session], files: list[str], message: str
) -> None:
    with session_scope(factory) as s:
        with pytest.raises(OfferImportError, match=message):
            import_ba_files(s, [BA / f for f in files])
        assert not s.new and not s.dirty  # nothing pending either: even a caller that commits writes nothing
    assert count(factory, Offer) == 0
    assert count(factory, Provider) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "JSON-Objekt"),
        ('"termine"', "JSON-Objekt"),
        ('{"_embedded": {"termine": [1, 2]}}', "falsche Struktur bei '_embedded.termine.0'"),
        ('{"_embedded": []}', "falsche Struktur bei '_embedded'"),
        ('{"_embedded": {"angebote": []}}', "'_embedded.termine'"),
        ('{"page": {"totalElements": 5}}', "'_embedded.termine' fehlt"),
    ],
)
def test_wrong_structure_is_named(tmp_path: Path, factory: sessionmaker[Session], content: str, message: str) -> None:
    path = tmp_path / "seite.json"
    path.write_text(content, encoding="utf-8")
    with session_scope(factory) as s, pytest.raises(OfferImportError) as info:
        import_ba_files(s, [path])
    assert str(info.value).startswith("seite.json: ")
    assert message in str(info.value)


def test_empty_result_page_without_embedded_is_fine(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    path = tmp_path / "leer.json"
    path.write_text('{"_links": {}, "page": {"size": 20, "totalElements": 0, "totalPages": 0, "number": 0}}')
    with session_scope(factory) as s:
        assert counts(import_ba_files(s, [path])) == (0, 0, 0, 0, 0)


def test_file_that_is_not_utf8_is_rejected(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"_embedded": {"termine": [{"titel": "Bäcker"}]}}'.encode("latin-1"))
    with session_scope(factory) as s, pytest.raises(OfferImportError, match="UTF-8"):
        import_ba_files(s, [path])


# ---------------------------------------------------------------------------------------------- BA: field mapping


def test_occupation_is_linked_only_when_the_name_resolves_surely(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json", "page-2.json")
    stored = offers(factory)
    names = {sid: (o.occupation.name if o.occupation else None) for sid, o in stored.items()}
    assert names["410000101"] == "Sozialassistent/-in"
    assert names["410000102"] == "Erzieher/-in"
    assert names["410000104"] == "Tischler/-in"
    assert names["410000107"] == "Verkäufer/-in"
    assert names["410000103"] is None  # "Berufsvorbereitende Bildungsmaßnahme" names no occupation
    assert names["410000105"] is None


def test_offer_type_and_provider_kind_mapping(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json", "page-2.json")
    stored = offers(factory)
    assert {sid: o.offer_type for sid, o in stored.items()} == {
        "410000101": "schulisch",  # Berufsausbildung at a Berufsfachschule
        "410000102": "schulisch",
        "410000103": "berufsvorbereitung",  # title: BvB
        "410000104": "betrieblich",  # Berufsausbildung at a Bildungsträger (außerbetrieblich)
        "410000105": "ausbildungsbegleitend",  # title: AsA flex
        "410000106": "dual_studium",  # title: ausbildungsbegleitender Studiengang
        "410000107": "eq",  # title: Einstiegsqualifizierung
        "410000108": "betrieblich",  # Umschulung at a Bildungsträger
    }
    kinds = {sid: o.provider.kind for sid, o in stored.items()}
    assert kinds["410000101"] == "schule"
    assert kinds["410000103"] == "traeger"
    assert kinds["410000107"] == "kammer"
    provider = stored["410000101"].provider
    assert (provider.source, provider.source_id) == ("ba", "880101")
    assert provider.phone == "0641 9744010"
    assert provider.website == "https://www.lahn-campus-beispiel.de"
    assert (provider.street, provider.postcode, provider.place_name) == ("Ringallee 17", "35390", "Gießen")


def test_coordinates_from_the_payload_else_from_the_gazetteer(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json")
    stored = offers(factory)
    assert (stored["410000101"].lat, stored["410000101"].lon) == (50.58591, 8.67655)  # adresse.koordinaten
    assert (stored["410000102"].lat, stored["410000102"].lon) == (50.10537, 8.68971)  # ortStrasse.koordinaten
    assert (stored["410000104"].lat, stored["410000104"].lon) == (49.88307, 8.63816)  # breitengrad/laengengrad
    assert stored["410000102"].postcode == "60594"  # sent as a number
    with session_scope(factory) as s:
        for sid, postcode in (("410000103", "34117"), ("410000106", "35043")):  # none / 0,0 placeholder
            place = s.execute(select(Place.lat, Place.lon).where(Place.postcode == postcode)).first()
            assert place is not None
            assert (stored[sid].lat, stored[sid].lon) == pytest.approx((place.lat, place.lon), abs=1e-4)
            assert stored[sid].postcode == postcode


def test_dates_are_read_in_german_time(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json")
    offer = offers(factory)["410000101"]
    assert offer.start_date == dt.date(2027, 8, 1)  # midnight in Berlin is 22:00 UTC the day before
    assert offer.updated_at == dt.datetime(2026, 10, 1, 9, 15)
    assert offers(factory)["410000102"].application_deadline == dt.date(2027, 3, 31)


def test_provider_keeps_newer_data(factory: sessionmaker[Session]) -> None:
    ba(factory, "page-1.json", "page-2.json")
    ba(factory, "partial.json")  # 410000201 shares provider 880108 with 410000108
    stored = offers(factory)
    assert stored["410000201"].provider_id == stored["410000108"].provider_id
    assert count(factory, Provider) == 8


# ---------------------------------------------------------------------------------------------- CSV


def test_csv_imports_every_good_row(factory: sessionmaker[Session]) -> None:
    report = csv_import(factory, CSV_GOOD)
    assert counts(report) == (6, 0, 0, 0, 0)
    stored = offers(factory, "csv")
    assert {sid: o.offer_type for sid, o in stored.items()} == {
        "csv-001": "betrieblich", "csv-002": "praktikum", "csv-003": "eq", "csv-004": "dual_studium",
        "csv-005": "beratung", "csv-006": "schulisch",
    }
    assert {sid: o.provider.kind for sid, o in stored.items()} == {
        "csv-001": "betrieb", "csv-002": "betrieb", "csv-003": "betrieb", "csv-004": "betrieb",
        "csv-005": "beratung", "csv-006": "schule",
    }
    tischler = stored["csv-001"]
    assert tischler.occupation is not None and tischler.occupation.name == "Tischler/-in"
    assert (tischler.start_date, tischler.application_deadline) == (dt.date(2027, 8, 1), dt.date(2027, 3, 31))
    assert tischler.updated_at == dt.datetime(2026, 10, 15)
    assert tischler.provider.website == "https://www.schreinerei-beispiel.de"
    assert tischler.place_name == "Lauterbach (Hessen)" and tischler.lat == pytest.approx(50.6356)
    assert stored["csv-004"].updated_at == dt.datetime(2026, 11, 2, 8, 30)
    assert stored["csv-003"].parttime_possible and not stored["csv-004"].parttime_possible
    assert stored["csv-005"].occupation is None
    assert all(not o.is_demo for o in stored.values())


def test_csv_reimport_and_edits(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    csv_import(factory, CSV_GOOD)
    assert counts(csv_import(factory, CSV_GOOD)) == (0, 0, 6, 0, 0)
    text = CSV_GOOD.read_text(encoding="utf-8")
    edited = tmp_path / "offers.csv"
    edited.write_text(
        text.replace("Ausbildung Pflegefachfrau/Pflegefachmann;", "Ausbildung Pflegefachfrau/-mann (Teilzeit);")
        .replace("Ausbildung Tischler/in (m/w/d)", "Tischler/in gesucht")  # same "aktualisiert": source wins
        .replace("Autohaus Beispiel Friedberg;;Praktikum;Kfz-Mechatroniker;61169;Friedberg (Hessen);"
                 "Kaiserstraße 120;nein;;;06031 99880;praktikum@autohaus-beispiel.de;;2026-10-20",
                 "Autohaus Beispiel Friedberg;;Praktikum;Kfz-Mechatroniker;61169;Friedberg (Hessen);"
                 "Kaiserstraße 120;nein;;;06031 99880;praktikum@autohaus-beispiel.de;;2026-09-01"),
        encoding="utf-8",
    )
    report = csv_import(factory, edited)
    assert counts(report) == (0, 1, 4, 1, 0)
    stored = offers(factory, "csv")
    assert stored["csv-006"].title == "Ausbildung Pflegefachfrau/-mann (Teilzeit)"  # no date: compared by content
    assert stored["csv-001"].title == "Ausbildung Tischler/in (m/w/d)"


def test_csv_bad_rows_are_rejected_with_line_numbers(factory: sessionmaker[Session]) -> None:
    report = csv_import(factory, CSV_BAD)  # comma-separated: detected from the header
    assert counts(report)[:4] == (1, 0, 0, 0)
    reasons = {r.row: r.reason for r in report.rejected}
    assert set(reasons) == {f"Zeile {n}" for n in range(3, 11)}
    assert "art 'Ferienjob' unbekannt" in reasons["Zeile 3"]
    assert all(key in reasons["Zeile 3"] for key in OFFER_TYPES)
    assert "'titel' ist leer" in reasons["Zeile 4"]
    assert "'341'" in reasons["Zeile 5"]
    assert "31.02.2027" in reasons["Zeile 6"]
    assert "'vielleicht'" in reasons["Zeile 7"]
    assert "doppelt" in reasons["Zeile 8"] and "Zeile 2" in reasons["Zeile 8"]
    assert "99999" in reasons["Zeile 9"]
    assert "mehr als Spalten" in reasons["Zeile 10"]
    assert list(offers(factory, "csv")) == ["bad-001"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id;titel;art\n1;Praktikum;Praktikum\n", "Pflichtspalte(n) fehlen: anbieter, plz"),
        ("id;titel;anbieter;art;plz;bewerbungschluss\n", "unbekannte Spalte(n): bewerbungschluss"),
        ("id;titel;anbieter;art;plz;PLZ\n", "doppelt: plz"),
        ("", "leer"),
    ],
)
def test_csv_header_errors_stop_the_import(
    tmp_path: Path, factory: sessionmaker[Session], content: str, message: str
) -> None:
    path = tmp_path / "angebote.csv"
    path.write_text(content, encoding="utf-8")
    with session_scope(factory) as s, pytest.raises(OfferImportError) as info:
        import_offers_csv(s, path)
    assert message in str(info.value)
    assert count(factory, Offer) == 0


def test_csv_not_utf8_is_rejected(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(CSV_GOOD.read_text(encoding="utf-8").encode("cp1252"))
    with session_scope(factory) as s, pytest.raises(OfferImportError, match="UTF-8"):
        import_offers_csv(s, path)
    assert count(factory, Offer) == 0


def test_csv_tab_separated_with_explicit_delimiter_and_bom(tmp_path: Path, factory: sessionmaker[Session]) -> None:
    path = tmp_path / "tab.csv"
    rows = ["ID\tTitel\tAnbieter\tArt\tPLZ\tStraße\tBeruf", "t-1\tPraktikum Büro\tKanzlei Beispiel\tPraktikum\t35390"
            "\tMarktplatz 1\tRaumfahrtkapitän"]
    path.write_bytes(("\ufeff" + "\n".join(rows) + "\n").encode("utf-8"))
    report = csv_import(factory, path, delimiter="\t")
    assert counts(report) == (1, 0, 0, 0, 0)
    offer = offers(factory, "csv")["t-1"]
    assert offer.street == "Marktplatz 1" and offer.occupation is None
    assert [w.source_id for w in report.warnings] == ["t-1"]
    assert "Raumfahrtkapitän" in report.warnings[0].reason


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("Praktikum", "praktikum"), ("duales Studium", "dual_studium"), ("dual_studium", "dual_studium"),
        ("EQ", "eq"), ("Einstiegsqualifizierung (EQ)", "eq"), ("Ausbildung im Betrieb", "betrieblich"),
        ("schulische Ausbildung", "schulisch"), ("AsA flex", "ausbildungsbegleitend"), ("BvB", "berufsvorbereitung"),
        ("Beratung", "beratung"),
    ],
)
def test_csv_accepts_german_type_labels(label: str, key: str) -> None:
    assert offer_type_of(label) == key


def test_csv_unknown_type_is_a_row_error() -> None:
    with pytest.raises(RowError, match="erlaubt: betrieblich"):
        offer_type_of("Ferienjob")


# ---------------------------------------------------------------------------------------------- demo offers


def test_imports_never_touch_demo_offers(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        load_demo_offers(s, size=40, seed=7, today=dt.date(2026, 11, 1))
    demo_before = snapshot(factory, "demo")
    assert len(demo_before) == 40
    ba(factory, "page-1.json", "page-2.json")
    csv_import(factory, CSV_GOOD)
    assert snapshot(factory, "demo") == demo_before
    with session_scope(factory) as s:
        load_demo_offers(s, size=20, seed=8, today=dt.date(2026, 11, 1))  # and the other way round
    assert len(offers(factory, "ba")) == 8 and len(offers(factory, "csv")) == 6
    with session_scope(factory) as s:
        assert s.scalar(select(func.count()).select_from(Offer).where(Offer.is_demo, Offer.source != "demo")) == 0
        with pytest.raises(ValueError, match="Demo"):
            upsert_offers(s, "demo", [], ImportReport("demo"))


# ---------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_db(factory: sessionmaker[Session], import_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KB_DATABASE_URL", import_url)
    return import_url


def test_cli_malformed_page_exits_2_and_imports_nothing(
    cli_db: str, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["import-ba", str(BA / "page-1.json"), str(BA / "malformed.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert "malformed.json" in err and "Nichts wurde importiert." in err
    assert count(factory, Offer) == 0


def test_cli_imports_and_reports(cli_db: str, factory: sessionmaker[Session],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["import-ba", str(BA / "page-1.json"), str(BA / "page-2.json")]) == 0
    out, err = capsys.readouterr()
    assert "neu                          8" in out
    assert "übersprungen (älter als DB)  1" in out
    assert "Import ba" not in err  # no progress bar when stderr is not a terminal
    assert cli.main(["import-csv", str(CSV_BAD), "--delimiter", ","]) == 0
    out = capsys.readouterr().out
    assert "abgelehnt                    8" in out and "Zeile 3 (ID bad-002)" in out
    assert cli.main(["import-csv", str(FIXTURES / "fehlt.csv")]) == 2
    assert "Datei fehlt" in capsys.readouterr().err


def test_cli_demo_offers(cli_db: str, factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo-offers", "--size", "25", "--seed", "3", "--quiet"]) == 0
    assert "keine echten Ausbildungsplätze" in capsys.readouterr().out
    assert len(offers(factory, "demo")) == 25
    with pytest.raises(SystemExit) as info:
        cli.main(["demo-offers", "--size", "viele"])
    assert info.value.code == 2


def test_progress_bar_when_asked(factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]) -> None:
    with session_scope(factory) as s:
        import_ba_files(s, [BA / "page-1.json"], quiet=False)
    assert "Import ba" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- helpers


def test_report_lists_at_most_50_rejections() -> None:
    report = ImportReport("csv", rejected=[Rejection("a.csv", f"Zeile {n}", None, "kaputt") for n in range(60)])
    lines = report.lines()
    assert sum("kaputt" in line for line in lines) == 50
    assert lines[-1].strip() == "… und 10 weitere"
    assert report.read == 60


def test_parsing_helpers() -> None:
    assert parse_postcode(6108) == "06108"
    assert parse_postcode(" 35390 ") == "35390"
    with pytest.raises(RowError):
        parse_postcode("3539")
    assert parse_datetime("2026-10-01T08:30:00Z", "x") == dt.datetime(2026, 10, 1, 10, 30)
    assert parse_datetime("1.8.2027", "x") == dt.datetime(2027, 8, 1)
    assert parse_datetime("15.10.2026 14:05", "x") == dt.datetime(2026, 10, 15, 14, 5)
    assert parse_datetime(1785535200000, "x") == dt.datetime(2026, 8, 1)
    assert parse_datetime("", "x") is None
    with pytest.raises(RowError, match="Beginn"):
        parse_datetime("bald", "Beginn")


def test_offer_types_are_the_search_types() -> None:
    assert set(OFFER_TYPES) == set(OFFER_TYPE_LABELS)


def test_fixture_pages_are_json_with_the_api_shape() -> None:
    for name in ("page-1.json", "page-2.json", "partial.json"):
        data = json.loads((BA / name).read_text(encoding="utf-8"))
        assert isinstance(data["_embedded"]["termine"], list) and data["page"]["totalElements"] >= 1
