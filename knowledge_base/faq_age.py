"""Articles written for one age group, told apart by their titles ("Arbeitszeit unter 18" / "Arbeitszeit ab 18"):
when a message names the person's age ("ich bin 20", "mit 17", "minderjährig") and retrieval ranked the article of
the other group first, the article of the named group answers. Retrieval hardly tells the two apart (the questions
look alike: "wie viele Stunden darf ich arbeiten"); the law does (JArbSchG under 18, ArbZG and BUrlG from 18).

Standard library only; linear patterns on at most 500 characters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

AgeGroup = Literal["unter 18", "ab 18"]
MINOR: AgeGroup = "unter 18"
ADULT: AgeGroup = "ab 18"
MAX_CHARS = 500

_TITLE = re.compile(r"^(?P<stem>.+?)\s(?P<group>unter 18|ab 18)$")
_MINOR_WORDS = re.compile(r"\b(?:minderj[aä]hrig\w*|unter\s18|u18|noch\snicht\s(?:18|vollj[aä]hrig))\b")
_ADULT_WORDS = re.compile(r"\b(?:vollj[aä]hrig\w*|[uü]ber\s18|ab\s18|schon\s18|[uü]18)\b")
_UNITS = (r"uhr|std|stunden?|h|min|minuten|sek\w*|tage?n?|wochen?|monate?n?|euro|eur|€|%|prozent|kinder?n?|leute|"
          r"azubis|mitarbeiter\w*|bewerbungen|km|kilometer|grad|punkte?n?|urlaubstage?n?|mal|cent|x")
_AGE = re.compile(
    r"(?:\b(?:bin|ist|mit|als|werde|wird|werd|war)\s(?:jetzt\s|erst\s|schon\s|gerade\s|noch\s|bald\s)?|\()"
    rf"(?P<after_verb>1[3-9]|[2-6]\d)\b(?!\s*(?:{_UNITS})\b)(?!\s*[.,]\d)"
    r"|\b(?P<with_years>1[3-9]|[2-6]\d)\s?-?(?:j[aä]hrig\w*|jahre?\s?alt\b|j\b"
    r"|jahre?\b(?!\s(?:ausbildung|lehre|berufserfahrung|erfahrung|im|in|bei|lang|dauer|zeit|sp[aä]ter|nach|vor|her)\b))"
)


def age_group(text: str) -> AgeGroup | None:
    """The age group a message names, if any ("ich bin 16" → unter 18, "bin 20" → ab 18)."""
    text = text[:MAX_CHARS].lower()
    if _MINOR_WORDS.search(text):
        return MINOR
    if _ADULT_WORDS.search(text):
        return ADULT
    match = _AGE.search(text)
    if match is None:
        return None
    age = int(match.group("after_verb") or match.group("with_years"))
    return MINOR if age < 18 else ADULT


def counterparts(keys: Sequence[str], titles: Sequence[str]) -> dict[str, dict[AgeGroup, str]]:
    """For each article whose title ends in "unter 18" or "ab 18" and has a twin of the other group (same title
    otherwise): key → {group: key of that group's article}."""
    by_stem: dict[str, dict[AgeGroup, str]] = {}
    for key, title in zip(keys, titles, strict=True):
        match = _TITLE.match(title.strip())
        if match:
            group: AgeGroup = MINOR if match.group("group") == MINOR else ADULT
            by_stem.setdefault(match.group("stem").strip().lower(), {})[group] = key
    return {key: twins for twins in by_stem.values() if len(twins) == 2 for key in twins.values()}


def for_age(key: str, text: str, twins: dict[str, dict[AgeGroup, str]]) -> str:
    """``key``, or its twin for the age group the message names."""
    pair = twins.get(key)
    if pair is None:
        return key
    group = age_group(text)
    return pair[group] if group is not None else key
