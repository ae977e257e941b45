"""What a refused value says is ours, in plain words: never pydantic's "Input should be ...".

One helper (``cap.domain.inputs.describe``) words every validation error for the input models,
the settings and the rules: the field, then what is wrong and how to fix it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from cap.cli.base import settings_from_env
from cap.domain.inputs import (
    ContractInput,
    FindingInput,
    PlanInput,
    SupplierInput,
    describe,
    parse,
)
from cap.domain.rules import RulesError, load_rules
from cap.errors import InvalidInput
from cap.notify.render import KINDS

#: pydantic's own voice: "Input should be", "List should have", "Value error, "...
PYDANTIC = re.compile(
    r"\b[A-Z]\w* should\b|should have|after validation|Value error|Field required"
)

CONTRACT = {"reference": "RS-9", "supplier": "556000-1234", "category": "PCs",
            "manager": "anna@region.example"}  # fmt: skip
FINDING = {"contract": "RS-9", "severity": "major", "area": "wages", "source": "other",
           "title": "Overtime"}  # fmt: skip
ACTION = {"description": "Cap overtime", "owner": "HR", "due": "2026-05-01"}
PLAN = {"root_cause": "Peak orders", "actions": [ACTION]}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


INPUTS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (ContractInput, with_(CONTRACT, value="-1"), "value: '-1' is too small; give 0 or more"),
    (ContractInput, with_(CONTRACT, value="lots"), "value: 'lots' is not a number"),
    (ContractInput, with_(CONTRACT, value="1.234"),
     "value: '1.234' has too many decimals; at most 2"),
    (ContractInput, with_(CONTRACT, value="1" * 17),
     f"value: '{'1' * 17}' has too many digits; at most 16"),
    (ContractInput, with_(CONTRACT, start="2026-13-01"),
     "start: '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    (ContractInput, with_(CONTRACT, colour="red"), "colour: is not a known field"),
    (FindingInput, with_(FINDING, severity="apocalyptic"),
     "severity: 'apocalyptic' is not one of 'minor', 'major' or 'critical'"),
    (FindingInput, with_(FINDING, title="   "), "title: must not be empty"),
    (FindingInput, with_(FINDING, title="x" * 201), "title: is too long; at most 200 characters"),
    (FindingInput, {k: v for k, v in FINDING.items() if k != "title"}, "title: is required"),
    (FindingInput, with_(FINDING, titel="Overtime"),
     "titel: is not a known field (did you mean 'title'?)"),
    (FindingInput, with_(FINDING, found_on="2026-02-30"),
     "found_on: '2026-02-30' is not a date; write it as YYYY-MM-DD"),
    (SupplierInput, {"name": "Acme", "org_number": "1", "country": "SE",
                     "email": "qa@acme.example", "language": "de"},
     "language: 'de' is not one of 'sv' or 'en'"),
    (PlanInput, with_(PLAN, actions=[]), "actions: needs at least 1 item"),
    (PlanInput, with_(PLAN, actions=[ACTION] * 201), "actions: has too many items; at most 200"),
    (PlanInput, with_(PLAN, actions="Cap overtime"), "actions: 'Cap overtime' is not a list"),
    (PlanInput, with_(PLAN, actions=["Cap overtime"]),
     "actions.0: 'Cap overtime' is not a set of named fields"),
    (PlanInput, with_(PLAN, root_cause=""), "root_cause: must not be empty"),
    (PlanInput, with_(PLAN, root_cause=42), "root_cause: 42 is not text"),
    (PlanInput, with_(PLAN, actions=[with_(ACTION, due="2026-05-01T10:00")]),
     "actions.0.due: '2026-05-01T10:00' is not a date; write it as YYYY-MM-DD"),
    (PlanInput, {"root_cause": "Peak orders"}, "actions: is required"),
    # A misspelt key leaves the field it meant missing: one problem, told as the typo.
    (PlanInput, with_(PLAN, actions=[{"descriptoin": "Cap overtime", "owner": "HR",
                                      "due": "2026-05-01"}]),
     "actions.0.descriptoin: is not a known field (did you mean 'description'?)"),
    (PlanInput, {"root_cause": "", "actions": []},
     "root_cause: must not be empty (and 1 more problem)"),
]  # fmt: skip


@pytest.mark.parametrize(("model", "data", "expected"), INPUTS)
def test_input_models_say_what_is_wrong_in_plain_words(
    model: type[BaseModel], data: dict[str, Any], expected: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(model, data, "plan.json")
    assert str(refused.value) == f"plan.json: {expected}"
    assert not PYDANTIC.search(str(refused.value))


SETTINGS = [
    ("CAP_SMTP_PORT", "lots", "CAP_SMTP_PORT: 'lots' is not a whole number"),
    ("CAP_DELIVERY_CONNECTIONS", "0", "CAP_DELIVERY_CONNECTIONS: '0' is too small; give 1 or more"),
    ("CAP_DELIVERY_CONNECTIONS", "33",
     "CAP_DELIVERY_CONNECTIONS: '33' is too large; give 32 or less"),
    ("CAP_SMTP_TIMEOUT", "0", "CAP_SMTP_TIMEOUT: '0' is too small; give more than 0"),
    ("CAP_SMTP_TLS", "ssl", "CAP_SMTP_TLS: 'ssl' is not one of 'starttls', 'tls' or 'none'"),
    ("CAP_DECISION_MAKERS", "cecilia", "CAP_DECISION_MAKERS: 'cecilia' is not an email address"),
]  # fmt: skip


@pytest.mark.parametrize(("variable", "value", "expected"), SETTINGS)
def test_settings_say_what_is_wrong_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(InvalidInput) as refused:
        settings_from_env()
    assert str(refused.value) == expected
    assert not PYDANTIC.search(str(refused.value))


DEFAULT_RULES = (Path(__file__).resolve().parent.parent / "rules" / "default.toml").read_text()

RULES = [
    # `offest` for `offset`: unknown and missing at once; the typo is named, with the fix.
    ('id = "R-plan-7d"\ndeadline = "plan"\noffset', 'id = "R-plan-7d"\ndeadline = "plan"\noffest',
     "rule 'R-plan-7d': offest: is not a known field (did you mean 'offset'?)"),
    ('id = "R-plan-7d"\n', 'id = "R-plan-7d"\nlevle = 1\n',
     "rule 'R-plan-7d': levle: is not a known field (did you mean 'level'?)"),
    ("level = 3\naction", "level = 7\naction",
     "rule 'E-plan-30d': level: 7 is too large; give 3 or less"),
    ('action = "escalate"', 'action = "terminate"',
     "rule 'E-plan-30d': action: 'terminate' is not one of 'escalate'"),
    ('to = ["decision_makers"]\ntemplate = "sanction_review_opened"\nlevel = 3',
     'to = []\ntemplate = "sanction_review_opened"\nlevel = 3',
     "rule 'E-plan-30d': to: needs at least 1 item"),
    ('send_at = "09:00"', 'send_at = "9 o\'clock"',
     "calendar: send_at: \"9 o'clock\" is not a time of day; write it like 09:00"),
    ("roll_forward = true", 'roll_forward = "yes please"',
     "calendar: roll_forward: 'yes please' is not true or false"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "expected"), RULES)
def test_rules_say_what_is_wrong_naming_file_rule_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert DEFAULT_RULES.count(old) >= 1, old
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_RULES.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RulesError) as refused:
        load_rules(path, templates=KINDS)
    assert str(refused.value) == f"{path}: {expected}"
    assert not PYDANTIC.search(str(refused.value))


class _Unusual(BaseModel):
    key: UUID


def test_an_error_type_without_our_wording_still_drops_pydantic_phrasing() -> None:
    with pytest.raises(ValidationError) as refused:
        _Unusual.model_validate({"key": "not-a-uuid"})
    line = describe(refused.value)
    assert line.startswith("key: must be a valid UUID"), line
    assert not PYDANTIC.search(line)


@pytest.mark.parametrize("given", [0, 1767225600, 20.5, "0", " 1767225600 ", "-3"])
def test_a_number_is_no_date(given: Any) -> None:
    # pydantic alone reads a number, or one written as text, as seconds since 1970.
    finding = {"contract": "RS-1", "severity": "major", "area": "wages", "source": "other",
               "title": "t", "found_on": given}  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        parse(FindingInput, finding)
    assert str(refused.value) == f"found_on: {given!r} is not a date; write it as YYYY-MM-DD"
    contract = {"reference": "RS-1", "supplier": "556000-1234", "category": "PCs",
                "manager": "anna@region.example", "start": given}  # fmt: skip
    with pytest.raises(InvalidInput, match=r"^start: .* is not a date"):
        parse(ContractInput, contract)
    plan = {"root_cause": "r", "actions": [{"description": "d", "owner": "o", "due": given}]}
    with pytest.raises(InvalidInput, match=r"^actions\.0\.due: .* is not a date"):
        parse(PlanInput, plan)
    written = parse(FindingInput, {**finding, "found_on": "2026-01-20"})
    assert str(written.found_on) == "2026-01-20"
