"""``python -m channels.webchat``: serve the web chat page with uvicorn on WEBCHAT_HOST:WEBCHAT_PORT."""

from __future__ import annotations

import sys

import uvicorn

from channels.webchat.app import create_app
from core.errors import SettingsError
from core.settings import WebchatSettings


def main() -> int:
    try:
        settings = WebchatSettings.from_env()
    except SettingsError as exc:
        print(f"web chat: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
