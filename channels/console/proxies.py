"""Who is asking, and over what: the client address and the scheme of a request, believing ``X-Forwarded-For``
and ``X-Forwarded-Proto`` only from the reverse proxies in ``CONSOLE_TRUSTED_PROXIES``.

The socket peer is the client unless the peer is a trusted proxy; then the client is the right-most address of
``X-Forwarded-For`` that is not itself a trusted proxy (everything left of it was written by the client and
can be anything). uvicorn must not rewrite the peer from these headers itself (``proxy_headers=False`` in
``channels/console/__main__.py``), or the rule here would see the forged value as the peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Scope

from core.settings import ConsoleSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_ADDRESS = 64  # the column width of stored addresses
UNKNOWN = "unbekannt"


def _is_trusted(address: str, trusted: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in trusted)


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def _forwarded(headers: Headers, name: str) -> list[str]:
    """All comma-separated values of every occurrence of the header, left to right."""
    return [part.strip() for value in headers.getlist(name) for part in value.split(",") if part.strip()]


def client_address(scope: Scope, settings: ConsoleSettings) -> str:
    """The client's address as far as it can be known (see the module docstring)."""
    peer = _peer(scope)
    if peer is None:
        return UNKNOWN
    trusted = settings.trusted_networks
    if not trusted or not _is_trusted(peer, trusted):
        return peer[:MAX_ADDRESS]
    chain = _forwarded(Headers(scope=scope), "x-forwarded-for")
    for address in reversed(chain):
        if not _is_trusted(address, trusted):
            return address[:MAX_ADDRESS]
    return (chain[0] if chain else peer)[:MAX_ADDRESS]  # only proxies: the left-most one is the client


def is_https(scope: Scope, settings: ConsoleSettings) -> bool:
    """Served over HTTPS: the connection itself, or a trusted proxy says the browser used https."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    peer = _peer(scope)
    if peer is None or not _is_trusted(peer, settings.trusted_networks):
        return False
    proto = _forwarded(Headers(scope=scope), "x-forwarded-proto")
    return bool(proto) and proto[-1].lower() == "https"  # the value the nearest proxy wrote


def secure_cookies(request: Request, settings: ConsoleSettings) -> bool:
    """``CONSOLE_SECURE_COOKIES``: 1/0 as set; ``auto`` (default): secure unless the console is reached on
    localhost over plain http (development), so a console on any other host never sends its cookie in clear."""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return is_https(request.scope, settings) or (request.url.hostname or "").lower() not in LOCAL_HOSTS
