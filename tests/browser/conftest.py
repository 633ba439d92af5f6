"""Browser tests: Playwright for Python drives Debian's chromium (/usr/bin/chromium, installed by `make browser`,
part of `make test`). Playwright downloads no browser of its own. Without chromium the tests skip with the
reason; under CI (CI=true) they fail instead."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_ci_service
from tests.rasa_cli import MODEL
from tests.servers import Stack, shared_stack

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "results" / "browser"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Debian's chromium with Playwright (tests/browser)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed] = report.failed
    return report


_failed = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Checked before anything is started (the stack fixture asks for it first)."""
    if not CHROMIUM.exists():
        require_ci_service("chromium", f"{CHROMIUM} is missing; `make browser` (part of `make test`) installs "
                                       "Debian's chromium with apt-get")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    """Module scope: Playwright's sync API keeps an asyncio loop marked as running in this thread while it is
    started, which breaks later tests that call ``asyncio.run`` – so it is stopped after each browser module."""
    from playwright.sync_api import Error, sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
    except Error as exc:
        playwright.stop()
        require_ci_service("chromium", f"{chromium} did not start: {exc}")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test; a screenshot lands in results/browser/ when it fails."""
    context = browser.new_context(locale="de-DE")
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    if request.node.stash.get(_failed, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture(scope="session")
def stack(
    chromium: Path, kb_url: str, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Stack]:
    """The same stack as tests/e2e (shared, started once per session); nothing starts without chromium."""
    if not MODEL.exists():
        pytest.fail("no trained model: run the suite through `make test`")
    yield shared_stack(kb_url, tmp_path_factory.mktemp("stack"), pytestconfig)
