"""The message of an outbox row is the standard library's, byte for byte, for every template in
both languages and for arbitrary text: the MIME structure of an ``EmailMessage`` under the SMTP
policy (its parts' quoted-printable by ``binascii``), headers as ``email.header.Header`` and
``email.utils.formataddr`` write them. Same row, same bytes; CRLF line ends; no header that
text smuggled in."""

from __future__ import annotations

import binascii
import email.policy
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, formataddr

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cap.notify.kinds import KINDS
from cap.notify.message import LINE_LENGTH, boundary_of, build_message, message_id_for, one_line
from cap.notify.render import RenderedEmail, Renderer
from cap.notify.samples import sample_context

BUYER = "Region Stockholm"
SENDER = "cap@region.example"
REPLY_TO = "anna@region.example"
DATE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
TEXT = (
    "Hej,\n\nEn rad som börjar med en punkt:\n.\nSlut på raden med blanksteg   \n"
    + "x" * 200
    + "\n"
)
HTML = "<p>Åtgärdsplan &amp; <b>datum</b></p>\n" * 40
RENDERER = Renderer()


def build(
    rendered: RenderedEmail,
    recipient: str = "li.wei@nordic-supply.example",
    name: str | None = "Li Wei",
    sender_name: str = BUYER,
    finding: str = "NC-2026-0001",
) -> bytes:
    return build_message(
        rendered=rendered,
        sender=SENDER,
        sender_name=sender_name,
        recipient=recipient,
        recipient_name=name,
        message_id=message_id_for(f"{finding}/v2/cap_requested/{recipient}", SENDER),
        date=DATE,
        reply_to=REPLY_TO,
        headers={"X-Cap-Finding": finding},
    )


def library_mime(rendered: RenderedEmail, boundary: str) -> bytes:
    """The multipart/alternative entity as the ``email`` package writes it under the SMTP
    policy (``MIMEPart``: an ``EmailMessage`` without headers of its own), each part's
    quoted-printable made by ``binascii`` (cap's choice, for speed) rather than
    ``email.quoprimime``; both decode to the same text (see :func:`parts`)."""
    message = MIMEPart(policy=email.policy.SMTP)
    message.make_alternative(boundary=boundary)
    for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
        part = MIMEPart(policy=email.policy.SMTP)
        part.set_content(body, subtype=subtype, cte="quoted-printable")
        text = b"\n".join(body.encode("utf-8").splitlines()) + b"\n"
        part.set_payload(binascii.b2a_qp(text, istext=True).decode("ascii"))
        message.attach(part)
    return message.as_bytes()


def parts(raw: bytes) -> tuple[str, str]:
    """The text and the HTML the message holds, decoded."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage) and message.defects == []
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content().replace("\r\n", "\n"), html.get_content().replace("\r\n", "\n")


def lines_of(text: str) -> str:
    """``text`` as a part holds it (as ``set_content`` puts it): every line break one newline,
    and a newline at the end."""
    return (b"\n".join(text.encode("utf-8").splitlines()) + b"\n").decode("utf-8")


def library_header(name: str, value: str) -> str:
    """``name: value`` as ``email.header.Header`` folds it: ASCII between its words, other text
    in encoded-words. (Header leaves the first line empty when the first word does not fit on
    it; cap keeps that word beside the name, and is compared only where the two agree.)"""
    if value.isascii() and "=?" not in value:
        folded = Header(value, "us-ascii", LINE_LENGTH, name).encode(" ", linesep="\r\n")
    else:
        folded = Header(value, "utf-8", LINE_LENGTH, name).encode(linesep="\r\n")
    return f"{name}: {folded}"


def library_address(name: str, display_name: str, address: str) -> str:
    """An address header: ``formataddr`` for an ASCII name, else the name's encoded-words and
    the address after them."""
    display_name = one_line(display_name)
    if display_name.isascii() and "=?" not in display_name:
        return library_header(name, formataddr((display_name, address)))
    phrase = library_header(name, display_name)
    space = " " if len(phrase.rpartition("\n")[2]) + len(address) + 3 <= LINE_LENGTH else "\r\n "
    return f"{phrase}{space}<{address}>"


def library_head(rendered: RenderedEmail, recipient: str, name: str | None, kind: str) -> bytes:
    message_id = message_id_for(f"{kind}/{recipient}", SENDER)
    lines = [
        library_address("From", BUYER, SENDER),
        library_address("To", name or "", recipient),
        library_address("Reply-To", "", REPLY_TO),
        library_header("Subject", one_line(rendered.subject)),
        f"Date: {format_datetime(DATE)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Auto-Submitted: auto-generated",
        f"X-Cap-Kind: {kind}",
    ]
    return "\r\n".join(lines).encode("ascii")


def split(raw: bytes) -> tuple[bytes, bytes]:
    """The message's own headers, and its multipart/alternative entity."""
    head, _, mime = raw.partition(b"\r\nContent-Type: multipart/alternative;")
    return head, b"Content-Type: multipart/alternative;" + mime


