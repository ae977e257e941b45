"""The message assembled from an outbox row reads back exactly, whatever the names and subject."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtplib.protocol import normalize_message_line_endings

from cap.notify.message import build_message, message_id_for
from cap.notify.render import RenderedEmail

TEXT = "Hej,\n\nEn rad som börjar med en punkt:\n.\nSlut på raden med blanksteg   \n" + "x" * 200
HTML = "<p>Åtgärdsplan &amp; <b>datum</b></p>\n" * 40


def build(subject: str, name: str | None, sender_name: str = "Region Stockholm") -> bytes:
    return build_message(
        rendered=RenderedEmail(subject, TEXT, HTML),
        sender="cap@region.example",
        sender_name=sender_name,
        recipient="li.wei@nordic-supply.example",
        recipient_name=name,
        message_id=message_id_for("NC-2026-0001/v2/cap_requested/li", "cap@region.example"),
        date=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        reply_to="anna@region.example",
        headers={"X-Cap-Finding": "NC-2026-0001"},
    )


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message.defects == []
    return message


@pytest.mark.parametrize(
    "name",
    [
        "Li Wei",
        'Wéi, Li "Lily"',
        "Åsa Öberg-Ångström, hållbarhetsansvarig för leverantörskedjor i Sydostasien",
        "Ååååååååååååååååååååååååååååååååååååååååååååååååååå",
        None,
    ],
)
def test_display_names_read_back_exactly(name: str | None) -> None:
    message = parse(build("Subject", name))
    [address] = message["To"].addresses
    assert address.addr_spec == "li.wei@nordic-supply.example"
    assert address.display_name == (name or "")


@pytest.mark.parametrize(
    "subject",
    [
        "NC-2026-0001: Plan due",
        "NC-2026-0042: Begäran om åtgärdsplan senast 2 mars 2026 \u2013 Påtvingad övertid vid "
        "monteringsfabrik i Dongguan, linje 3 och 4",
        "A" * 150,
    ],
)
def test_subjects_read_back_exactly_and_lines_stay_short(subject: str) -> None:
    raw = build(subject, "Li Wei")
    assert parse(raw)["Subject"] == subject
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 998


def test_line_breaks_in_header_text_never_start_a_header() -> None:
    raw = build("Overtime\r\nBcc: evil@example.com", "Li\r\nBcc: evil@example.com")
    message = parse(raw)
    assert message["Bcc"] is None
    assert message["Subject"] == "Overtime Bcc: evil@example.com"


def test_the_same_row_gives_the_same_bytes_and_both_parts_read_back() -> None:
    first, second = build("Subject", "Li Wei"), build("Subject", "Li Wei")
    assert first == second
    message = parse(first)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == TEXT
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == HTML.rstrip("\n")
    assert message["Reply-To"] == "anna@region.example"
    assert message["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(
    "text", [TEXT, "lone\rreturn and lone\nnewline\r\n\n\r", "no newline at the end"]
)
def test_the_message_is_already_in_smtp_line_form(text: str) -> None:
    # Delivery sends SIZE=len(message) and skips SMTP.sendmail's re-scan: that holds only if
    # the bytes are what aiosmtplib would put on the wire anyway.
    raw = build_message(
        rendered=RenderedEmail("Subject", text, "<p>a\rb\nc</p>"),
        sender="cap@region.example",
        sender_name="Region Stockholm",
        recipient="li.wei@nordic-supply.example",
        recipient_name="Li",
        message_id=message_id_for("NC-2026-0001/v2/cap_requested/li", "cap@region.example"),
        date=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    )
    assert normalize_message_line_endings(raw) == raw
    assert raw.endswith(b"\r\n")
