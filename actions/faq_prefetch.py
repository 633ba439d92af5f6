"""The message's embedding, started before the action asks for it.

Rasa's first NLU component (``rasa_plugins/faq_prefetch.py``) posts each message's text to
``core.protocol.ACTION_FAQ_PREFETCH_PATH`` as it arrives. This route answers ``202`` at once and embeds the text in
one background thread while Rasa's NLU and policies run on the other core; the FAQ action of the same turn then
finds the vector (``knowledge_base.faq_search.QueryVectors``) instead of spending ~20 ms on it (docs/perf.md).

Only a help: a prefetch that is refused, dropped or late changes nothing but the time. It is dropped when the
thread is still busy with an earlier one (a busy server sheds the extra work; the action embeds itself), when the
retrieval or the prefetch is off (``FAQ_RETRIEVAL``, ``FAQ_PREFETCH``), when the text is empty, a button payload
or longer than ``FAQ_PREFETCH_MAX_CHARS``. The text is neither logged nor kept (the vector is kept under a hash of
it for at most a minute).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sanic import HTTPResponse, Request, Sanic, response

from actions.faq_index import prefetch_enabled
from core.protocol import ACTION_FAQ_PREFETCH_PATH, wants_faq_prefetch
from knowledge_base.faq_search import loaded_index

log = logging.getLogger(__name__)


def embed_for_the_index(text: str) -> None:
    """Only into an index that is loaded already: building it (``warm_up`` at the start, or the first question)
    takes long, and a stop of the server should not wait for a prefetch."""
    index = loaded_index()
    if index is not None:
        index.prefetch(text)


class Prefetcher:
    """One background thread; a text that arrives while it is busy is dropped."""

    def __init__(self, embed: Callable[[str], None] = embed_for_the_index) -> None:
        self._embed_text = embed
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="faq-prefetch")
        self._busy = threading.Semaphore(1)
        self.started = 0
        self.dropped = 0

    def offer(self, text: str) -> bool:
        """Start embedding ``text`` unless the thread is busy; True if started."""
        if not self._busy.acquire(blocking=False):
            self.dropped += 1
            return False
        self.started += 1
        if self.started == 1:
            log.info("faq prefetch: Rasa hands over the messages, their embeddings start before the action asks")
        self._pool.submit(self._embed, text)
        return True

    def _embed(self, text: str) -> None:
        try:
            self._embed_text(text)
        except Exception:  # noqa: BLE001 - only a help: the action embeds (or reports) itself
            log.warning("faq prefetch failed", exc_info=True)  # no text in logs
        finally:
            self._busy.release()


def add_prefetch_route(app: Sanic, prefetcher: Prefetcher | None = None) -> Prefetcher:
    """``POST ACTION_FAQ_PREFETCH_PATH`` on the action server (behind its token check)."""
    prefetcher = prefetcher or Prefetcher()

    @app.post(ACTION_FAQ_PREFETCH_PATH)
    async def prefetch(request: Request) -> HTTPResponse:
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - malformed JSON: nothing to do
            return response.json({"prefetch": False}, status=400)
        text = body.get("text") if isinstance(body, dict) else None
        started = prefetch_enabled() and wants_faq_prefetch(text) and prefetcher.offer(text)
        return response.json({"prefetch": started}, status=202)

    return prefetcher
