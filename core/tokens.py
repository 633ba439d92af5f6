"""Comparing secrets (tokens, CSRF values) in constant time."""

from __future__ import annotations

import hmac


def same(a: str | None, b: str | None) -> bool:
    """True if both are non-empty and equal; the comparison takes the same time wherever they differ."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
