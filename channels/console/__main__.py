"""``python -m channels.console``: run the console with uvicorn on CONSOLE_HOST:CONSOLE_PORT (127.0.0.1:8000)."""

from __future__ import annotations

import uvicorn

from channels.console import logs
from channels.console.app import create_app
from core.settings import ConsoleSettings, RetentionSettings


def main() -> None:
    settings = ConsoleSettings.from_env()
    # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For/-Proto from any peer on 127.0.0.1 as the
    # truth; the console believes them only from CONSOLE_TRUSTED_PROXIES (channels/console/proxies.py)
    logs.install(settings.pseudonym)  # the access log shows pseudonyms, not conversation ids
    uvicorn.run(create_app(settings, RetentionSettings.from_env()), host=settings.host, port=settings.port,
                proxy_headers=False)


if __name__ == "__main__":
    main()
