"""Building the RFC 5322 message of an outbox row: one multipart/alternative email.

The message is the standard library's ``email`` package's: the MIME structure of an
``EmailMessage`` under ``email.policy.SMTP`` (CRLF line ends; a text and an HTML part in
quoted-printable; a boundary derived from the Message-ID, so that the same row always gives the
same bytes), addresses checked by ``email.headerregistry`` and written by
``email.utils.formataddr``, names and subjects written as ``email.header.Header`` writes them:
ASCII text as it is, folded between its words; any other text in RFC 2047 encoded-words.
tests/test_message.py proves the bytes equal to the library's, for every template in both
languages and for arbitrary text; tests/test_message_headers.py checks the RFC limits and that
every header reads back.

Not ``EmailMessage``'s header folding: in Python 3.11 it writes encoded-words of up to 77
characters (RFC 2047 allows 75), and where it splits a name or subject across encoded-words at
a space, it leaves the space between the words, where every reader drops it (CPython gh-92081;
of 3,000 random subjects in Swedish letters, one in eight lost a space). ``Header`` keeps every
character inside its words.

Nor the library called for every message: delivery assembles each message it sends, and the
client's CPU bounds its rate (bench/delivery.py). ``EmailMessage`` takes 1.5 ms a message and
``Header`` 0.2 ms a non-ASCII subject; this module, 0.1 ms a message. :func:`_encoded_words`
and :func:`_folded` are ``Header``'s algorithm, counting lengths as they grow where ``Header``
encodes the text again for every character; the parts' quoted-printable is ``binascii``'s (C).

Every header value a person wrote is made one line first: no text starts a header of its own.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import string
from datetime import datetime
from email.headerregistry import Address
from email.utils import format_datetime, formataddr

from cap.notify.kinds import RenderedEmail

#: The longest line: of a header line that holds an encoded-word (RFC 2047, 2) and of a
#: quoted-printable line (RFC 2045, 6.7). Other header lines may have 78 (RFC 5322, 2.1.1).
LINE_LENGTH = 76

#: What one-line normalisation turns into a space: line breaks, other whitespace and control
#: characters (as the renderer does for subjects).
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
#: The length of an encoded-word around its text: "=?utf-8?b?" and "?=".
_CHROME = len("=?utf-8?b??=")
_Q_LITERAL = frozenset((string.ascii_letters + string.digits + "-!*+/").encode())
#: What each byte becomes in the text of a "q" encoded-word (``email.quoprimime``).
_Q = [
    "_" if byte == ord(" ") else chr(byte) if byte in _Q_LITERAL else f"={byte:02X}"
    for byte in range(256)
]
_Q_LENGTH = [len(text) for text in _Q]


def message_id_for(key: str, sender: str) -> str:
    """A stable Message-ID derived from the outbox key: a re-sent message carries the same one,
    so receiving systems can spot the rare duplicate."""
    domain = sender.rpartition("@")[2] or "cap.localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


def one_line(value: str) -> str:
    """``value`` as a header holds it: every run of line breaks, whitespace and control
    characters made one space, the ends stripped."""
    return _BREAKS.sub(" ", value).strip()


def boundary_of(message_id: str) -> str:
    """The MIME boundary: fixed by the Message-ID, so a re-sent message is the same bytes."""
    return "=_cap_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]


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
    """The complete message as bytes, CRLF line ends (see the module docstring).

    Addresses must be ASCII (UnicodeEncodeError otherwise): without SMTPUTF8, which cap does
    not ask for, no server takes another.
    """
    lines = [
        _address_header("From", sender_name, sender),
        _address_header("To", recipient_name or "", recipient),
    ]
    if reply_to:
        lines.append(_address_header("Reply-To", "", reply_to))
    lines += [
        _text_header("Subject", rendered.subject),
        _text_header("Date", format_datetime(date)),
        _text_header("Message-ID", message_id),
        "MIME-Version: 1.0",
        # Automatic mail: auto-responders must not answer it (RFC 3834).
        "Auto-Submitted: auto-generated",
    ]
    lines += [_text_header(name, value) for name, value in (headers or {}).items()]
    boundary = boundary_of(message_id)
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    head = "\r\n".join(lines).encode("ascii")
    delimiter = f"\r\n--{boundary}".encode("ascii")
    return b"".join(
        (
            head,
            b"\r\n",
            delimiter,
            b"\r\n",
            _part(b"plain", rendered.text),
            delimiter,
            b"\r\n",
            _part(b"html", rendered.html),
            delimiter,
            b"--\r\n",
        )
    )


def _text_header(name: str, value: str) -> str:
    """The header ``name: value`` (no line end), ``value`` made one line: folded between its
    words if it is ASCII, else encoded whole."""
    value = one_line(value)
    if value.isascii() and "=?" not in value:
        return _folded(f"{name}: {value}")
    return f"{name}: {_encoded_words(value, name)}"


@functools.lru_cache(maxsize=1024)
def _address_header(name: str, display_name: str, address: str) -> str:
    """The header ``name: display name <address>`` (no line end): the name quoted as needed
    and folded, or in encoded-words with the address after the last one (on a line of its own
    if it does not fit there). Cached: a pass sends most of its messages from one sender to a
    few people, and checking an address costs 20 µs."""
    address.encode("ascii")
    Address(addr_spec=address)  # refuses what is no address (and any line break)
    display_name = one_line(display_name)
    if display_name.isascii() and "=?" not in display_name:
        return _folded(f"{name}: {formataddr((display_name, address))}")
    phrase = _encoded_words(display_name, name)
    last_line = phrase.rpartition("\n")[2] if "\n" in phrase else f"{name}: {phrase}"
    space = " " if len(last_line) + len(address) + 3 <= LINE_LENGTH else "\r\n "
    return f"{name}: {phrase}{space}<{address}>"


def _folded(line: str) -> str:
    """``line`` folded before the spaces that end a line of :data:`LINE_LENGTH` (RFC 5322,
    2.2.3), as ``Header(value, "us-ascii").encode(" ")`` folds it; a word longer than a line
    stays whole on its own, where no fold is allowed, and the first one beside the header's
    name (where ``Header`` would leave the name alone on its line, which readers take for a
    leading space)."""
    if len(line) <= LINE_LENGTH:
        return line
    name, _, value = line.partition(" ")
    lines, current = [], name
    for word in value.split(" "):
        if len(current) + 1 + len(word) > LINE_LENGTH and current.strip() != name:
            lines.append(current)
            current = ""
        current += " " + word
    lines.append(current)
    return "\r\n".join(lines)


def _encoded_words(text: str, name: str) -> str:
    """``text`` in RFC 2047 encoded-words for header ``name``, folded: what
    ``email.header.Header(text, "utf-8", LINE_LENGTH, name).encode("\\r\\n")`` gives.

    Like it, "b" (base64) or "q" encoding, whichever is shorter for the whole text; each word as
    many whole characters as fit on its line (the first one after the header's name), so that
    no character is split and every space is inside a word. ``Header`` finds that out by
    encoding the text again for every character, in 0.2 ms; here the length grows by each
    character's share.
    """
    data = text.encode("utf-8")
    q_length = sum(_Q_LENGTH[byte] for byte in data)
    base64_length = -(-len(data) // 3) * 4
    as_base64 = base64_length < q_length
    room = LINE_LENGTH - len(name) - 2 - _CHROME  # for the text of the first word
    words: list[str] = []
    start = size = 0  # the current word's first character, and its bytes (or "q" length)
    for index, character in enumerate(text):
        encoded = character.encode("utf-8")
        grown = size + (len(encoded) if as_base64 else sum(_Q_LENGTH[b] for b in encoded))
        if (-(-grown // 3) * 4 if as_base64 else grown) > room:
            words.append(_word(text[start:index], as_base64))
            start, grown = index, grown - size
            room = LINE_LENGTH - 1 - _CHROME  # a folded line starts with a space
        size = grown
    words.append(_word(text[start:], as_base64))
    return "\r\n ".join(words)


def _word(text: str, as_base64: bool) -> str:
    data = text.encode("utf-8")
    if as_base64:
        return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="
    return f"=?utf-8?q?{''.join(_Q[byte] for byte in data)}?="


def _part(subtype: bytes, body: str) -> bytes:
    """One body part as ``MIMEPart.set_content(body, subtype, cte="quoted-printable")`` makes
    it, with a line break before the next delimiter: any line break of ``body`` becomes one
    CRLF, and the last line ends with one. The quoted-printable is ``binascii``'s (C) rather
    than ``email.quoprimime``'s (Python, 0.1 ms a part): it also escapes a line's lone dot, and
    splits long lines a few characters from where quoprimime does; both keep RFC 2045's limit
    of 76 characters."""
    data = b"\n".join(body.encode("utf-8").splitlines()) + b"\n"
    return (
        b'Content-Type: text/%s; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" % subtype
    ) + binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")
