"""A local fake of the Telegram Bot API, served over real HTTP on 127.0.0.1.

Tests point a real python-telegram-bot ``Application`` (or ``telegram.Bot``) at it::

    with FakeTelegram(token="123:ABC") as tg:
        app = (
            ApplicationBuilder().token("123:ABC")
            .base_url(tg.base_url).base_file_url(tg.base_file_url).build()
        )
        tg.user_text(4711, "Hallo")
        ...
        tg.wait_for_messages(4711, 1)

Nothing inside PTB is mocked: PTB builds ``f"{base_url}{token}/{method}"`` and sends HTTP
requests, which this module parses the way the Bot API does (form-urlencoded with JSON-encoded
non-string values, multipart/form-data when files are uploaded, JSON bodies, query strings).

What is faked
    getMe, getUpdates (offset confirmation, long polling that wakes on ``push_update``, limit,
    allowed_updates, 409 while a webhook is set or when a newer getUpdates starts), sendMessage, sendDocument,
    editMessageText, editMessageReplyMarkup, deleteMessage, answerCallbackQuery, sendChatAction,
    setWebhook, deleteWebhook, getWebhookInfo, setMyCommands, deleteMyCommands, getMyCommands,
    getFile (plus file download under ``base_file_url``), close and logOut. Other methods answer
    404 like the real API; tests can add more with ``set_handler``.

Limits enforced like Telegram, so bridge bugs show up as ``telegram.error.BadRequest``
    * wrong token -> 401 "Unauthorized"; unknown method -> 404 "Not Found".
    * message text must be 1..4096 characters *after* entity parsing ("message text is empty",
      "message is too long"); whitespace-only text counts as empty.
    * parse_mode HTML: only b, strong, i, em, u, ins, s, strike, del, a href, code, pre,
      span class="tg-spoiler", tg-spoiler, blockquote and tg-emoji; only the named entities
      &lt; &gt; &amp; &quot; (plus numeric ones); unknown or unclosed tags and a bare "<" give
      "can't parse entities: ...".
    * parse_mode MarkdownV2: the reserved characters _*[]()~`>#+-=|{}.! must be escaped with
      "\\" outside entities; unclosed entities are rejected. Legacy "Markdown" is checked roughly.
    * inline keyboard buttons: non-empty text, exactly one action field, callback_data 1..64 bytes
      ("BUTTON_DATA_INVALID").
    * editing a message into exactly its current content -> "message is not modified: ...";
      editing a message that does not exist -> "message to edit not found".
    * answerCallbackQuery only for callback queries that were pushed ("query is too old ...").
    * setWebhook needs an HTTPS URL on port 443, 80, 88 or 8443.

Not faked: groups beyond a minimal chat object, media sending, inline mode, payments, flood
limits (inject them with ``fail_next``), leading/trailing whitespace trimming of message text.
Every request is recorded as a ``Call``; ``fail_next`` and ``drop_next`` inject Telegram's real
error responses or a dropped connection.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JSONDict = dict[str, Any]
Handler = Callable[[JSONDict], Any]

MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPDATES_LIMIT = 100
DEFAULT_BOT_USERNAME = "test_beruf_bot"
DEFAULT_FIRST_NAME = "Lea"

# Parameters that are strings in the Bot API. PTB sends strings unencoded and everything else
# JSON-encoded, so only these must *not* be JSON-decoded ("123" as a text stays a string).
STRING_PARAMS = frozenset(
    {
        "text",
        "parse_mode",
        "caption",
        "callback_query_id",
        "url",
        "secret_token",
        "action",
        "ip_address",
        "language_code",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "sticker",
        "photo",
        "voice",
        "document",
        "audio",
        "video",
        "animation",
        "question",
        "explanation",
        "query",
        "certificate",
    }
)
# Parameters that hold JSON objects; decoded even if a JSON body carries them as strings.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "caption_entities",
        "media",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
# Update types Telegram leaves out when allowed_updates is empty (the default).
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
ERROR_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------------------------
# Records and errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request the fake received (successful or not)."""

    method: str
    params: JSONDict
    at: float  # time.monotonic() when the request arrived
    ok: bool = True
    status: int = 200
    description: str | None = None  # error description when not ok
    result: Any = None  # the "result" that was returned when ok


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str | None
    remaining: int
    drop: bool = False
    after: int = 0  # calls that still succeed before the first failure


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


