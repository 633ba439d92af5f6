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

A restart also empties Redis: every conversation lock is gone. Rasa's store then fails each message that was
*waiting* for its conversation's lock with ``LockError`` (in the fault run: messages retried on the other replica
after a replica was killed, waiting for the dead replica's ticket to expire). This store waits instead until the
tickets that were ahead of the message would have expired anyway (it saw them while waiting), then takes a new
ticket. A message therefore never runs earlier than Rasa's rule would let it with the lock intact, and two turns of
one conversation still never overlap within the lifetime. Rasa 3.6 also never gives up on a message whose own ticket expired while it waited
(an empty lock "serves" ticket 0, so the wait loop spins until the client gives up: the 504 after 30 s seen in
the fault run); here it takes a new ticket. A waiting message looks at the lock every 0.2 s instead
of every second, so it runs as soon as the ticket ahead of it is done or has expired.

A killed Rasa replica leaves its tickets behind; Rasa makes every later message of those conversations wait until
they expire (``TICKET_LOCK_LIFETIME``), and a message that nginx retried on another replica waits exactly that
long. Here each replica says "alive" in Redis every 0.5 s (key ``<prefix>:replica:<id>``, 2.5 s TTL) and records
which replica holds each ticket (``<prefix>:lockowner:<conversation>:<ticket>``, expiring with the ticket). A
waiting message whose lock is held by a replica that stopped saying "alive" releases that ticket at once: a
conversation of a killed replica is blocked for about 2.5 s instead of the lifetime. A replica that is alive but
hung keeps its tickets until they expire, as in Rasa.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any

import redis
from rasa.core.lock_store import (
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    LockError,
    RedisLockStore,
    TicketLock,
)
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = 6.0
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 1.0
HEALTH_CHECK_INTERVAL_SECONDS = 10
LOST_LOCK_RETRIES = 2  # new tickets after a lost lock before the message fails (Redis emptied again and again)
WAIT_SECONDS = 0.2  # how often a waiting message looks at its conversation's lock (Rasa: every second)
HEARTBEAT_SECONDS = 0.5  # how often a replica says "alive" in Redis
HEARTBEAT_TTL_MS = 2500  # a replica that has not said so for this long is gone (killed, crashed)


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
        base = self.key_prefix.removesuffix("lock:")  # "<prefix>:lock:" is Rasa's; ours sit next to it
        self._owner_prefix, self._alive_prefix = f"{base}lockowner:", f"{base}replica:"
        self.replica_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._stopped = threading.Event()
        threading.Thread(target=self._heartbeat, name="lock-heartbeat", daemon=True).start()

    # --- which replica holds a ticket, and is it still alive? ---------------------------------------------------

    def _say_alive(self) -> None:
        self.red.set(self._alive_prefix + self.replica_id, "1", px=HEARTBEAT_TTL_MS)

    def _heartbeat(self) -> None:
        while not self._stopped.is_set():
            try:
                self._say_alive()
            except redis.RedisError:
                pass  # Redis down: nothing to hold either; the next beat after it is back counts
            self._stopped.wait(HEARTBEAT_SECONDS)

    def stop_heartbeat(self) -> None:
        """Stop saying "alive" (what a killed replica does; tests, shutdown)."""
        self._stopped.set()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Rasa's ticket, plus who holds it: this replica (its "alive" key is renewed first, so that after a Redis
        restart no ticket of a living replica is ever seen without it)."""
        ticket = super().issue_ticket(conversation_id, lock_lifetime)
        try:
            self._say_alive()
            self.red.set(f"{self._owner_prefix}{conversation_id}:{ticket}", self.replica_id,
                         ex=max(1, math.ceil(lock_lifetime) + 1))
        except redis.RedisError:
            pass  # a ticket without an owner simply expires after its lifetime, as in Rasa
        return ticket

    def _holder_gone(self, conversation_id: str, ticket: int) -> bool:
        """Whether ``ticket`` belongs to a replica that stopped saying "alive" (unknown owner: no)."""
        owner = self.red.get(f"{self._owner_prefix}{conversation_id}:{ticket}")
        if not owner:
            return False
        return not self.red.exists(self._alive_prefix + owner.decode())

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = WAIT_SECONDS) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ``LockStore.lock`` (polling every ``WAIT_SECONDS`` instead of every second), except when the lock
        disappears while this message waits for it (Redis lost its data): wait until the tickets that were ahead of
        this one would have expired, then take a new ticket."""
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            for attempt in range(LOST_LOCK_RETRIES + 1):
                try:
                    acquired = await self._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
                    break
                except _LockLost as lost:
                    if attempt == LOST_LOCK_RETRIES:
                        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.") from None
                    wait = max(0.0, lost.ahead_until - time.time())
                    log.warning("conversation lock lost while waiting (Redis emptied?): new ticket in %.1f s", wait)
                    await asyncio.sleep(wait)
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)
            yield acquired
        finally:
            self.cleanup(conversation_id, ticket)

    async def _acquire_lock(self, conversation_id: str, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        """Rasa's loop (wait until this ticket is served), remembering until when the tickets ahead of it are valid;
        :class:`_LockLost` with that time when the lock is gone (Rasa raises ``LockError`` there)."""
        ahead_until = 0.0
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:
                raise _LockLost(ahead_until)
            if not lock.is_locked(ticket):
                return lock
            if not any(t.number == ticket for t in lock.tickets):
                # this message's own ticket expired while it waited (Rasa 3.6 then waits forever: an empty lock
                # "serves" ticket 0); every ticket ahead of it was issued earlier and has expired too
                raise _LockLost(0.0)
            serving = lock.now_serving
            if serving is not None and serving != ticket and self._holder_gone(conversation_id, serving):
                # its replica was killed while it held the lock: release it now instead of after its lifetime
                lock.remove_ticket_for(serving)
                self.save_lock(lock)
                log.warning("conversation lock: the replica holding it is gone, its ticket released")
                continue
            ahead_until = max([t.expires for t in lock.tickets if t.number < ticket], default=ahead_until)
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)


class _LockLost(Exception):
    """The conversation's lock vanished while a message waited for it; ``ahead_until``: when the tickets ahead of
    that message would have expired (0: none seen)."""

    def __init__(self, ahead_until: float) -> None:
        super().__init__("conversation lock lost")
        self.ahead_until = ahead_until
