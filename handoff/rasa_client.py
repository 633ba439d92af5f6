"""Give the conversation back to the bot through Rasa's HTTP API (Rasa runs with ``--enable-api --auth-token``).

``resume(conversation_id)`` appends a ``resume`` event to the tracker (the hand-off paused it) and executes
``utter_handoff_back``, so the bot says it is back (in the persona's du/Sie form, chosen by Rasa). It returns the
bot messages of that action; the caller dispatches them to the user's channel (``outbox.dispatch``).
Any failure raises ``core.errors.RasaUnavailable``: the conversation is not resumed yet, try again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from core.errors import RasaUnavailable
from core.protocol import BACK_ACTION, RESUME_EVENT

__all__ = ["RasaUnavailable", "resume"]


def resume(
    conversation_id: str,
    *,
    rasa_url: str,
    token: str | None,
    timeout: float = 5.0,
    action: str = BACK_ACTION,
    transport: httpx.BaseTransport | None = None,
) -> list[dict[str, Any]]:
    """Resume the paused conversation and return the bot's "I'm back" messages (without ``recipient_id``)."""
    base = rasa_url.rstrip("/")
    params = {"token": token} if token else {}
    path = f"/conversations/{quote(conversation_id, safe='')}"
    try:
        with httpx.Client(base_url=base, timeout=timeout, transport=transport) as client:
            _check(client.post(f"{path}/tracker/events", params=params, json=[{"event": RESUME_EVENT}]))
            reply = _check(client.post(f"{path}/execute", params=params, json={"name": action}))
            # /execute does not end the bot's turn: without action_listen the next user message would follow the
            # utterance directly, no rule would match and the fallback would answer.
            _check(client.post(f"{path}/tracker/events", params=params,
                               json=[{"event": "action", "name": "action_listen"}]))
    except httpx.HTTPError as exc:
        raise RasaUnavailable(f"Rasa nicht erreichbar: {type(exc).__name__}: {exc}") from exc
    try:
        messages = reply.json().get("messages") or []
    except ValueError as exc:
        raise RasaUnavailable("Rasa hat keine JSON-Antwort geliefert") from exc
    return [{k: v for k, v in m.items() if k != "recipient_id"} for m in messages if isinstance(m, dict)]


def _check(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise RasaUnavailable(f"Rasa antwortete mit HTTP {response.status_code}: {response.text[:200]}")
    return response
