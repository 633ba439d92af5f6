"""Rasa messages → Telegram HTML: escaping, links, splitting at 4096 characters, buttons."""

import html
import re

from channels.telegram.render import MAX_CHARS, Button, render, split_text, to_html, utf16_len


def shown(html_text: str) -> str:
    """What Telegram displays for our HTML (tags removed, entities resolved)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def test_html_and_markdown_characters_are_escaped() -> None:
    text = "a < b & c > d, <b>fett?</b> *stern* _unter_ `code` [kein link]"
    out = to_html(text)
    assert "<b>" not in out and "&lt;b&gt;" in out
    assert shown(out) == text


def test_markdown_links_and_bold_become_tags_with_escaped_url() -> None:
    out = to_html("Mehr bei der [BA & Co](https://www.arbeitsagentur.de/a?b=1&c='2') und **jetzt**.")
    assert '<a href="https://www.arbeitsagentur.de/a?b=1&amp;c=&#x27;2&#x27;">BA &amp; Co</a>' in out
    assert "<b>jetzt</b>" in out


def test_javascript_links_are_not_linked() -> None:
    out = to_html("[klick](javascript:alert(1))")
    assert "<a" not in out and shown(out) == "[klick](javascript:alert(1))"


def test_long_text_is_split_at_paragraphs_and_words() -> None:
    paragraph = "Das ist ein Satz über Ausbildung. " * 80  # ~2700 characters
    text = "\n\n".join([paragraph.strip()] * 4)
    chunks = split_text(text)
    assert len(chunks) >= 3
    assert all(utf16_len(c) <= MAX_CHARS for c in chunks)
    assert all(c.endswith(".") for c in chunks)  # cut after a sentence, not inside a word
    assert " ".join(chunks).split() == text.split()  # nothing lost


def test_emoji_count_twice_and_a_word_without_spaces_is_still_cut() -> None:
    chunks = split_text("😀" * 3000 + "x" * 5000)
    assert all(utf16_len(c) <= MAX_CHARS for c in chunks)
    assert "".join(chunks) == "😀" * 3000 + "x" * 5000


def test_a_link_is_never_cut_in_two() -> None:
    link = "[Ausbildungssuche](https://www.arbeitsagentur.de/ausbildungssuche)"
    text = "x " * 2030 + link + " ende"
    for chunk in split_text(text):
        assert chunk.count("[") == chunk.count("](")


def test_render_puts_buttons_on_the_last_chunk_only() -> None:
    message = {"text": "Wort " * 2000, "buttons": [{"title": "Mehr anzeigen", "payload": "/more"}, {"title": "OK"}]}
    out = render(message)
    assert len(out) == 3
    assert [o.buttons for o in out[:-1]] == [(), ()]
    assert out[-1].buttons == (Button("Mehr anzeigen", "/more"), Button("OK", "OK"))
    assert all(utf16_len(shown(o.html)) <= MAX_CHARS for o in out)


def test_adviser_replies_are_labelled_and_markers_show_nothing() -> None:
    out = render({"text": "Hallo, hier ist Frau Berta.", "custom": {"from": "adviser"}})
    assert out[0].html.startswith("<b>Beratung:</b>\n")
    assert render({"custom": {"conversation_deleted": True}}) == []
    assert render({"text": "   "}) == []
