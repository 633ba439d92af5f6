"""The action server: rasa_sdk's Sanic app with a shared secret, in one process.

``python -m actions.server`` (started by ``make run`` under supervisor and by ``tests/servers.py``) serves the
actions of this package like ``python -m rasa_sdk --actions actions``, with three differences:

* every request except ``/health`` must carry ``X-Action-Token: <ACTION_SERVER_TOKEN>`` (Rasa sends it from
  ``bot/endpoints.yml``); anything else is answered ``403`` by a request middleware, before the body is parsed
  and before any action runs. The comparison is constant-time (``hmac.compare_digest``);
* host, port and the largest body come from ``core.settings`` (``ACTION_HOST``, ``ACTION_PORT``,
  ``ACTION_REQUEST_MAX_SIZE``), not from Sanic's environment variables;
* one process (Sanic's single-process mode): if it dies, its port is free at once and the supervisor restarts
  it; there is no worker process that could die alone and leave requests hanging;
* ``POST /faq/prefetch`` (``actions/faq_prefetch.py``): Rasa hands over a message's text as it arrives, so that its
  embedding for the FAQ retrieval is ready when the action asks; the FAQ index itself is loaded right after the
  start, in a background thread (``actions.faq_index.warm_up``).
"""

from __future__ import annotations

import hmac
import logging
import sys
import threading

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import HTTPResponse, Request, Sanic, response

from actions.faq_index import warm_up
from actions.faq_prefetch import add_prefetch_route
from actions.kb import kb_session
from core.errors import SettingsError
from core.protocol import ACTION_HEALTH_PATH, ACTION_TOKEN_HEADER
from core.settings import ActionServerSettings

log = logging.getLogger("actions.server")


def build_app(settings: ActionServerSettings, package: str = "actions") -> Sanic:
    """rasa_sdk's app for ``package`` with the token check and the body limit."""
    executor = ActionExecutor()
    executor.register_package(package)
    app = create_app(executor, cors_origins=None)
    add_prefetch_route(app)

    @app.after_server_start
    async def load_the_faq_index(app: Sanic) -> None:
        # a daemon thread: /health answers at once, and a stop does not wait for an embedding in progress
        threading.Thread(target=warm_up, args=(kb_session,), name="faq-warm-up", daemon=True).start()
    app.config.REQUEST_MAX_SIZE = settings.action_request_max_size
    expected = settings.action_server_token.encode("utf-8")

    @app.on_request
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path == ACTION_HEALTH_PATH:
            return None
        given = request.headers.get(ACTION_TOKEN_HEADER, "").encode("utf-8", "replace")
        if hmac.compare_digest(given, expected):
            return None
        log.warning("action server: request without a valid %s refused (%s %s)",
                    ACTION_TOKEN_HEADER, request.method, request.path[:64])
        return response.json({"error": "forbidden"}, status=403)

    return app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = ActionServerSettings.from_env()
    except SettingsError as exc:
        print(f"Einstellung ungültig: {exc}", file=sys.stderr)
        return 2
    app = build_app(settings)
    log.info("action server on http://%s:%d", settings.action_host, settings.action_port)
    app.run(host=settings.action_host, port=settings.action_port, single_process=True, access_log=False,
            motd=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
