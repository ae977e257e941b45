"""Headers stay within RFC 5322 and RFC 2047 and read back exactly, whatever the names and the
subject: CJK without spaces, emoji, 300-character titles, quotes, commas, backslashes, control
characters; an ASCII subject stays readable."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cap.notify.message import build_message, message_id_for, one_line
from cap.notify.render import RenderedEmail

SENDER = "cap@region.example"
RECIPIENT = "li.wei@nordic-supply.example"
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")

#: Text of any kind: letters of every script, emoji, punctuation, controls, line breaks.
TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
CJK = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=120)
EMOJI = st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=40)
PUNCTUATION = st.text(st.sampled_from('"\\,;:<>()[]@.=? \t\r\n\x00\x07\x7f\u2028'), max_size=20)
MIXED = st.lists(st.one_of(TEXT, CJK, EMOJI, PUNCTUATION), max_size=6).map("".join)
NAMES = st.one_of(TEXT, CJK, EMOJI, MIXED)
ASCII = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)


def build(subject: str, recipient_name: str | None, sender_name: str = "Region Stockholm") -> bytes:
    return build_message(
        rendered=RenderedEmail(subject, "Hej\n", "<p>Hej</p>\n"),
        sender=SENDER,
        sender_name=sender_name,
        recipient=RECIPIENT,
        recipient_name=recipient_name,
        message_id=message_id_for("NC-2026-0001/v1/cap_requested/li", SENDER),
        date=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        reply_to="anna@region.example",
        headers={"X-Cap-Finding": "NC-2026-0001"},
    )


def head_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def field(raw: bytes, name: str) -> str:
    """Header ``name``'s value as written, unfolded."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").decode("ascii")
    [value] = [line.split(": ", 1)[1] for line in head.split("\r\n") if line.startswith(name + ":")]
    return value


def display_name(message: EmailMessage, raw: bytes, name: str, address: str) -> str:
    """The display name of the one address of header ``name``, decoded as RFC 2047 says.

    Python 3.11's parser keeps the space between two adjacent encoded-words of an address
    header (CPython gh-128110, fixed in later versions), where RFC 2047, 6.2 drops it: a name
    longer than one encoded-word would read back with spaces that are not in it. There the
    phrase is decoded with ``email.header.decode_header``, which follows the RFC.
    """
    [parsed] = message[name].addresses
    assert parsed.addr_spec == address
    value = field(raw, name)
    if not re.search(r"\?= +=\?", value):
        return str(parsed.display_name)
    phrase = value.removesuffix(f" <{address}>")
    assert phrase != value and phrase.startswith("=?")
    return str(make_header(decode_header(phrase)))


@settings(max_examples=400, deadline=None)
@given(subject=st.one_of(TEXT, CJK, MIXED), recipient_name=NAMES, sender_name=NAMES)
@example(
    subject="Påtvingad övertid vid monteringsfabrik i Dongguan, linje 3 och 4 " * 3,
    # A Chinese company name as a supplier's contact: one word of 75 UTF-8 bytes, which the
    # old code made one encoded-word of 112 characters.
    recipient_name="东莞市日升电子科技有限公司第二工厂质量部",
    sender_name="Region Stockholm",
)
@example(subject="x" * 300, recipient_name='Wéi, Li "Lily" \\ (QA)', sender_name="😀" * 40)
@example(subject="=?utf-8?q?hi?= there", recipient_name="=?utf-8?q?x?=", sender_name="a=?b")
def test_every_header_stays_within_the_limits_and_reads_back(
    subject: str, recipient_name: str, sender_name: str
) -> None:
    raw = build(subject, recipient_name, sender_name)
    lines = head_lines(raw)
    assert all(line.isascii() for line in lines)
    # RFC 5322, 2.1.1: at most 78 characters, but a fold needs a space to go before.
    long = [line for line in lines if len(line) > 78]
    assert all(len(line.split(b": ", 1)[-1].strip().split(b" ")) == 1 for line in long), long
    # RFC 2047, 2: an encoded-word is at most 75 characters, a line holding one at most 76.
    words = [word for line in lines for word in ENCODED_WORD.findall(line)]
    assert all(len(word) <= 75 for word in words), [w for w in words if len(w) > 75]
    encoded = [line for line in lines if ENCODED_WORD.search(line)]
    assert all(len(line) <= 76 for line in encoded), [line for line in encoded if len(line) > 76]

    message = parse(raw)
    assert message.defects == []
    assert message["Subject"] == one_line(subject)
    assert display_name(message, raw, "To", RECIPIENT) == one_line(recipient_name)
    assert display_name(message, raw, "From", SENDER) == one_line(sender_name)
    assert message["Reply-To"] == "anna@region.example"
    assert message["X-Cap-Finding"] == "NC-2026-0001"
    assert message["Bcc"] is None


@settings(max_examples=300, deadline=None)
@given(subject=ASCII)
@example(subject="NC-2026-0042: Corrective action plan requested by 2 March 2026 - " * 4)
@example(subject="A" * 150 + " and " + "B" * 100)
def test_an_ascii_subject_stays_readable(subject: str) -> None:
    """Written as it is, folded between its words; encoded only when it holds "=?", which
    readers would otherwise take for the start of an encoded-word."""
    raw = build(subject, "Li Wei")
    written = field(raw, "Subject")
    assert parse(raw)["Subject"] == one_line(subject)
    if "=?" not in subject:
        assert written == one_line(subject)


@pytest.mark.parametrize(
    "name",
    [
        "Li Wei",
        'Wéi, Li "Lily"',
        "Åsa Öberg-Ångström, hållbarhetsansvarig för leverantörskedjor i Sydostasien",
        "Ååååååååååååååååååååååååååååååååååååååååååååååååååå",
        "东莞市日升电子科技有限公司第二工厂质量部",
        "",
        None,
    ],
)
def test_display_names_read_back_exactly(name: str | None) -> None:
    raw = build("Subject", name)
    assert display_name(parse(raw), raw, "To", RECIPIENT) == (name or "")
