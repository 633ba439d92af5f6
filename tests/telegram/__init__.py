"""Tests of the Telegram bridge against a local fake of the Telegram Bot API."""
