"""Telegram channel: a python-telegram-bot 22 process that bridges Telegram chats to Rasa's REST channel.

Settings: ``core.settings.TelegramSettings``. Modules: ``models``/``store`` (chat ↔ conversation mapping, queue
of unanswered messages, long button payloads), ``rasa`` (REST client), ``render`` (Rasa messages → Telegram HTML, keyboards,
chunks of ≤ 4096 characters), ``delivery`` (sending with retries), ``bridge`` (what happens to a message),
``handlers`` (python-telegram-bot handlers), ``server`` (webhook, push endpoint, health), ``app`` (main).
"""
