"""Rasa's Redis lock store, riding out a short Redis outage instead of failing the message.

Rasa 3.6's ``RedisLockStore`` builds its client without retries: while Redis restarts (a deploy, a crash and the
supervisor's restart, a fail-over) every message fails at once with ``LockError`` ("Error 111 connecting …
Connection refused") and the user gets an error instead of an answer. Measured with a Redis server restarted under
it: the message sent during the 1.5 s gap failed after 0.7 ms; redis-py itself reconnects once Redis is back.

:class:`ResilientRedisLockStore` is the same store (same keys, same tickets, so replicas of both kinds can share a
Redis) with a client that retries connection errors and timeouts with a capped exponential back-off for up to
``retry_seconds`` (default 6 s, below the 10 s a user may wait), connects with a short timeout, and checks idle
connections before use. Configured in ``bot/endpoints.production.yml``::

    lock_store:
      type: rasa_plugins.lock_store.ResilientRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 1
      key_prefix: berufsorientierung
      retry_seconds: 6

An outage longer than ``retry_seconds`` still fails the message (the REST channel answers with the technical-problem
reply); no message is accepted without its lock.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = 6.0
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 1.0
HEALTH_CHECK_INTERVAL_SECONDS = 10


def retries_for(retry_seconds: float) -> int:
    """How many retries with redis-py's capped exponential back-off (``base * 2**failure``: 0.1, 0.2, 0.4, 0.5,
    0.5 … s) fill ``retry_seconds`` of sleeping."""
    slept, retries, backoff = 0.0, 0, FIRST_BACKOFF_SECONDS * 2
    while slept < retry_seconds:
        slept += backoff
        retries += 1
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
    return retries


class _RetryingRedis(redis.StrictRedis):
    """A Redis client that retries a whole command (getting a connection included) on connection errors.

    redis-py's own ``retry=`` covers only the send/receive part: ``ConnectionPool.get_connection`` connects outside
    it, so with Redis down a command without a pooled connection fails at once ("Connection refused")."""

    def __init__(self, *args: Any, outage_retry: Retry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outage_retry = outage_retry

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return self._outage_retry.call_with_retry(
            lambda: super(_RetryingRedis, self).execute_command(*args, **options), lambda error: None
        )


class ResilientRedisLockStore(RedisLockStore):
    """``RedisLockStore`` whose Redis client retries through a short outage (see the module docstring)."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        options: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config else {}
        options.update(kwargs)
        host = (endpoint_config.url if endpoint_config else None) or options.pop("host", "localhost")
        options.pop("host", None)
        retry_seconds = float(options.pop("retry_seconds", DEFAULT_RETRY_SECONDS))
        super().__init__(host=host, **options)
        self.red = _RetryingRedis(
            host=host,
            port=int(options.get("port", 6379)),
            db=int(options.get("db", 1)),
            username=options.get("username"),
            password=options.get("password"),
            ssl=bool(options.get("use_ssl", False)),
            ssl_certfile=options.get("ssl_certfile"),
            ssl_keyfile=options.get("ssl_keyfile"),
            ssl_ca_certs=options.get("ssl_ca_certs"),
            socket_timeout=float(options.get("socket_timeout", DEFAULT_SOCKET_TIMEOUT_IN_SECONDS)),
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
            outage_retry=Retry(ExponentialBackoff(cap=MAX_BACKOFF_SECONDS, base=FIRST_BACKOFF_SECONDS),
                               retries_for(retry_seconds)),
        )
        log.info("Redis lock store: retries connection errors for up to %.1f s", retry_seconds)
