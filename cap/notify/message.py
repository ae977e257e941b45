"""Building the RFC 5322 message of an outbox row: one multipart/alternative email."""

from __future__ import annotations

import hashlib
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from cap.notify.render import RenderedEmail

#: CRLF line ends and strict header folding: what SMTP servers expect on the wire.
_POLICY = policy.SMTP.clone(max_line_length=78)


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
    """The complete message as bytes. Header values come from validated input or are one line
    already (the renderer folds the subject); ``Address`` quotes and encodes display names, so
    no user text can add a header."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = Address(display_name=_one_line(sender_name), addr_spec=sender)
    msg["To"] = Address(display_name=_one_line(recipient_name or ""), addr_spec=recipient)
    if reply_to:
        msg["Reply-To"] = Address(addr_spec=reply_to)
    msg["Subject"] = _one_line(rendered.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    # Automatic mail: auto-responders must not answer it (RFC 3834).
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = _one_line(value)
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # A boundary derived from the Message-ID: the same message always has the same bytes.
    msg.set_boundary("=_cap_" + hashlib.sha256(message_id.encode()).hexdigest()[:24])
    return msg.as_bytes()


def _one_line(value: str) -> str:
    return " ".join(value.split())
