"""Start the Telegram bridge: ``python -m channels.telegram`` (``make run`` does it when TELEGRAM_BOT_TOKEN is set).

Polling (default, for development): python-telegram-bot's updater asks Telegram for updates. Webhook
(``TELEGRAM_MODE=webhook``, production): Telegram posts to ``TELEGRAM_WEBHOOK_URL`` (your HTTPS reverse proxy →
``http://TELEGRAM_HOST:TELEGRAM_PORT/telegram/webhook``) with the secret token. In both modes the bridge's HTTP
server runs (push endpoint for the console, health check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import uvicorn
from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder

from channels.telegram import texts
from channels.telegram.bridge import Bridge
from channels.telegram.delivery import DeliveryFailed, with_retry
from channels.telegram.handlers import add_handlers
from channels.telegram.logs import log_event, setup_logging
from channels.telegram.outbox import OutboxCollector
from channels.telegram.rasa import RasaClient
from channels.telegram.server import create_server
from core.db import make_engine, make_session_factory
from core.errors import SettingsError
from core.settings import TelegramSettings

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]


def build_application(settings: TelegramSettings) -> Application:  # type: ignore[type-arg]
    builder = ApplicationBuilder().token(settings.token)
    if settings.api_base_url:
        base = settings.api_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if settings.mode == "webhook":
        builder = builder.updater(None)  # updates arrive at our own server
    return builder.build()


async def run(settings: TelegramSettings) -> None:
    from core.migrate import upgrade

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    application = build_application(settings)
    rasa = RasaClient(settings.rasa_url, settings.inbound_token, settings.rasa_timeout)
    bridge = Bridge(application.bot, rasa, make_session_factory(engine), retry_interval=settings.retry_interval,
                    send_attempts=settings.send_attempts)
    application.bot_data["bridge"] = bridge
    add_handlers(application)
    collector = OutboxCollector(settings.console_url, settings.inbound_token, bridge, settings.outbox_interval)
    server = uvicorn.Server(uvicorn.Config(create_server(settings, application, bridge), host=settings.host,
                                           port=settings.port, log_config=None, access_log=False))
    await with_retry(application.initialize, what="getMe", attempts=10)
    tasks: list[asyncio.Task[None]] = []
    try:
        await _announce(application, settings)
        await application.start()
        tasks = [asyncio.create_task(bridge.retry_forever()), asyncio.create_task(collector.run_forever())]
        log_event("telegram_bridge_started", mode=settings.mode, port=settings.port,
                  bot=application.bot.username)
        await server.serve()  # until SIGINT/SIGTERM
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if application.updater and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await rasa.close()
        await collector.close()
        engine.dispose()
        log_event("telegram_bridge_stopped")


async def _announce(application: Application, settings: TelegramSettings) -> None:  # type: ignore[type-arg]
    """Command menu, then webhook registration or polling."""
    bot = application.bot
    commands = [BotCommand(name, description) for name, description in texts.COMMAND_MENU]
    try:
        await with_retry(lambda: bot.set_my_commands(commands), what="setMyCommands")
    except DeliveryFailed:
        log_event("set_commands_failed", level=logging.WARNING)
    if settings.mode == "webhook":
        await with_retry(lambda: bot.set_webhook(settings.webhook_url or "", secret_token=settings.webhook_secret,
                                                 allowed_updates=ALLOWED_UPDATES), what="setWebhook")
        return
    await with_retry(lambda: bot.delete_webhook(drop_pending_updates=False), what="deleteWebhook")
    assert application.updater is not None
    await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0.0, timeout=10)


def main() -> None:
    setup_logging()
    try:
        settings = TelegramSettings.from_env()
    except SettingsError as exc:
        print(f"Telegram-Brücke: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    asyncio.run(run(settings))
