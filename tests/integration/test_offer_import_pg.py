"""Offer imports on PostgreSQL: BA pages and CSV in one transaction each, upsert by source id, idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from knowledge_base.importers import OfferImportError, import_ba_files, import_offers_csv
from knowledge_base.models import Offer, Provider
from tests.conftest import build_kb

pytestmark = pytest.mark.postgres

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PAGES = [FIXTURES / "ba" / "page-1.json", FIXTURES / "ba" / "page-2.json"]
SOURCES = ("ba", "csv")


@pytest.fixture(scope="module")
def factory(pg_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(pg_url)
    build_kb(pg_url)  # loading is idempotent: fine if another test module loaded already
    engine = make_engine(pg_url)
    factory = make_session_factory(engine)
    _clean(factory)
    yield factory
    _clean(factory)  # leave the shared database as it was for other modules
    engine.dispose()


def _clean(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        s.execute(delete(Offer).where(Offer.source.in_(SOURCES)))
        s.execute(delete(Provider).where(Provider.source.in_(SOURCES)))


def _count(s: Session, source: str) -> int:
    return s.scalar(select(func.count()).select_from(Offer).where(Offer.source == source)) or 0


def test_ba_and_csv_import_on_postgres(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s, pytest.raises(OfferImportError):
        import_ba_files(s, [PAGES[0], FIXTURES / "ba" / "malformed.json"])
    with session_scope(factory) as s:
        assert _count(s, "ba") == 0

    with session_scope(factory) as s:
        report = import_ba_files(s, PAGES)
    assert (report.new, report.updated, report.unchanged, report.skipped_older) == (8, 1, 0, 1)
    with session_scope(factory) as s:
        report = import_ba_files(s, PAGES)
        assert (report.new, report.updated, report.unchanged, report.skipped_older) == (0, 0, 8, 2)
        offer = s.scalar(select(Offer).where(Offer.source == "ba", Offer.source_id == "410000101"))
        assert offer is not None
        assert offer.updated_at == dt.datetime(2026, 11, 15, 7, 30)
        assert offer.occupation is not None and offer.occupation.name == "Sozialassistent/-in"
        assert offer.provider.source_id == "880101" and not offer.is_demo
        assert _count(s, "ba") == 8

    with session_scope(factory) as s:
        report = import_offers_csv(s, FIXTURES / "offers.csv")
    assert (report.new, len(report.rejected)) == (6, 0)
    with session_scope(factory) as s:
        assert import_offers_csv(s, FIXTURES / "offers.csv").unchanged == 6
        assert _count(s, "csv") == 6
