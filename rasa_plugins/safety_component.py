"""A Rasa NLU component, last in the pipeline (bot/config.yml): messages that signal a crisis or discrimination get
the intent ``crisis`` / ``ask_discrimination`` with confidence 1.0, whatever DIET or the FallbackClassifier said, marked
``safety_net`` (``core.protocol.SAFETY_NET_KEY``) also when DIET had said the same.

The dialogue then answers with the crisis help first (rules in bot/data/rules_safety.yml, also during a form). The
decision comes from ``rasa_plugins.safety.classify``; the message text is never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from core.protocol import SAFETY_NET_KEY
from rasa_plugins.safety import CRISIS, classify

log = logging.getLogger(__name__)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyOverride(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any]) -> None:
        self.component_config = config

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SafetyOverride:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or text.startswith("/"):
                continue  # button payloads say what they mean
            decided = classify(text)
            if decided is None:
                continue
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if current == CRISIS and decided != CRISIS:
                continue  # DIET's crisis wins over the patterns' discrimination
            if current != decided:
                log.info("safety override: intent %s replaced by %s", current, decided)
            top = {INTENT_NAME_KEY: decided, PREDICTED_CONFIDENCE_KEY: 1.0, SAFETY_NET_KEY: True}
            message.data[INTENT] = top
            ranking = [r for r in message.data.get(INTENT_RANKING_KEY, []) if r.get(INTENT_NAME_KEY) != decided]
            message.data[INTENT_RANKING_KEY] = [{INTENT_NAME_KEY: decided, PREDICTED_CONFIDENCE_KEY: 1.0}, *ranking]
        return messages