class ApiError(Exception):
    """Raised by method handlers to answer with a Bot API error."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def _entity_error(detail: str) -> ApiError:
    return _bad_request(f"can't parse entities: {detail}")


def _json_reply(status: int, payload: JSONDict) -> _Reply:
    return _Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


def _decode_form_value(name: str, raw: str) -> Any:
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _decode_multipart(content_type: str, body: bytes) -> JSONDict:
    header = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    params: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            params[name] = UploadedFile(filename, part.get_content_type(), payload)
        else:
            params[name] = _decode_form_value(name, payload.decode("utf-8"))
    return params


def _decode_json_body(body: bytes) -> JSONDict:
    data = json.loads(body.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("JSON body must be an object")
    for name in JSON_PARAMS & data.keys():
        if isinstance(data[name], str):
            data[name] = _decode_form_value(name, data[name])
    return data


def decode_params(query: str, content_type: str, body: bytes) -> JSONDict:
    """Decode Bot API parameters from the query string and a form, multipart or JSON body."""
    params: JSONDict = {k: _decode_form_value(k, v) for k, v in parse_qsl(query, keep_blank_values=True)}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return params
    if media_type == "multipart/form-data":
        params.update(_decode_multipart(content_type, body))
    elif media_type == "application/json":
        params.update(_decode_json_body(body))
    else:  # application/x-www-form-urlencoded (also the fallback)
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        params.update({k: _decode_form_value(k, v) for k, v in pairs})
    return params


# --------------------------------------------------------------------------------------------
# Formatted text: HTML, MarkdownV2, Markdown -> (plain text, entities with UTF-16 offsets)
# --------------------------------------------------------------------------------------------


class _TextBuilder:
    """Collects plain text and tracks the UTF-16 length Telegram uses for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos16 = 0
        self.entities: list[JSONDict] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos16 += utf16_len(text)

    def entity(self, kind: str, start16: int, **extra: Any) -> None:
        if self.pos16 > start16:  # Telegram drops empty entities
            self.entities.append({"type": kind, "offset": start16, "length": self.pos16 - start16, **extra})

    def result(self) -> tuple[str, list[JSONDict]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of MessageEntity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


_HTML_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_HTML_ATTR_RE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]+);")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start16: int
    language: str | None = None


