"""A local stand-in for Meta's Graph API (graph.facebook.com), so Rasa's Messenger connector can answer.

Rasa's connector sends with ``requests`` to the fixed URL ``https://graph.facebook.com/v2.12/me/messages``.
The Rasa process gets ``HTTPS_PROXY`` pointing here and ``REQUESTS_CA_BUNDLE`` with a certificate made for
this run: the proxy accepts ``CONNECT graph.facebook.com:443``, terminates TLS with that certificate and
records every Graph API request. Nothing leaves the machine.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.http_json import JsonHandler

HOST = "graph.facebook.com"


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "graph.pem", directory / "graph.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
         "-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


class FakeGraphApi:
    def __init__(self, directory: Path) -> None:
        self.cert, key = make_certificate(directory)
        self.requests: list[dict[str, Any]] = []  # {"path", "access_token", "body"}
        self._lock = threading.Lock()
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(self.cert, key)
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._proxy_handler())
        self._server.daemon_threads = True
        self.proxy_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def env(self) -> dict[str, str]:
        """Environment for the Rasa and console processes."""
        return {"HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url, "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost", "REQUESTS_CA_BUNDLE": str(self.cert),  # requests (Rasa)
                "SSL_CERT_FILE": str(self.cert)}  # httpx (the console's Graph API push)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def messages_to(self, recipient: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r["body"] for r in self.requests
                    if r["path"].endswith("/me/messages") and r["body"].get("recipient", {}).get("id") == recipient]

    def texts_to(self, recipient: str) -> list[str]:
        """Plain texts and the texts of button templates (how Rasa sends a message with buttons)."""
        texts = []
        for m in self.messages_to(recipient):
            message = m.get("message", {})
            payload = message.get("attachment", {}).get("payload", {})
            text = message.get("text") or payload.get("text")
            if text:
                texts.append(text)
        return texts

    def wait_for_text(self, recipient: str, containing: str, timeout: float = 30) -> list[str]:
        """The texts sent to ``recipient`` once one of them contains ``containing`` (all texts on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.texts_to(recipient)
            if any(containing in text for text in found):
                return found
            time.sleep(0.2)
        return self.texts_to(recipient)

    def _record(self, path: str, query: str, body: dict[str, Any]) -> None:
        token = parse_qs(query).get("access_token", [""])[0]
        with self._lock:
            self.requests.append({"path": path, "access_token": token, "body": body})

    def _proxy_handler(self) -> type[socketserver.BaseRequestHandler]:
        fake = self

        class Graph(JsonHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                try:
                    body = self.read_json(empty={})
                except ValueError:
                    body = {}
                url = urlsplit(self.path)
                fake._record(url.path, url.query, body)
                self.send_json(200, {"recipient_id": body.get("recipient", {}).get("id"), "message_id": "mid.1"})

        class Proxy(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                if not head.startswith(f"CONNECT {HOST}:443".encode()):
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                    return
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                tls = fake._tls.wrap_socket(conn, server_side=True)
                Graph(tls, self.client_address, self.server)  # serves the requests on this tunnel

        return Proxy
