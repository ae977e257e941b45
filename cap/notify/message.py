"""Building the RFC 5322 message of an outbox row: one multipart/alternative email.

The message is assembled from the stored parts at delivery, so it must be cheap and
deterministic: the standard library's ``email`` package costs ~2 ms a message in header
parsing, so the message is put together here from its encoders (RFC 2047 headers,
quoted-printable bodies), with a boundary derived from the Message-ID. The same row always
gives the same bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from email.utils import format_datetime

from cap.notify.kinds import RenderedEmail


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
    # Any line break (CRLF from a web form, a lone CR) becomes one CRLF on the wire.
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        *encoded.split("\n"),
    ]


_SPECIALS = set('()<>[]:;@\\,."')


def _address(name: str, address: str) -> str:
    """``Name <address>``; the name quoted or RFC 2047 encoded as needed."""
    name = _one_line(name)
    if not name:
        return address
    if not name.isascii():
        # In an address header the words of a phrase are joined by a space when decoded:
        # split a long name between its words only, never inside one.
        words = name.split(" ")
        phrases, current = [], ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if current and len(candidate.encode("utf-8")) > 45:
                phrases.append(current)
                candidate = word
            current = candidate
        phrases.append(current)
        encoded = "\r\n ".join(_word(phrase) for phrase in phrases)
        return f"{encoded} <{address}>"
    if any(ch in _SPECIALS for ch in name):
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{address}>'
    return f"{name} <{address}>"


def _encoded(value: str, header_length: int) -> str:
    if value.isascii() and len(value) + header_length <= 78:
        return value
    return _encoded_words(value, header_length)


def _encoded_words(value: str, header_length: int) -> str:
    """RFC 2047 base64 encoded-words of at most 75 characters, one per folded line; a
    character is never split between two words. (email.header does the same, at ten times
    the cost, by measuring every split it tries.)"""
    words: list[str] = []
    chunk = b""
    budget = 45  # bytes whose base64 (60 characters) fits an encoded-word of 72
    for ch in value:
        encoded = ch.encode("utf-8")
        if len(chunk) + len(encoded) > budget:
            words.append(chunk.decode("utf-8"))
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk.decode("utf-8"))
    return "\r\n ".join(_word(word) for word in words)


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def _one_line(value: str) -> str:
    return " ".join(value.split())
