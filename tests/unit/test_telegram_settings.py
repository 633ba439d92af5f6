"""Settings of the Telegram bridge: clear German errors for what is missing."""

import pytest

from core.errors import SettingsError
from core.settings import TelegramSettings

BASE = {"TELEGRAM_BOT_TOKEN": "123:abc", "KB_DATABASE_URL": "sqlite:///x.sqlite3"}


def test_token_is_required() -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        TelegramSettings.from_env({})


def test_polling_is_the_default() -> None:
    settings = TelegramSettings.from_env(BASE)
    assert settings.mode == "polling" and settings.push_url == "http://127.0.0.1:8081/internal/push"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_WEBHOOK_URL": "http://example.org/telegram/webhook"}, "https"),
        ({"TELEGRAM_WEBHOOK_URL": "https://example.org/telegram/webhook"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_URL": "https://example.org/x", "TELEGRAM_WEBHOOK_SECRET": "nicht erlaubt!"}, "A-Z"),
    ],
)
def test_webhook_mode_needs_https_url_and_a_valid_secret(extra: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        TelegramSettings.from_env({**BASE, "TELEGRAM_MODE": "webhook", **extra})


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(SettingsError, match="polling"):
        TelegramSettings.from_env({**BASE, "TELEGRAM_MODE": "push"})
