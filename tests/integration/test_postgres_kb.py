"""The knowledge base on PostgreSQL: Alembic migration, loading (idempotent), resolution and actions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from knowledge_base.loader import load_content, read_content
from knowledge_base.models import Base, Occupation
from knowledge_base.resolve import AliasIndex, find_funding

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def loaded(pg_url: str) -> str:
    upgrade(pg_url)
    factory = make_session_factory(make_engine(pg_url))
    with session_scope(factory) as s:
        load_content(s, read_content())
    return pg_url


def test_migration_creates_every_model_table(loaded: str) -> None:
    tables = set(inspect(make_engine(loaded)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_second_load_changes_nothing(loaded: str) -> None:
    factory = make_session_factory(make_engine(loaded))
    with session_scope(factory) as s:
        assert load_content(s, read_content()).changed == 0
        assert s.scalar(select(func.count()).select_from(Occupation)) >= 500


def test_resolution_and_funding_on_postgres(loaded: str) -> None:
    factory = make_session_factory(make_engine(loaded))
    with session_scope(factory) as s:
        best = AliasIndex.build(s).resolve("Kfz-Mechatronikerin").best
        assert best is not None and best.name == "Kraftfahrzeugmechatroniker/-in"
        program = find_funding(s, "Was ist BAB?")
        assert program is not None and [float(a.amount_eur) for a in program.amounts][:1] == [822.0]
