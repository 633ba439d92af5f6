"""Rasa bot messages → Telegram messages: HTML with everything escaped, inline-keyboard buttons, chunks that
fit Telegram's 4096-character limit.

HTML parse mode is used because its escaping is complete and simple (``& < >``); a bot text with ``*``, ``_``
or ``<b>`` is shown as written. The only markup recognised in bot texts is Markdown links ``[Titel](https://…)``
and ``**fett**``; bare URLs are linked by Telegram itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from core.protocol import MAX_BUTTONS, is_from_adviser

MAX_CHARS = 4096  # Telegram: 1–4096 characters after entity parsing (counted in UTF-16 code units)
_LINK = re.compile(r"\[([^\[\]\n]{1,200})\]\((https?://[^\s()<>\"]{1,2000})\)")
_BOLD = re.compile(r"\*\*([^*\n]{1,500})\*\*")
_TAG = re.compile(r"</?(?:b|a)(?: [^<>]*)?>")  # our own tags; "[^<>]" keeps it linear on "<a <a <a …"
ADVISER_LABEL = "**Beratung:**"  # adviser replies are marked, so nobody takes them for the bot
_BOUNDARIES = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message: ``html`` for parse_mode HTML; buttons go on the last chunk of a bot message."""

    html: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def to_html(text: str) -> str:
    """Escape for Telegram HTML; Markdown links and ``**bold**`` become tags."""
    out: list[str] = []
    pos = 0
    for match in _LINK.finditer(text):
        out.append(_bold(text[pos:match.start()]))
        label, url = match.group(1), match.group(2)
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(label, quote=False)}</a>')
        pos = match.end()
    out.append(_bold(text[pos:]))
    return "".join(out)


def _bold(text: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _BOLD.finditer(text):
        out.append(html.escape(text[pos:match.start()], quote=False))
        out.append(f"<b>{html.escape(match.group(1), quote=False)}</b>")
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def visible_text(text: str) -> str:
    """What Telegram shows (and counts) for a bot text: links and bold without their Markdown syntax."""
    return _BOLD.sub(r"\1", _LINK.sub(r"\1", text))


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Chunks of at most ``limit`` visible characters, cut at paragraph, line, sentence or word boundaries and
    never inside a Markdown link."""
    chunks: list[str] = []
    rest = text.strip()
    while utf16_len(visible_text(rest)) > limit:
        cut = _cut(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _cut(text: str, limit: int) -> int:
    hard = _longest_prefix(text, limit)
    protected = [(m.start(), m.end()) for m in _LINK.finditer(text, 0, hard + 2100)]
    for boundary in _BOUNDARIES:
        at = text.rfind(boundary, hard // 2, hard)
        while at > 0 and _inside(at, protected):
            at = text.rfind(boundary, hard // 2, at)
        if at > 0:
            return at + len(boundary.rstrip(" ")) if boundary.strip() else at
    for start, end in protected:  # no boundary: never cut a link in two
        if start < hard < end and start > 0:
            return start
    return hard


def _longest_prefix(text: str, limit: int) -> int:
    """The largest index whose prefix has at most ``limit`` visible UTF-16 units (conservatively: raw)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < position < end for start, end in spans)


def render(message: dict[str, Any]) -> list[Outgoing]:
    """One Rasa bot message as Telegram messages (empty list: nothing to show, e.g. a custom marker)."""
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    image = message.get("image") if isinstance(message.get("image"), str) else ""
    if image:
        text = f"{text}\n{image}".strip()
    if not text.strip():
        return []
    if is_from_adviser(message):
        text = f"{ADVISER_LABEL}\n{text}"
    chunks = [to_html(chunk) for chunk in split_text(text)]
    buttons = tuple(_buttons(message.get("buttons")))
    return [Outgoing(chunk, buttons if i == len(chunks) - 1 else ()) for i, chunk in enumerate(chunks)]


def _buttons(raw: Any) -> list[Button]:
    if not isinstance(raw, list):
        return []
    buttons: list[Button] = []
    for b in raw:
        if len(buttons) == MAX_BUTTONS:
            break
        if isinstance(b, dict) and isinstance(b.get("title"), str) and b["title"].strip():
            payload = b.get("payload") if isinstance(b.get("payload"), str) and b.get("payload") else b["title"]
            buttons.append(Button(b["title"].strip()[:64], payload))
    return buttons


def plain_text(html_text: str) -> str:
    """The visible text of our HTML (fallback when Telegram rejects the markup)."""
    return html.unescape(_TAG.sub("", html_text))
