"""Bounded calls of the action server (``ACTION_TIMEOUT``, default 5 s).

Rasa 3.6 waits up to ``rasa.core.constants.DEFAULT_REQUEST_TIMEOUT`` (300 s) for the action server: the module
constant is imported by name into ``rasa.core.actions.action`` and passed as ``timeout=`` on every call of
``RemoteAction.run``, and no setting of endpoints.yml changes it. :func:`install` therefore sets that name in
``rasa.core.actions.action`` (only there: other endpoints such as the NLG server keep Rasa's default). It runs in
the Rasa process before the server starts (``rasa_plugins.serve``).

A call that times out raises ``asyncio.TimeoutError``; Rasa's processor logs it ("the actions events are lost")
and goes on with the next prediction, the turn ends without a bot message, and the REST channel answers with
``utter_technical_problem``. The user's message is stored in the tracker as in every turn.
"""

from __future__ import annotations

import logging

from rasa_plugins import settings

log = logging.getLogger(__name__)


def install(seconds: float | None = None) -> float:
    """Bound every call of the action server to ``seconds`` (default: ``ACTION_TIMEOUT``); returns the value."""
    import rasa.core.actions.action as action_module

    value = settings.action_timeout() if seconds is None else seconds
    action_module.DEFAULT_REQUEST_TIMEOUT = value  # type: ignore[attr-defined]
    log.info("action server calls time out after %.1f s", value)
    return value


def installed_timeout() -> float:
    """The timeout Rasa currently uses for action calls (tests)."""
    import rasa.core.actions.action as action_module

    return float(action_module.DEFAULT_REQUEST_TIMEOUT)  # type: ignore[attr-defined]
