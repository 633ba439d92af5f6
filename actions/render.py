"""Formatting of knowledge-base facts for chat messages: sources, dates, euro amounts, buttons."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from decimal import Decimal
from itertools import islice
from typing import Any

from core.protocol import MAX_BUTTONS


def german_date(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def euro(amount: Decimal | float) -> str:
    value = Decimal(str(amount))
    text = f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    return (text.removesuffix(",00")) + " €"


def source_line(source_name: str, source_url: str, stand: dt.date) -> str:
    return f"Quelle: {source_name} (Stand: {german_date(stand)}) – {source_url}"


def months_as_years(months: int) -> str:
    years = months / 12
    if years.is_integer():
        n = int(years)
        return f"{n} Jahr" if n == 1 else f"{n} Jahre"
    return f"{str(years).replace('.', ',')} Jahre"


def bullet_list(items: list[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def payload(intent: str, **entities: Any) -> str:
    """A Rasa button payload that triggers ``intent`` with entities, e.g. /inform_occupation{"occupation":"…"}."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}"


def button(title: str, intent: str, **entities: Any) -> dict[str, str]:
    return {"title": title, "payload": payload(intent, **entities)}


def capped(buttons: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """At most ``MAX_BUTTONS`` buttons for one message (Rasa's REST channel and the Telegram bridge cut there too)."""
    return list(islice(buttons, MAX_BUTTONS))
