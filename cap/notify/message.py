"""Building the RFC 5322 message of an outbox row: one multipart/alternative email.

The message is assembled from the stored parts at delivery, so it must be cheap and
deterministic: the standard library's ``email`` package costs ~2 ms a message in header
parsing, so the message is put together here from its encoders (RFC 2047 headers,
quoted-printable bodies), with a boundary derived from the Message-ID. The same row always
gives the same bytes.
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr

from cap.notify.render import RenderedEmail


def message_id_for(key: str, sender: str) -> str:
    """A stable Message-ID derived from the outbox key: a re-sent message carries the same one,
    so receiving systems can spot the rare duplicate."""
    domain = sender.rpartition("@")[2] or "cap.localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def build_message(
    *,
    rendered: RenderedEmail,
    sender: str,
    sender_name: str,
    recipient: str,
    recipient_name: str | None,
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The complete message as bytes, CRLF line ends.

    Every header value is made one line first (no user text can start a header of its own);
    addresses come from validated input; display names and the subject are RFC 2047 encoded
    when they are not ASCII.
    """
    boundary = "=_cap_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
    lines = [
        f"From: {_address(sender_name, sender)}",
        f"To: {_address(recipient_name or '', recipient)}",
    ]
    if reply_to:
        lines.append(f"Reply-To: {_address('', reply_to)}")
    lines += [
        f"Subject: {_encoded(_one_line(rendered.subject), len('Subject: '))}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: {_one_line(message_id)}",
        "MIME-Version: 1.0",
        # Automatic mail: auto-responders must not answer it (RFC 3834).
        "Auto-Submitted: auto-generated",
    ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {_encoded(_one_line(value), len(name) + 2)}")
    lines += [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        *_part("plain", rendered.text),
        f"--{boundary}",
        *_part("html", rendered.html),
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def _part(subtype: str, body: str) -> list[str]:
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        *encoded.split("\n"),
    ]


def _address(name: str, address: str) -> str:
    return formataddr((_one_line(name), address), charset="utf-8")


def _encoded(value: str, header_length: int) -> str:
    if value.isascii() and len(value) + header_length <= 78:
        return value
    folded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=None)
    return folded.encode(maxlinelen=78).replace("\n", "\r\n")


def _one_line(value: str) -> str:
    return " ".join(value.split())