def field(head: bytes, name: str) -> str:
    """Header ``name`` as written, folded lines and all."""
    lines = head.decode("ascii").split("\r\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}: "))
    end = start + 1
    while end < len(lines) and lines[end].startswith(" "):
        end += 1
    return "\r\n".join(lines[start:end])


TEMPLATES = [(kind, language) for kind in KINDS for language in ("sv", "en")]


@pytest.mark.parametrize(("kind", "language"), TEMPLATES)
def test_every_template_is_the_librarys_message(kind: str, language: str) -> None:
    context = sample_context(kind, language)
    person = context["recipient"]
    rendered = RENDERER.render(kind, language, context)
    message_id = message_id_for(f"{kind}/{person['email']}", SENDER)
    raw = build_message(
        rendered=rendered,
        sender=SENDER,
        sender_name=BUYER,
        recipient=person["email"],
        recipient_name=person["name"],
        message_id=message_id,
        date=DATE,
        reply_to=REPLY_TO,
        headers={"X-Cap-Kind": kind},
    )
    head, mime = split(raw)
    assert head == library_head(rendered, person["email"], person["name"], kind)
    assert mime == library_mime(rendered, boundary_of(message_id))
    assert parts(raw) == (lines_of(rendered.text), lines_of(rendered.html))


@settings(max_examples=200, deadline=None)
@given(
    subject=st.text(max_size=300),
    contact=st.text(max_size=120),
    text=st.text(max_size=2000),
    html=st.text(max_size=2000),
)
@example(subject="x" * 300, contact="", text=" \t\n.\n" + "=" * 80 + " \n", html="")
@example(subject="", contact="東莞" * 30, text="a" * 75 + " \n" + "b" * 74 + "\t\n", html="=\r.")
def test_any_text_is_the_librarys_message(subject: str, contact: str, text: str, html: str) -> None:
    raw = build(RenderedEmail(subject, text, html), name=contact, finding="NC-2026-0009")
    head, mime = split(raw)
    for header, expected in [
        ("To", library_address("To", contact, "li.wei@nordic-supply.example")),
        ("Subject", library_header("Subject", one_line(subject))),
    ]:
        if not expected.startswith(f"{header}: \r\n"):
            assert field(head, header) == expected
    message_id = message_id_for(
        "NC-2026-0009/v2/cap_requested/li.wei@nordic-supply.example", SENDER
    )
    assert mime == library_mime(RenderedEmail(subject, text, html), boundary_of(message_id))
    assert parts(raw) == (lines_of(text), lines_of(html))


def test_line_breaks_in_header_text_never_start_a_header() -> None:
    raw = build(RenderedEmail("Overtime\r\nBcc: evil@example.com", TEXT, HTML), name="Li\r\nBcc: x")
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Overtime Bcc: evil@example.com"


def test_an_address_that_is_no_address_builds_no_message() -> None:
    with pytest.raises(ValueError):
        build(RenderedEmail("Subject", TEXT, HTML), recipient="li@nordic-supply.example\r\nBcc: x")
    with pytest.raises(UnicodeEncodeError):  # no server takes it without SMTPUTF8
        build(RenderedEmail("Subject", TEXT, HTML), recipient="björn@nordic-supply.example")


def test_the_same_row_gives_the_same_bytes_and_both_parts_read_back() -> None:
    rendered = RenderedEmail("Subject", TEXT, HTML)
    first, second = build(rendered), build(rendered)
    assert first == second
    assert parts(first) == (TEXT, HTML)
    message = email.message_from_bytes(first, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Reply-To"] == REPLY_TO
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"


@pytest.mark.parametrize(
    "text", [TEXT, "lone\rreturn and lone\nnewline\r\n\n\r", "no newline at the end"]
)
def test_every_line_ends_with_crlf(text: str) -> None:
    raw = build(RenderedEmail("Subject", text, "<p>a\rb\nc</p>"))
    assert raw.endswith(b"\r\n")
    assert b"\r" not in raw.replace(b"\r\n", b"") and b"\n" not in raw.replace(b"\r\n", b"")
