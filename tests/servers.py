"""Real servers on local free ports for tests that send mail or call a webhook.

`smtp_server` is an aiosmtpd SMTP server that keeps every message it accepts, parsed; it can
be stopped and started again on the same port. `http_receiver` is an HTTP server that keeps
every request and can be told to answer 500. Both give the app settings that point at them:

    app = make_app(articles_dir, **smtp_server.settings, **http_receiver.settings)
    ...
    mails = smtp_server.wait_for(1)
    assert mails[0]["To"] == "ivan@example.com"
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.message import Message
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from http.server import HTTPServer

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on HOST that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> bool:
    """Poll `condition` until it is true or `timeout` seconds passed; whether it came true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


class MailServer:
    """An SMTP server that keeps what it accepts: `messages` (parsed) and `envelopes`."""

    def __init__(self) -> None:
        self.host = HOST
        self.port = free_port()
        #: Every accepted message, parsed with the modern email policy.
        self.messages: list[EmailMessage] = []
        #: (MAIL FROM, RCPT TO addresses) of every accepted message.
        self.envelopes: list[tuple[str, list[str]]] = []
        #: Recipients answered "550 no such user".
        self.refused: set[str] = set()
        self._controller: Controller | None = None

    @property
    def settings(self) -> dict:
        """App settings that send mail here."""
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_TIMEOUT": 5}

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Listen (again) on the same port."""
        if self._controller is None:
            controller = Controller(_MailHandler(self), hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, address: str) -> None:
        """Answer 550 to RCPT TO this address, like a server that knows no such mailbox."""
        self.refused.add(address)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages once there are at least `count` (or whatever came within `timeout`)."""
        wait_until(lambda: len(self.messages) >= count, timeout)
        return list(self.messages)


class _MailHandler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.server.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        self.server.messages.append(message_from_bytes(raw, policy=default_policy))
        self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the receiver got."""

    method: str
    path: str
    headers: Message
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class HttpReceiver:
    """An HTTP server in a thread that keeps every request and answers `status` (200)."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        #: What every request is answered with, unless `fail_next` says otherwise.
        self.status = 200
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = HTTPServer((HOST, 0), _RequestHandler)
        self._server.receiver = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="http-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hook"

    @property
    def settings(self) -> dict:
        """App settings that send webhook calls here."""
        return {"WEBHOOK_URL": self.url, "WEBHOOK_TIMEOUT": 5}

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` requests with `status`, then `status` as usual again."""
        with self._lock:
            self._failures.extend([status] * count)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """The requests once there are at least `count` (or whatever came within `timeout`)."""
        wait_until(lambda: len(self.requests) >= count, timeout)
        return list(self.requests)

    def _answer(self, request: ReceivedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return self._failures.pop(0) if self._failures else self.status


class _RequestHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = ReceivedRequest(self.command, self.path, self.headers, body)
        status = self.server.receiver._answer(request)  # type: ignore[attr-defined]
        answer = json.dumps({"status": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_PUT = do_POST

    def log_message(self, format, *args) -> None:
        """Quiet: the test output is for the tests."""


@pytest.fixture
def smtp_server():
    """A running MailServer; stopped after the test."""
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http_receiver():
    """A running HttpReceiver; closed after the test."""
    receiver = HttpReceiver()
    receiver.start()
    yield receiver
    receiver.close()
