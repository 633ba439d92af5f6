"""Internal services are internal: the Rasa server and the action server, started as `make run` starts them
(tests/servers.py mirrors scripts/run.sh), listen on loopback only."""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import pytest

from tests.servers import Stack

pytestmark = pytest.mark.e2e


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (from ``ss``, this machine's own sockets)."""
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True, timeout=30).stdout
    found = set()
    for line in out.splitlines():
        local = line.split()[3]
        address, _, local_port = local.rpartition(":")
        if local_port == str(port):
            found.add(address.strip("[]"))
    return found


def test_rasa_and_the_action_server_listen_on_loopback_only(stack: Stack) -> None:
    rasa_port = urlsplit(stack.rasa_url).port
    action_port = urlsplit(stack.env["ACTION_SERVER_URL"]).port
    assert rasa_port and action_port
    for port in (rasa_port, action_port):
        addresses = listening_addresses(port)
        assert addresses, f"nothing listens on {port}"
        assert addresses <= {"127.0.0.1"}, (port, addresses)
