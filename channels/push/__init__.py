"""Push clients the console registers with the outbox (``handoff.outbox.register_pusher``): ``http`` for a
channel in its own process (the Telegram bridge), ``messenger`` for the Graph API."""
