"""Shared fixtures: a knowledge base in a fresh SQLite file, migrated with Alembic and loaded from content."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from core.db import make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from knowledge_base.loader import CONTENT_DIR, load_content, read_content

ROOT = Path(__file__).resolve().parent.parent


def build_kb(url: str, content_dir: Path = CONTENT_DIR, demo_offers: str | None = None) -> None:
    """Migrate and load the content; ``demo_offers="small"`` also loads the demo offers that `make run` loads."""
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with session_scope(factory) as session:
        load_content(session, read_content(content_dir))
    if demo_offers:
        from knowledge_base.demo_offers import load_demo_offers

        with session_scope(factory) as session:
            load_demo_offers(session, demo_offers)


@pytest.fixture(scope="session")
def kb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'kb.sqlite3'}"
    build_kb(url, demo_offers="small")
    return url


@pytest.fixture
def session(kb_url: str) -> Iterator[Session]:
    factory = make_session_factory(make_engine(kb_url))
    with session_scope(factory) as s:
        yield s


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture
def actions_kb(kb_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the action server's knowledge-base access at the test database."""
    from actions import kb

    monkeypatch.setenv("KB_DATABASE_URL", kb_url)
    kb.reset()
    yield kb_url
    kb.reset()


@pytest.fixture
def actions_kb_without_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The action server's knowledge base fails: a database without tables (every query raises)."""
    from actions import kb

    monkeypatch.setenv("KB_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    kb.reset()
    yield
    kb.reset()


def require_ci_service(name: str, reason: str) -> None:
    """Skip with a visible reason on a machine without the service; under CI the service must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


# `make test` runs the suite in two phases (scripts/test.sh): the tests below need the trained model and run after
# training; all others run while the model trains (TEST_PHASE=without-model). A test that starts Rasa or runs
# `rasa test` in the first phase fails with a message naming this list (tests/servers.py, tests/rasa_cli.py).
NEEDS_MODEL = (
    "browser/",
    "e2e/",
    "telegram/",
    "integration/test_production_stack.py",
    "ops/test_prod_profile.py",
    "ops/test_run_faults.py",
    "rasa/test_fast_load.py",
    "rasa/test_rasa_data.py",
)
PHASE = os.environ.get("TEST_PHASE", "")  # "", "without-model" or "with-model"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = ROOT / "tests"
    for item in items:
        if item.path.relative_to(tests).as_posix().startswith(NEEDS_MODEL):
            item.add_marker(pytest.mark.model)


def pytest_sessionstart(session: pytest.Session) -> None:
    if PHASE == "with-model":  # the first phase's measurements stay for this phase's summary
        return
    for old in (ROOT / "results").glob("*.txt"):
        old.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    """Print the measurements (NLU report, out-of-domain rates) that tests wrote to results/ (in `make test`: at the
    end of the second phase, both phases' files)."""
    if PHASE == "without-model":
        return
    for path in sorted((ROOT / "results").glob("*.txt")):
        terminalreporter.write_sep("-", path.name)
        terminalreporter.write(path.read_text(encoding="utf-8"))
