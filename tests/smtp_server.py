"""A real SMTP server on loopback for tests (aiosmtpd), with scripted refusals.

``script`` maps a recipient address to the replies its next deliveries get, in order: an
SMTP reply string such as ``"451 4.3.0 try later"`` for RCPT, ``"drop"`` to close the
connection without answering, ``"stall"`` to answer only after :data:`STALL_SECONDS` (a server
that hangs), ``"data:"`` and a reply to accept the recipient and refuse the message after
its DATA (a content filter), or ``"ok"``. When its list is used up, deliveries succeed.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

#: How long a ``"stall"`` reply keeps the client waiting: longer than any test's SMTP timeout.
STALL_SECONDS = 30.0


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Handler:
    script: dict[str, list[str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    on_data: Callable[[Received], None] | None = None
    #: A reply to every MAIL FROM instead of accepting it (a relay refusing our sender).
    mail_reply: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _next(self, address: str) -> str:
        with self.lock:
            replies = self.script.get(address)
            return replies.pop(0) if replies else "ok"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self._next(address)
        if reply == "drop":
            assert server.transport is not None
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        if reply == "stall":
            await asyncio.sleep(STALL_SECONDS)
            reply = "ok"
        if reply.startswith("data:"):
            session.refuse_data = reply.removeprefix("data:")  # type: ignore[attr-defined]
            reply = "ok"
        if reply != "ok":
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal: str | None = getattr(session, "refuse_data", None)
        if refusal is not None:
            del session.refuse_data  # type: ignore[attr-defined]
            return refusal
        content = envelope.original_content or b""
        item = Received(str(envelope.mail_from), list(envelope.rcpt_tos), content)
        with self.lock:
            self.received.append(item)
        if self.on_data is not None:
            self.on_data(item)
        return "250 Message accepted for delivery"

    def messages_to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.recipients]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Handler | None = None, **kwargs: Any) -> Iterator[tuple[Handler, int]]:
    """Run an SMTP server on 127.0.0.1 for the duration of the block."""
    handler = handler or Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
