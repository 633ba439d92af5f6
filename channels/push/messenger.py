"""Adviser replies to Facebook Messenger through the Graph API Send API (registered by the console when
``FACEBOOK_PAGE_ACCESS_TOKEN`` is set). The Rasa-side connector is ``rasa_plugins/messenger_channel.py``."""

from __future__ import annotations

from typing import Any

from channels.push.http import post
from core.protocol import is_from_adviser
from handoff.outbox import Pusher

MESSENGER_MAX = 2000  # Messenger's limit per text message
ADVISER_LABEL = "Beratung: "


def graph_pusher(page_token: str, graph_url: str, timeout: float = 10.0) -> Pusher:
    """Adviser replies to Facebook Messenger through the Graph API Send API. Sent with the ``HUMAN_AGENT`` tag,
    which Meta allows for replies by a human up to 7 days after the user's last message (outside the 24-hour
    window of normal replies). The conversation id is the user's page-scoped id (Rasa's sender id)."""
    url = graph_url.rstrip("/") + "/me/messages"

    def push(conversation_id: str, message: dict[str, Any]) -> bool:
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            return True  # nothing Messenger could show (e.g. a marker)
        if is_from_adviser(message):
            text = ADVISER_LABEL + text
        parts = split_for_messenger(text)
        for i, part in enumerate(parts):
            content: dict[str, Any] = {"text": part}
            replies = quick_replies(message.get("buttons")) if i == len(parts) - 1 else []
            if replies:  # e.g. the rating 1–5 after a closed case; Rasa's connector reads quick_reply.payload
                content["quick_replies"] = replies
            body = {"recipient": {"id": conversation_id}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                    "message": content}
            if post("Messenger push", url, params={"access_token": page_token}, json=body, timeout=timeout) is None:
                return False
        return True

    return push


def quick_replies(buttons: Any) -> list[dict[str, str]]:
    """Rasa buttons as Messenger quick replies (at most 13, titles of at most 20 characters)."""
    if not isinstance(buttons, list):
        return []
    return [{"content_type": "text", "title": str(b.get("title", ""))[:20], "payload": str(b.get("payload", ""))[:1000]}
            for b in buttons[:13] if isinstance(b, dict) and b.get("title") and b.get("payload")]


def split_for_messenger(text: str, limit: int = MESSENGER_MAX) -> list[str]:
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind(" ", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return [*parts, rest] if rest else parts
