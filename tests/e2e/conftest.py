from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.rasa_cli import MODEL
from tests.servers import Stack, start_stack


@pytest.fixture(scope="session")
def stack(kb_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail("no trained model: run the suite through `make test`")
    s = start_stack(tmp_path_factory.mktemp("stack"), kb_url)
    yield s
    s.stop()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)
