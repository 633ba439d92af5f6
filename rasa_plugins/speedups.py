"""Two per-turn costs of Rasa 3.6 removed, behaviour unchanged (runs INSIDE the Rasa server; issue 13 §4).

Found by profiling a turn (tests/bench/profile_turn.py, cProfile of turns 91–100 of one conversation):

* ``Event.resolve_by_type`` walks the whole class tree of ``Event`` (``all_subclasses``, recursive, with
  ``inspect.isabstract`` on every class) for *every* event it deserialises. Reading a tracker of 740 events from the
  tracker store spent 80 % of its time there, so every turn got slower as the conversation grew. Here the
  type-name → class map is built once (in the same order, the first class with a name wins as before) and built
  again when a name is missing (an event class imported later);
* ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``, which first checks the (large, constant)
  response schema against the JSON-Schema meta-schema on every call of the action server. Here the validator is
  built once; a response is validated against the same schema and an invalid one raises the same
  ``ValidationError`` (``best_match``, with Rasa's hint appended).

:func:`install` patches both (idempotent). Imported by ``rasa_plugins.tracker_store``, i.e. when Rasa creates the
tracker store configured in ``bot/endpoints.yml``, before the first message.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_by_type: dict[str, type] = {}
_installed = False


def _rebuild() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    table: dict[str, type] = {}
    for cls in rasa.shared.utils.common.all_subclasses(Event):
        table.setdefault(cls.type_name, cls)
    _by_type.clear()
    _by_type.update(table)


def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
    """``Event.resolve_by_type`` with a cached table (same results, same errors)."""
    cls = _by_type.get(type_name)
    if cls is None:
        _rebuild()
        cls = _by_type.get(type_name)
    if cls is not None:
        return cls
    if type_name == "topic":
        return None  # Rasa: backwards compatibility to support old TopicSet events
    if default is not None:
        return default
    raise ValueError(f"Unknown event name '{type_name}'.")


_validator: Any = None


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with a validator built once."""
    global _validator
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.shared.constants import DOCS_BASE_URL

    if _validator is None:
        schema = self.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    error = best_match(_validator.iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the Action endpoint "
        f"is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Patch Rasa (once per process)."""
    global _installed
    if _installed:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    _installed = True
    log.info("Rasa speed-ups installed (event types cached, action responses validated by a compiled schema)")
