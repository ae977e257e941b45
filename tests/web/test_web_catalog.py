"""Every message of the pages has its Swedish translation, with the same placeholders: a page
half in English, or one that crashes on a missing %(name)s, is caught here, not by a reader."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from cap.domain.model import Language
from cap.web.language import catalog_of

WEB = Path(__file__).parents[2] / "cap" / "web"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _messages() -> list[tuple[str, tuple[str, ...]]]:
    with (WEB / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    found = []
    for filename, _, message, _, _ in extract_from_dir(WEB, method_map, options_map):
        found.append((filename, message if isinstance(message, tuple) else (message,)))
    return found


def _strings(value: object) -> tuple[str, ...]:
    """A message's id or translation as a tuple of strings (a plural has several)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list):
        return tuple(str(v) for v in value)
    return ("",)


def test_the_pages_messages_are_found() -> None:
    ids = {ids[0] for _, ids in _messages()}
    # One message from code, a template and the labels: the extraction sees all three kinds.
    assert {"wrong email or password", "Sign in", "awaiting plan"} <= ids


def test_every_message_has_a_swedish_translation() -> None:
    catalog = catalog_of(Language.SV)
    missing = []
    for filename, ids in _messages():
        message = catalog.get(ids[0])
        if message is None or not all(_strings(message.string)):
            missing.append(f"{filename}: {ids[0]!r}")
    assert missing == []


def test_translations_keep_the_placeholders() -> None:
    wrong = []
    for message in catalog_of(Language.SV):
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(_strings(message.id)[-1]))
        for string in _strings(message.string):
            if set(PLACEHOLDER.findall(string)) != wanted:
                wrong.append(f"{_strings(message.id)[0]!r} -> {string!r}")
    assert wrong == []
