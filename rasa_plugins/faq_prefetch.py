"""A Rasa NLU component, first in the pipeline (bot/config.yml): hands each message's text to the action server
(``core.protocol.ACTION_FAQ_PREFETCH_PATH``) before Rasa's own NLU starts, so that the action server embeds it for
the FAQ retrieval on the other core while DIET and the policies run. The FAQ action of the turn then finds the
vector ready (``actions/faq_prefetch.py``; measured in docs/perf.md).

Nothing here can delay or change the parse: the text goes into a small queue that one background thread sends
from (a full queue drops it; the action embeds itself), and a failed or slow request is only logged at debug level,
without the text. Button payloads, empty texts and texts over ``FAQ_PREFETCH_MAX_CHARS`` are not sent; training
data never.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

import requests
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.protocol import wants_faq_prefetch
from rasa_plugins.settings import faq_prefetch_target

log = logging.getLogger(__name__)
QUEUE_SIZE = 8
TIMEOUT = (0.5, 2.0)  # connect, read (seconds): the action server answers 202 at once


class PrefetchSender:
    """One daemon thread that posts queued texts to the action server, with a kept-alive connection."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue: queue.Queue[tuple[str, str, dict[str, str]]] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def offer(self, text: str) -> bool:
        target = faq_prefetch_target()
        if target is None:
            return False
        self._ensure_thread()
        try:
            self._queue.put_nowait((text, *target))
        except queue.Full:
            return False  # the action embeds itself
        return True

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="faq-prefetch", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        session = requests.Session()
        while True:
            text, url, headers = self._queue.get()
            try:
                session.post(url, json={"text": text}, headers=headers, timeout=TIMEOUT)
            except requests.RequestException as exc:
                log.debug("faq prefetch not delivered: %s", type(exc).__name__)


SENDER = PrefetchSender()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class FaqPrefetch(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> FaqPrefetch:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data  # training data is never sent

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if wants_faq_prefetch(text):
                SENDER.offer(text)
        return messages