def _unescape_html(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith(("#x", "#X")):
            return chr(int(token[2:], 16))
        if token.startswith("#"):
            return chr(int(token[1:]))
        return _HTML_NAMED.get(token, match.group(0))

    return _HTML_ENTITY_RE.sub(replace, text)


def _html_attrs(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for name, value in _HTML_ATTR_RE.findall(raw):
        attrs[name.lower()] = _unescape_html(value.strip("\"'"))
    return attrs


def _html_open(source: str, index: int, name: str, attrs: dict[str, str], pos16: int) -> _OpenTag:
    if name not in _HTML_TAGS or (name == "span" and attrs.get("class") != "tg-spoiler"):
        raise _entity_error(f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, index)}')
    return _OpenTag(name, attrs, pos16)


def _html_close(out: _TextBuilder, tag: _OpenTag, stack: list[_OpenTag]) -> None:
    kind = _HTML_TAGS[tag.name]
    if tag.name == "a":
        if "href" in tag.attrs:
            out.entity("text_link", tag.start16, url=tag.attrs["href"])
    elif (
        tag.name == "code"
        and stack
        and stack[-1].name == "pre"
        and tag.attrs.get("class", "").startswith("language-")
    ):
        stack[-1].language = tag.attrs["class"].removeprefix("language-")
    elif tag.name == "pre" and tag.language:
        out.entity("pre", tag.start16, language=tag.language)
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        out.entity("expandable_blockquote", tag.start16)
    elif tag.name == "tg-emoji":
        out.entity(kind, tag.start16, custom_emoji_id=tag.attrs.get("emoji-id", ""))
    else:
        out.entity(kind, tag.start16)


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML subset; raises ApiError(400) like Telegram on malformed markup."""
    out = _TextBuilder()
    stack: list[_OpenTag] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&":
            match = _HTML_ENTITY_RE.match(source, index)
            if match and (match.group(1).startswith("#") or match.group(1) in _HTML_NAMED):
                out.add(_unescape_html(match.group(0)))
                index = match.end()
            else:
                out.add(char)
                index += 1
            continue
        if char != "<":
            out.add(char)
            index += 1
            continue
        match = _HTML_TAG_RE.match(source, index)
        if match is None:
            offset = _byte_offset(source, index)
            if ">" not in source[index:]:
                raise _entity_error(f"Unclosed start tag at byte offset {offset}")
            raise _entity_error(f'Unsupported start tag "" at byte offset {offset}')
        closing, name = match.group(1) == "/", match.group(2).lower()
        if not closing:
            stack.append(_html_open(source, index, name, _html_attrs(match.group(3)), out.pos16))
        elif not stack:
            raise _entity_error(f"Unexpected end tag at byte offset {_byte_offset(source, index)}")
        elif stack[-1].name != name:
            raise _entity_error(
                f"Unmatched end tag at byte offset {_byte_offset(source, index)}, "
                f'expected "</{stack[-1].name}>", found "</{name}>"'
            )
        else:
            _html_close(out, stack.pop(), stack)
        index = match.end()
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.result()


MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "blockquote": "BlockQuote",
}
_MD2_TOGGLES = (
    ("__", "underline"),
    ("||", "spoiler"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)


@dataclass
class _MdFrame:
    kind: str
    start16: int
    byte_offset: int


class _MarkdownV2Parser:
    """A reasonably faithful MarkdownV2 parser (escapes, nesting, code/pre, links, quotes)."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out = _TextBuilder()
        self.stack: list[_MdFrame] = []

    def parse(self) -> tuple[str, list[JSONDict]]:
        while self.i < len(self.src):
            self._step()
        self._close_quote()
        if self.stack:
            frame = self.stack[-1]
            raise _entity_error(
                f"Can't find end of {_MD2_NAMES[frame.kind]} entity at byte offset {frame.byte_offset}"
            )
        return self.out.result()

    def _byte(self) -> int:
        return _byte_offset(self.src, self.i)

    def _reserved(self, char: str) -> ApiError:
        return _entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")

    def _step(self) -> None:
        src, char = self.src, self.src[self.i]
        if char == "\\":
            self._escape()
        elif char == ">" and (self.i == 0 or src[self.i - 1] == "\n"):
            self._open_quote()
        elif char == "\n":
            self._newline()
        elif src.startswith("```", self.i):
            self._code_block()
        elif char == "`":
            self._inline_code()
        elif char == "[":
            self.stack.append(_MdFrame("text_link", self.out.pos16, self._byte()))
            self.i += 1
        elif char == "]":
            self._close_link()
        else:
            self._toggle_or_text(char)

    def _escape(self) -> None:
        if self.i + 1 >= len(self.src) or not 1 <= ord(self.src[self.i + 1]) <= 126:
            raise self._reserved("\\")
        self.out.add(self.src[self.i + 1])
        self.i += 2

    def _toggle_or_text(self, char: str) -> None:
        for marker, kind in _MD2_TOGGLES:
            if self.src.startswith(marker, self.i):
                self._toggle(kind)
                self.i += len(marker)
                return
        if char in MARKDOWN_V2_RESERVED:
            raise self._reserved(char)
        self.out.add(char)
        self.i += 1

    def _toggle(self, kind: str) -> None:
        for depth, frame in enumerate(reversed(self.stack)):
            if frame.kind != kind:
                continue
            if depth != 0:
                raise _entity_error(
                    f"Can't find end of {_MD2_NAMES[self.stack[-1].kind]} entity at byte offset "
                    f"{self.stack[-1].byte_offset}"
                )
            self.stack.pop()
            self.out.entity(kind, frame.start16)
            return
        self.stack.append(_MdFrame(kind, self.out.pos16, self._byte()))

    def _read_until(self, terminator: str, what: str, start_byte: int) -> str:
        """Read raw text up to an unescaped terminator (only ` ) and \\ need escaping here)."""
        chars: list[str] = []
        while self.i < len(self.src):
            if self.src.startswith(terminator, self.i):
                self.i += len(terminator)
                return "".join(chars)
            if self.src[self.i] == "\\" and self.i + 1 < len(self.src):
                self.i += 1
            chars.append(self.src[self.i])
            self.i += 1
        raise _entity_error(f"Can't find end of {what} entity at byte offset {start_byte}")

    def _inline_code(self) -> None:
        start_byte = self._byte()
        self.i += 1
        start16 = self.out.pos16
        self.out.add(self._read_until("`", "Code", start_byte))
        self.out.entity("code", start16)

    def _code_block(self) -> None:
        start_byte = self._byte()
        self.i += 3
        body = self._read_until("```", "Pre", start_byte)
        language = ""
        first_line, newline, rest = body.partition("\n")
        if newline and first_line and " " not in first_line:
            language, body = first_line, rest
        start16 = self.out.pos16
        self.out.add(body)
        if language:
            self.out.entity("pre", start16, language=language)
        else:
            self.out.entity("pre", start16)

    def _close_link(self) -> None:
        if not self.stack or self.stack[-1].kind != "text_link":
            raise self._reserved("]")
        frame = self.stack.pop()
        self.i += 1
        if not self.src.startswith("(", self.i):
            raise _entity_error(f"Can't find end of a URL at byte offset {self._byte()}")
        start_byte = self._byte()
        self.i += 1
        url = self._read_until(")", "a URL", start_byte)
        self.out.entity("text_link", frame.start16, url=url)

    def _open_quote(self) -> None:
        if not any(frame.kind == "blockquote" for frame in self.stack):
            self.stack.append(_MdFrame("blockquote", self.out.pos16, self._byte()))
        self.i += 1

    def _close_quote(self) -> None:
        if self.stack and self.stack[-1].kind == "blockquote":
            self.out.entity("blockquote", self.stack.pop().start16)

    def _newline(self) -> None:
        if not self.src.startswith(">", self.i + 1):
            self._close_quote()
        self.out.add("\n")
        self.i += 1


def parse_markdown_v2(source: str) -> tuple[str, list[JSONDict]]:
    """Parse MarkdownV2; raises ApiError(400) for unescaped reserved characters and open entities."""
    return _MarkdownV2Parser(source).parse()


_LEGACY_MARKERS = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(source: str) -> tuple[str, list[JSONDict]]:
    """Legacy Markdown, checked roughly: markers must be closed, links need (url)."""
    out = _TextBuilder()
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and source[index + 1] in "_*`[":
            out.add(source[index + 1])
            index += 2
            continue
        if source.startswith("```", index) or char in _LEGACY_MARKERS or char == "[":
            index = _legacy_entity(source, index, out)
            continue
        out.add(char)
        index += 1
    return out.result()


def _legacy_entity(source: str, index: int, out: _TextBuilder) -> int:
    error = _entity_error(
        f"Can't find end of the entity starting at byte offset {_byte_offset(source, index)}"
    )
    start16 = out.pos16
    if source.startswith("```", index):
        end = source.find("```", index + 3)
        if end < 0:
            raise error
        out.add(source[index + 3 : end])
        out.entity("pre", start16)
        return end + 3
    if source[index] == "[":
        match = re.compile(r"\[([^\]]*)\]\(([^)]*)\)").match(source, index)
        if match is None:
            raise error
        out.add(match.group(1))
        out.entity("text_link", start16, url=match.group(2))
        return match.end()
    marker = source[index]
    end = source.find(marker, index + 1)
    if end < 0:
        raise error
    out.add(source[index + 1 : end])
    out.entity(_LEGACY_MARKERS[marker], start16)
    return end + 1


def render_text(text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[JSONDict]]:
    """Apply parse_mode and Telegram's length limits; returns (plain text, entities)."""
    if text is None or text == "":
        raise _bad_request("message text is empty")
    raw = text if isinstance(text, str) else json.dumps(text)
    mode = str(parse_mode).lower() if parse_mode else ""
    if mode == "html":
        plain, found = parse_html(raw)
    elif mode == "markdownv2":
        plain, found = parse_markdown_v2(raw)
    elif mode == "markdown":
        plain, found = parse_markdown(raw)
    elif mode == "":
        plain, found = raw, list(entities) if isinstance(entities, list) else []
    else:
        raise _bad_request("unsupported parse_mode")
    if not plain.strip():
        raise _bad_request("message text is empty")
    if len(plain) > MAX_TEXT_LENGTH:
        raise _bad_request("message is too long")
    return plain, found


# --------------------------------------------------------------------------------------------
# Reply markup validation
# --------------------------------------------------------------------------------------------


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if not button["text"]:
        raise _bad_request("BUTTON_TEXT_INVALID")
    if len(BUTTON_ACTIONS & button.keys()) != 1:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
            raise _bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        raise _bad_request("BUTTON_URL_INVALID")


def _validate_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            label = button.get("text") if isinstance(button, dict) else button
            if not isinstance(label, str) or not label:
                raise _bad_request("can't parse keyboard button: Text must be non-empty")


def validate_reply_markup(markup: Any) -> JSONDict | None:
    """Validate reply_markup; returns the inline keyboard Telegram echoes back, else None."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                _validate_inline_button(button)
        return copy.deepcopy(markup) if any(rows) else None
    if "keyboard" in markup:
        _validate_reply_keyboard(markup["keyboard"])
        return None
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return None
    raise _bad_request("can't parse reply keyboard markup JSON object")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad_request(f"wrong parameter value {value!r}") from exc


def _update_type(update: JSONDict) -> str:
    return next((key for key in update if key != "update_id"), "")


def _chat_id_of(params: JSONDict) -> int:
    value = params.get("chat_id")
    if value is None or value == "":
        raise _bad_request("chat_id is empty")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad_request("chat not found") from exc


# --------------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down keep-alive connections so their handler threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that go away (cancelled long polls, PTB shutdown) are normal here.
        pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        reply = self.server.fake._handle_http(
            unquote(url.path), url.query, self.headers.get("Content-Type", ""), body
        )
        if reply is None:  # drop_next: close without any response
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """Threaded fake Bot API server; use as a context manager."""

    def __init__(self, token: str = "123:ABC", *, bot_username: str = DEFAULT_BOT_USERNAME) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(prefix) if prefix.isdigit() else 123456,
            "is_bot": True,
            "first_name": "Berufsorientierung Test",
            "username": bot_username,
        }
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._updates: list[JSONDict] = []
        self._next_update_id = 100_001
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._first_names: dict[int, str] = {}
        self._callback_ids: set[str] = set()
        self._next_callback = 1
        self._files: dict[str, tuple[str, str, bytes]] = {}  # file_id -> (unique id, path, data)
        self._webhook: JSONDict | None = None
        self._allowed_updates: list[str] = []
        self._commands: dict[str, list[JSONDict]] = {}
        self._poll_generation = 0
        self._closing = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {}
        self._register_default_handlers()

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        """Start serving on a free loopback port."""
        if self._server is not None:
            return self
        self._closing = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; waiting long polls return immediately."""
        server, self._server = self._server, None
        if server is None:
            return
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeTelegram is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends ``{token}/{method}``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- recording ------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Snapshot of the recorded calls in the order they were answered.

        A long poll is recorded when it returns, so it can follow calls that arrived later;
        ``Call.at`` is the arrival time.
        """
        with self._cond:
            return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        """Recorded calls of one method (case-insensitive), successful or not."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[JSONDict]:
        """Params of successful sendMessage calls (reply_markup decoded), optionally for one chat."""
        sent = [call for call in self.calls_of("sendMessage") if call.ok]
        if chat_id is not None:
            sent = [call for call in sent if call.result and call.result["chat"]["id"] == int(chat_id)]
        return [copy.deepcopy(call.params) for call in sent]

    def sent_documents(self, chat_id: int | None = None) -> list[JSONDict]:
        """Params of successful sendDocument calls (``document`` is an ``UploadedFile``), optionally for one chat."""
        sent = [call for call in self.calls_of("sendDocument") if call.ok]
        if chat_id is not None:
            sent = [call for call in sent if call.result and call.result["chat"]["id"] == int(chat_id)]
        return [call.params for call in sent]

    def bot_messages(self, chat_id: int) -> list[JSONDict]:
        """Current state (after edits and deletions) of the bot's messages in a chat, as Message dicts."""
        with self._cond:
            found = [m for (chat, _), m in self._messages.items() if chat == chat_id and m["from"]["is_bot"]]
            return copy.deepcopy(sorted(found, key=lambda m: m["message_id"]))

    def message(self, chat_id: int, message_id: int) -> JSONDict:
        """A stored message (bot or user) as a Message dict; KeyError if unknown."""
        with self._cond:
            return copy.deepcopy(self._messages[(chat_id, message_id)])

    @property
    def webhook(self) -> JSONDict | None:
        """The parameters of the last setWebhook (url, secret_token, ...), None when none is set."""
        with self._cond:
            return copy.deepcopy(self._webhook)

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands stored by setMyCommands for a scope/language."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    def clear(self) -> None:
        """Forget recorded calls (state such as messages and pending updates stays)."""
        with self._cond:
            self._calls.clear()

    def dump_calls(self, last: int = 40) -> str:
        """Human-readable list of the most recent calls, for assertion messages."""
        calls = self.calls[-last:]
        lines = [f"last {len(calls)} calls to the fake Telegram API:"]
        for call in calls:
            outcome = "ok" if call.ok else f"{call.status} {call.description}"
            params = json.dumps(call.params, ensure_ascii=False, default=repr)
            lines.append(f"  {call.at:.3f} {call.method} [{outcome}] {params[:400]}")
        return "\n".join(lines)

    def _record(self, call: Call) -> None:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    # ---- failure injection ----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
        after: int = 0,
    ) -> None:
        """Make the next `count` calls of `method` fail with Telegram's error JSON, once `after` calls of it
        succeeded (e.g. the second part of a long message).

        429 always carries parameters.retry_after (default 1), so PTB raises RetryAfter.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add_failure(method, _Failure(status, retry_after, description, count, after=after))

    def drop_next(self, method: str, count: int = 1) -> None:
        """Close the connection without a response for the next `count` calls (PTB: NetworkError)."""
        self._add_failure(method, _Failure(0, None, None, count, drop=True))

    def _add_failure(self, method: str, failure: _Failure) -> None:
        canonical = self._canonical(method)
        with self._cond:
            self._failures.setdefault(canonical, []).append(failure)

    def _take_failure(self, method: str) -> _Failure | None:
        with self._cond:
            queue = self._failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            if failure.after > 0:
                failure.after -= 1
                return None
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return failure

    @staticmethod
    def _failure_error(failure: _Failure) -> ApiError:
        if failure.status == 429:
            description = failure.description or f"Too Many Requests: retry after {failure.retry_after}"
        else:
            description = failure.description or ERROR_DESCRIPTIONS.get(
                failure.status, "Internal Server Error"
            )
        parameters = {"retry_after": failure.retry_after} if failure.retry_after is not None else None
        return ApiError(failure.status, description, parameters)

    # ---- updates --------------------------------------------------------------------------

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue an update for getUpdates; assigns update_id if missing. Returns the update."""
        with self._cond:
            if "update_id" not in update:
                update["update_id"] = self._alloc_update_id()
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._updates.append(update)
            self._cond.notify_all()
        return update

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return copy.deepcopy(self._updates)

    def _alloc_update_id(self) -> int:
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            return update_id

    def _alloc_message_id(self, chat_id: int) -> int:
        with self._cond:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            return message_id

    def _chat(self, chat_id: int) -> JSONDict:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Testgruppe"}
        return {
            "id": chat_id,
            "type": "private",
            "first_name": self._first_names.get(chat_id, DEFAULT_FIRST_NAME),
        }

    def _user(self, chat_id: int, user_id: int | None, first_name: str) -> JSONDict:
        return {"id": user_id or chat_id, "is_bot": False, "first_name": first_name, "language_code": "de"}

    def _user_message(
        self, chat_id: int, user_id: int | None, first_name: str, content: JSONDict
    ) -> JSONDict:
        with self._cond:
            if chat_id > 0:
                self._first_names[chat_id] = first_name
            message = {
                "message_id": self._alloc_message_id(chat_id),
                "from": self._user(chat_id, user_id, first_name),
                "chat": self._chat(chat_id),
                "date": int(time.time()),
                **content,
            }
            self._messages[(chat_id, message["message_id"])] = message
            return copy.deepcopy(message)

    def _message_update(self, message: JSONDict) -> JSONDict:
        return {"update_id": self._alloc_update_id(), "message": message}

    def _register_file(self, kind: str, extension: str, data: bytes) -> JSONDict:
        with self._cond:
            number = len(self._files) + 1
            file_id = f"AgAC{kind.upper()}{number:06d}"
            unique_id = f"AQAD{number:06d}"
            self._files[file_id] = (unique_id, f"{kind}/file_{number}.{extension}", data)
            return {"file_id": file_id, "file_unique_id": unique_id, "file_size": len(data)}

    def build_text_update(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = DEFAULT_FIRST_NAME
    ) -> JSONDict:
        """A private-chat text message update (with a bot_command entity for "/cmd ...")."""
        content: JSONDict = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", text)
        if command:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        return self._message_update(self._user_message(chat_id, user_id, first_name, content))

    def build_command_update(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
    ) -> JSONDict:
        """A "/command args" message update."""
        text = f"/{command.lstrip('/')}" + (f" {args}" if args else "")
        return self.build_text_update(chat_id, text, user_id=user_id, first_name=first_name)

    def build_sticker_update(
        self, chat_id: int, *, user_id: int | None = None, first_name: str = DEFAULT_FIRST_NAME
    ) -> JSONDict:
        sticker = {
            **self._register_file("sticker", "webp", b"RIFF\x00\x00\x00\x00WEBP"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
            "set_name": "TestStickers",
        }
        return self._message_update(self._user_message(chat_id, user_id, first_name, {"sticker": sticker}))

    def build_photo_update(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
    ) -> JSONDict:
        small = {**self._register_file("photos", "jpg", b"\xff\xd8\xff small"), "width": 90, "height": 67}
        large = {
            **self._register_file("photos", "jpg", b"\xff\xd8\xff large" * 10),
            "width": 800,
            "height": 600,
        }
        content: JSONDict = {"photo": [small, large]}
        if caption:
            content["caption"] = caption
        return self._message_update(self._user_message(chat_id, user_id, first_name, content))

    def build_voice_update(
        self,
        chat_id: int,
        *,
        duration: int = 3,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
    ) -> JSONDict:
        voice = {
            **self._register_file("voice", "oga", b"OggS voice"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return self._message_update(self._user_message(chat_id, user_id, first_name, {"voice": voice}))

    def build_callback_update(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
        check_button: bool = True,
    ) -> JSONDict:
        """A callback_query for a bot message; by default `data` must be one of its buttons."""
        with self._cond:
            stored = self._messages.get((chat_id, message_id))
            if stored is None or not stored["from"]["is_bot"]:
                raise LookupError(f"no bot message {message_id} in chat {chat_id}\n{self.dump_calls()}")
            buttons = [
                b.get("callback_data")
                for row in stored.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            if check_button and data not in buttons:
                raise LookupError(
                    f"message {message_id} has no button with callback_data {data!r}: {buttons}"
                )
            query_id = str(4_000_000_000_000_000 + self._next_callback)
            self._next_callback += 1
            self._callback_ids.add(query_id)
            query = {
                "id": query_id,
                "from": self._user(chat_id, user_id, first_name),
                "message": copy.deepcopy(stored),
                "chat_instance": str(-(abs(chat_id) * 7919 + 17)),
                "data": data,
            }
        return {"update_id": self._alloc_update_id(), "callback_query": query}

    def user_text(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = DEFAULT_FIRST_NAME
    ) -> JSONDict:
        return self.push_update(self.build_text_update(chat_id, text, user_id=user_id, first_name=first_name))

    def user_command(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
    ) -> JSONDict:
        return self.push_update(
            self.build_command_update(chat_id, command, args, user_id=user_id, first_name=first_name)
        )

    def user_sticker(
        self, chat_id: int, *, user_id: int | None = None, first_name: str = DEFAULT_FIRST_NAME
    ) -> JSONDict:
        return self.push_update(self.build_sticker_update(chat_id, user_id=user_id, first_name=first_name))

    def user_photo(
        self,
        chat_id: int,
        *,
        caption: str | None = None,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
    ) -> JSONDict:
        return self.push_update(
            self.build_photo_update(chat_id, caption=caption, user_id=user_id, first_name=first_name)
        )

    def user_voice(
        self,
        chat_id: int,
        *,
        duration: int = 3,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
    ) -> JSONDict:
        return self.push_update(
            self.build_voice_update(chat_id, duration=duration, user_id=user_id, first_name=first_name)
        )

    def user_callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
        check_button: bool = True,
    ) -> JSONDict:
        """Push a button press on bot message `message_id` (the message as the fake stored it)."""
        return self.push_update(
            self.build_callback_update(
                chat_id, message_id, data, user_id=user_id, first_name=first_name, check_button=check_button
            )
        )

    # ---- waiting --------------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 15.0, *, what: str = "condition"
    ) -> None:
        """Wait until predicate() is true; AssertionError with recent calls on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"timed out after {timeout:.1f}s waiting for {what}\n{self.dump_calls()}"
                )
            with self._cond:
                self._cond.wait(min(remaining, 0.05))

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 15.0) -> list[JSONDict]:
        """Wait until at least `count` messages were sent to chat_id; returns their params."""
        self.wait_for(
            lambda: len(self.sent_messages(chat_id)) >= count,
            timeout,
            what=f"{count} sendMessage call(s) to chat {chat_id}",
        )
        return self.sent_messages(chat_id)

    # ---- HTTP dispatch --------------------------------------------------------------------

    def set_handler(self, method: str, handler: Handler) -> None:
        """Add or replace a Bot API method; handler(params) returns the result or raises ApiError."""
        self._handlers[method.lower()] = (method, handler)

    def _canonical(self, method: str) -> str:
        entry = self._handlers.get(method.lower())
        if entry is None:
            raise ValueError(f"FakeTelegram does not implement {method!r}")
        return entry[0]

    def _handle_http(self, path: str, query: str, content_type: str, body: bytes) -> _Reply | None:
        if path.startswith("/file/bot"):
            return self._serve_file(path.removeprefix("/file/bot"))
        if not path.startswith("/bot"):
            return _json_reply(404, ApiError(404, "Not Found").payload())
        token, _, method = path.removeprefix("/bot").partition("/")
        started = time.monotonic()
        try:
            params = decode_params(query, content_type, body)
        except (ValueError, UnicodeDecodeError) as exc:
            return self._fail(method, {}, started, _bad_request(f"can't parse request: {exc}"))
        if token != self.token:
            return self._fail(method, params, started, ApiError(401, "Unauthorized"))
        entry = self._handlers.get(method.lower())
        if entry is None:
            return self._fail(method, params, started, ApiError(404, "Not Found"))
        canonical, handler = entry
        failure = self._take_failure(canonical)
        if failure is not None and failure.drop:
            self._record(Call(canonical, params, started, False, 0, "connection dropped"))
            return None
        try:
            if failure is not None:
                raise self._failure_error(failure)
            result = handler(params)
        except ApiError as err:
            return self._fail(canonical, params, started, err)
        except Exception as exc:  # noqa: BLE001 - fake bugs become HTTP 500, not a dropped connection
            return self._fail(
                canonical, params, started, ApiError(500, f"Internal Server Error: fake failed: {exc!r}")
            )
        self._record(Call(canonical, params, started, True, 200, None, copy.deepcopy(result)))
        return _json_reply(200, {"ok": True, "result": result})

    def _fail(self, method: str, params: JSONDict, started: float, err: ApiError) -> _Reply:
        self._record(Call(method, params, started, False, err.status, err.description))
        return _json_reply(err.status, err.payload())

    def _serve_file(self, rest: str) -> _Reply:
        token, _, file_path = rest.partition("/")
        with self._cond:
            match = [data for (_, path, data) in self._files.values() if path == file_path]
        if token != self.token or not match:
            return _json_reply(404, ApiError(404, "Not Found").payload())
        return _Reply(200, match[0], "application/octet-stream")

    def _register_default_handlers(self) -> None:
        for name, handler in (
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("sendMessage", self._send_message),
            ("sendDocument", self._send_document),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("sendChatAction", self._send_chat_action),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("setMyCommands", self._set_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("getFile", self._get_file),
            ("close", lambda _params: True),
            ("logOut", lambda _params: True),
        ):
            self.set_handler(name, handler)

    # ---- method implementations -----------------------------------------------------------

    def _get_me(self, _params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm_updates(self, offset: int) -> None:
        """Drop updates confirmed by `offset` and those excluded by allowed_updates (lock held)."""
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = [u for u in self._updates if self._is_allowed(u)]

    def _is_allowed(self, update: JSONDict) -> bool:
        kind = _update_type(update)
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in OPT_IN_UPDATE_TYPES

    def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), MAX_UPDATES_LIMIT), 1), MAX_UPDATES_LIMIT)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        with self._cond:
            if self._webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
            self._confirm_updates(offset)
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older long poll ends with 409, like on Telegram
            deadline = time.monotonic() + timeout
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, ERROR_DESCRIPTIONS[409])
                self._confirm_updates(0)
                remaining = deadline - time.monotonic()
                if self._updates or remaining <= 0 or self._closing:
                    return copy.deepcopy(self._updates[:limit])
                self._cond.wait(remaining)

    def _bot_message(
        self, chat_id: int, text: str, entities: list[JSONDict], markup: JSONDict | None
    ) -> JSONDict:
        message: JSONDict = {
            "message_id": self._alloc_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else params.get("reply_to_message_id")
        if reply_id is None:
            return None
        target = self._messages.get((chat_id, int(reply_id)))
        allow = (isinstance(reply, dict) and reply.get("allow_sending_without_reply")) or params.get(
            "allow_sending_without_reply"
        )
        if target is None and not allow:
            raise _bad_request("message to be replied not found")
        return copy.deepcopy(target) if target else None

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = _chat_id_of(params)
        text, entities = render_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = validate_reply_markup(params.get("reply_markup"))
        with self._cond:
            target = self._reply_target(chat_id, params)
            message = self._bot_message(chat_id, text, entities, markup)
            self._messages[(chat_id, message["message_id"])] = message
            result = copy.deepcopy(message)
        if target is not None:
            result["reply_to_message"] = target
        return result

    def _send_document(self, params: JSONDict) -> JSONDict:
        """A file upload (multipart); like Telegram: a document is required, the caption has at most 1024
        characters after entity parsing, an uploaded file at most 50 MB."""
        chat_id = _chat_id_of(params)
        document = params.get("document")
        if not isinstance(document, UploadedFile) or not document.data:
            raise _bad_request("there is no document in the request")
        if len(document.data) > 50 * 1024 * 1024:
            raise ApiError(413, "Request Entity Too Large")
        caption, entities = ("", [])
        if params.get("caption"):
            caption, entities = render_text(params.get("caption"), params.get("parse_mode"),
                                            params.get("caption_entities"))
            if utf16_len(caption) > 1024:
                raise _bad_request("message caption is too long")
        markup = validate_reply_markup(params.get("reply_markup"))
        with self._cond:
            message = self._bot_message(chat_id, "", [], markup)
            message.pop("text")
            message["document"] = {"file_id": f"doc-{message['message_id']}", "file_name": document.filename,
                                   "mime_type": document.content_type, "file_size": len(document.data)}
            if caption:
                message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
            self._messages[(chat_id, message["message_id"])] = message
            return copy.deepcopy(message)

    def _editable(self, params: JSONDict) -> JSONDict | None:
        """The stored message an edit refers to (lock held); None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = _chat_id_of(params)
        message = self._messages.get((chat_id, _as_int(params.get("message_id"), 0)))
        if message is None:
            raise _bad_request("message to edit not found")
        if not message["from"]["is_bot"]:
            raise _bad_request("message can't be edited")
        return message

    @staticmethod
    def _apply_edit(message: JSONDict, changes: JSONDict) -> JSONDict:
        current = {key: message.get(key) for key in changes}
        if current == changes:
            raise ApiError(400, NOT_MODIFIED)
        for key, value in changes.items():
            if value in (None, []):
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text, entities = render_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = validate_reply_markup(params.get("reply_markup"))
        with self._cond:
            message = self._editable(params)
            if message is None:
                return True
            return self._apply_edit(
                message, {"text": text, "entities": entities or None, "reply_markup": markup}
            )

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        markup = validate_reply_markup(params.get("reply_markup"))
        with self._cond:
            message = self._editable(params)
            if message is None:
                return True
            return self._apply_edit(message, {"reply_markup": markup})

    def _delete_message(self, params: JSONDict) -> bool:
        key = (_chat_id_of(params), _as_int(params.get("message_id"), 0))
        with self._cond:
            if self._messages.pop(key, None) is None:
                raise _bad_request("message to delete not found")
        return True

    def _answer_callback_query(self, params: JSONDict) -> bool:
        with self._cond:
            if str(params.get("callback_query_id")) not in self._callback_ids:
                raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        return True

    def _send_chat_action(self, params: JSONDict) -> bool:
        _chat_id_of(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise _bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": params.get("allowed_updates"),
                "drop_pending_updates": bool(params.get("drop_pending_updates")),
                "max_connections": _as_int(params.get("max_connections"), 40),
                "ip_address": params.get("ip_address"),
            }
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = list(params["allowed_updates"])
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._webhook = None
        return True

    def _get_webhook_info(self, _params: JSONDict) -> JSONDict:
        with self._cond:
            info: JSONDict = {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook is not None:
                info["url"] = self._webhook["url"]
                info["max_connections"] = self._webhook["max_connections"]
                if self._webhook["ip_address"]:
                    info["ip_address"] = self._webhook["ip_address"]
                if self._allowed_updates:
                    info["allowed_updates"] = list(self._allowed_updates)
            return info

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> str:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + str(language_code or "")

    @staticmethod
    def _validate_commands(commands: Any) -> list[JSONDict]:
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command"))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "")) <= 256:
                raise _bad_request("command description must be non-empty")
        return [{"command": c["command"], "description": c["description"]} for c in commands]

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = self._validate_commands(params.get("commands"))
        with self._cond:
            self._commands[self._commands_key(params.get("scope"), params.get("language_code"))] = commands
        return True

    def _delete_my_commands(self, params: JSONDict) -> bool:
        with self._cond:
            self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        with self._cond:
            return copy.deepcopy(
                self._commands.get(self._commands_key(params.get("scope"), params.get("language_code")), [])
            )

    def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "")
        with self._cond:
            if file_id not in self._files:
                raise _bad_request("invalid file_id")
            unique_id, path, data = self._files[file_id]
        return {"file_id": file_id, "file_unique_id": unique_id, "file_size": len(data), "file_path": path}
