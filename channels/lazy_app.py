"""``module:app`` for uvicorn without building the app on import: ``__getattr__ = lazy_app(create_app)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def lazy_app(create: Callable[[], Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that builds ``app`` from the environment on first access, once."""
    built: dict[str, Any] = {}

    def module_getattr(name: str) -> Any:
        if name != "app":
            raise AttributeError(name)
        if "app" not in built:
            built["app"] = create()
        return built["app"]

    return module_getattr
