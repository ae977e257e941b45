"""Text fields refuse the invisible controls that reorder how text is displayed.

A title with U+202E (RIGHT-TO-LEFT OVERRIDE) shows in an email or a list in another order than
it was written ("Trojan Source"); every one-line and multi-line field refuses the bidirectional
controls, while right-to-left text itself is welcome.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from cap.domain.inputs import FindingInput, PlanInput, parse
from cap.errors import InvalidInput

BIDI_CONTROLS = [
    "\u061c",  # ARABIC LETTER MARK
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    *[chr(c) for c in range(0x202A, 0x202F)],  # embeddings, pop, overrides
    *[chr(c) for c in range(0x2066, 0x206A)],  # isolates and their pop
]
FINDING = {"contract": "RS-9", "severity": "major", "area": "wages", "source": "other",
           "title": "Overtime"}  # fmt: skip
ACTION = {"description": "Cap overtime", "owner": "HR", "due": "2026-05-01"}


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_one_line_and_multi_line_fields_refuse_each_bidi_control(control: str) -> None:
    code = f"U+{ord(control):04X}"
    cases: list[tuple[type[BaseModel], dict[str, Any], str]] = [
        (FindingInput, {**FINDING, "title": f"Forced {control}emitrevo"}, "title"),
        (FindingInput, {**FINDING, "site": f"Dongguan{control}"}, "site"),
        (FindingInput, {**FINDING, "description": f"Line 1\nLine {control}2"}, "description"),
        (PlanInput, {"root_cause": "Peak orders", "actions": [{**ACTION, "owner": control + "HR"}]},
         "actions.0.owner"),
    ]  # fmt: skip
    for model, data, field in cases:
        with pytest.raises(InvalidInput) as refused:
            parse(model, data)
        assert str(refused.value) == (
            f"{field}: contains the invisible direction control {code}, which makes text "
            "display in another order than it is written; remove it"
        )


def test_right_to_left_text_and_other_unicode_are_accepted() -> None:
    finding = parse(
        FindingInput,
        {
            **FINDING,
            "title": "ساعات عمل إضافية قسرية",  # Arabic, right to left without controls
            "site": "Fabrik i Göteborg — hall 2",
            "description": "עובדים מדווחים\nשבוע של 80 שעות",  # Hebrew  # noqa: RUF001
        },
    )
    assert finding.title == "ساعات عمل إضافية قسرية"
    # The zero-width joiner (U+200D) shapes scripts and emoji; it reorders nothing.
    assert parse(FindingInput, {**FINDING, "title": "Overtime \u200d"}).title.endswith("\u200d")
