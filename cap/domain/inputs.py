"""Validated input: what people type, checked once, with errors that name the field.

Text from outside is hostile until checked: single-line fields refuse control characters (a
CR/LF in a title must never reach an email header) and every text field the invisible marks
that reorder how text is shown (a "Trojan Source" title reads differently than it is); every
field has a length limit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from cap.domain.model import Area, Language, Severity, Source
from cap.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Bidirectional embeddings, overrides, isolates and marks (Unicode's "Bidi_Control").
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _line(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("must be one line without control characters")
    _refuse_bidi(value)
    if not value:
        raise ValueError("must not be empty")
    return value


def _text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL_MULTILINE.search(value):
        raise ValueError("must not contain control characters")
    _refuse_bidi(value)
    return value


def _refuse_bidi(value: str) -> None:
    found = _BIDI.search(value)
    if found:
        raise ValueError(
            f"contains the invisible direction control U+{ord(found.group()):04X}, which makes "
            "text display in another order than it is written; remove it"
        )


def email_address(value: str) -> str:
    """``value`` stripped, if it is an address cap can send to; ValueError saying why not."""
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    if not value.isascii():
        # Servers take such an address only with SMTPUTF8, and few do: a reminder to it could
        # never be delivered.
        raise ValueError(
            f"{value!r} has letters outside ASCII, which mail servers rarely accept; "
            "give the ASCII address"
        )
    return value


def _country(value: str) -> str:
    value = value.strip().upper()
    if not _COUNTRY.match(value):
        raise ValueError(f"{value!r} is not a two-letter country code (ISO 3166, e.g. SE, CN)")
    return value


def _reference(value: str) -> str:
    value = _line(value)
    if not _REFERENCE.match(value):
        raise ValueError(
            f"{value!r} may only contain letters, digits and . _ / - (and start with one of "
            "the first two)"
        )
    return value


Line = Annotated[str, AfterValidator(_line)]
Text = Annotated[str, AfterValidator(_text)]
Email = Annotated[str, AfterValidator(email_address)]
Country = Annotated[str, AfterValidator(_country)]
Reference = Annotated[str, AfterValidator(_reference)]


_NUMBER = re.compile(r"\s*[-+]?[0-9]+(\.[0-9]*)?\s*")


def _not_a_number(value: object) -> object:
    """A date is written, not counted: pydantic would read a number (from JSON, or as text
    from a query or the command line) as seconds since 1970, a date nobody meant."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError("date_type", "not a date")
    return value


#: A calendar date given as YYYY-MM-DD (or a date).
Day = Annotated[date, BeforeValidator(_not_a_number)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=20_000)


class SupplierInput(_Input):
    name: Annotated[Line, Field(max_length=200)]
    org_number: Annotated[Reference, Field(max_length=40)]
    country: Country
    email: Email
    contact_name: Annotated[Line, Field(max_length=200)] | None = None
    language: Language = Language.SV


class ContractInput(_Input):
    reference: Annotated[Reference, Field(max_length=80)]
    supplier: Annotated[Reference, Field(max_length=40)]  # organisation number
    category: Annotated[Line, Field(max_length=120)]
    manager: Email
    start: Day | None = None
    end: Day | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        return _not_before_start(end, info)


def _not_before_start(end: date | None, info: ValidationInfo) -> date | None:
    start = info.data.get("start")
    if start and end and end < start:
        raise ValueError(f"{end} is before the start {start}")
    return end


class ContactInput(_Input):
    """One of a supplier's contacts: who receives its notices, in which language."""

    email: Email
    name: Annotated[Line, Field(max_length=200)] | None = None
    language: Language = Language.SV


class SupplierUpdate(_Input):
    """What may change about a supplier (its organisation number is its key and stays)."""

    name: Annotated[Line, Field(max_length=200)]
    country: Country
    contacts: Annotated[list[ContactInput], Field(max_length=20)]

    @field_validator("contacts")
    @classmethod
    def _someone_to_notify(cls, contacts: list[ContactInput]) -> list[ContactInput]:
        if not contacts:
            raise ValueError("give at least one contact; the supplier's notices go to them")
        seen: set[str] = set()
        for contact in contacts:
            if contact.email.lower() in seen:
                raise ValueError(f"{contact.email} is given twice")
            seen.add(contact.email.lower())
        return contacts


class ContractUpdate(_Input):
    """What may change about a contract (its reference and its supplier stay)."""

    category: Annotated[Line, Field(max_length=120)]
    manager: Email
    start: Day | None = None
    end: Day | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        return _not_before_start(end, info)


class FindingInput(_Input):
    contract: Annotated[Reference, Field(max_length=80)]
    severity: Severity
    area: Area
    source: Source
    title: Annotated[Line, Field(max_length=200)]
    description: Annotated[Text, Field(max_length=20_000)] = ""
    site: Annotated[Line, Field(max_length=200)] | None = None
    site_country: Country | None = None
    found_on: Day | None = None
    # The audit report's own reference (e.g. EW-2026-017#3): how a re-import knows the finding.
    external_id: Annotated[Line, Field(max_length=80)] | None = None

    @field_validator("site", "site_country", "found_on", "external_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class PlanAction(_Input):
    description: Annotated[Text, Field(max_length=5_000, min_length=1)]
    owner: Annotated[Line, Field(max_length=200)]
    due: Day


class PlanInput(_Input):
    root_cause: Annotated[Text, Field(max_length=20_000, min_length=1)]
    actions: Annotated[list[PlanAction], Field(min_length=1, max_length=200)]


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: dict[str, Any], where: str = "") -> M:
    """Validate ``data`` as ``model``; the first problem becomes one :class:`InvalidInput`
    naming the field (``where`` prefixes it: a file name, a CSV line)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe(exc, where, model=model)) from None


def dotted(loc: Sequence[int | str]) -> str:
    """A field's name as people write it: ``actions.0.due``."""
    return ".".join(str(p) for p in loc)


def describe(
    exc: ValidationError,
    where: str = "",
    *,
    model: type[BaseModel] | None = None,
    name: Callable[[Sequence[int | str]], str] = dotted,
) -> str:
    """One line for ``exc``: ``where: field: what is wrong``, in plain words (see
    :func:`plain`), then how many more problems there are.

    ``name`` spells a field's location (``dotted``; settings spell it as their variable). An
    unknown field is told first: a misspelt key also leaves the field it meant missing, and the
    typo is the cause. Its close match among ``model``'s fields (or the missing ones) is
    suggested.
    """
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    message = plain(first)
    rest = len(errors) - 1
    if first["type"] == "extra_forbidden":
        parent, key = tuple(first["loc"][:-1]), str(first["loc"][-1])
        missing = {str(e["loc"][-1]) for e in errors if e["type"] == "missing" and e["loc"]
                   and tuple(e["loc"][:-1]) == parent}  # fmt: skip
        known = set(model.model_fields) if model is not None and not parent else set()
        match = difflib.get_close_matches(key, sorted(missing | known), n=1)
        if match:
            message += f" (did you mean {match[0]!r}?)"
            if match[0] in missing:
                rest -= 1  # the same problem, told once
    prefix = f"{where}: " if where else ""
    suffix = f" (and {rest} more problem{'s' if rest > 1 else ''})" if rest else ""
    return f"{prefix}{name(first['loc']) or 'input'}: {message}{suffix}"


_DATE = "{got} is not a date; write it as YYYY-MM-DD"
_DATETIME = "{got} is not a date and time; write it like 2026-03-02T10:00:00+01:00"
_TIME = "{got} is not a time of day; write it like 09:00"
_FIELDS = "{got} is not a set of named fields"
_CHOICE = "{got} is not one of {expected}"
# By pydantic error type: "{got}" is the value given, the other names come from its context.
_PLAIN = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "greater_than_equal": "{got} is too small; give {ge} or more",
    "greater_than": "{got} is too small; give more than {gt}",
    "less_than_equal": "{got} is too large; give {le} or less",
    "less_than": "{got} is too large; give less than {lt}",
    "multiple_of": "{got} is not a multiple of {multiple_of}",
    "too_long": "has too many items; at most {max_length}",
    "string_too_long": "is too long; at most {max_length} characters",
    "string_type": "{got} is not text",
    "string_pattern_mismatch": "{got} does not match {pattern}",
    "list_type": "{got} is not a list",
    "dict_type": _FIELDS,
    "model_type": _FIELDS,
    "model_attributes_type": _FIELDS,
    "enum": _CHOICE,
    "literal_error": _CHOICE,
    "bool_type": "{got} is not true or false",
    "bool_parsing": "{got} is not true or false",
    "int_type": "{got} is not a whole number",
    "int_parsing": "{got} is not a whole number",
    "int_from_float": "{got} is not a whole number",
    "float_type": "{got} is not a number",
    "float_parsing": "{got} is not a number",
    "decimal_type": "{got} is not a number",
    "decimal_parsing": "{got} is not a number",
    "decimal_max_digits": "{got} has too many digits; at most {max_digits}",
    "decimal_max_places": "{got} has too many decimals; at most {decimal_places}",
    "decimal_whole_digits": "{got} has too many digits before the point; at most {whole_digits}",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "time_type": _TIME,
    "time_parsing": _TIME,
}
# Whatever else pydantic says in its own voice ("Input should be a valid UUID"): said as ours.
_SHOULD = re.compile(r"^[A-Z][A-Za-z ]*? should ")


def plain(error: ErrorDetails) -> str:
    """What is wrong with one field, in plain words: no pydantic phrasing ("Input should be
    ...") reaches a user. Our own validators' messages are used as they are."""
    kind, ctx = error["type"], dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or error["msg"].partition(", ")[2] or error["msg"])
    got = _shown(error.get("input"))
    # A length limit on a validated string reports as one on a "Value" of items.
    if kind in ("too_short", "too_long") and isinstance(error.get("input"), str):
        kind = f"string_{kind}"
    if kind in ("too_short", "string_too_short"):
        count, unit = ctx["min_length"], "item" if kind == "too_short" else "character"
        if count == 1:
            return "needs at least 1 item" if unit == "item" else "must not be empty"
        return f"needs at least {count} {unit}s"
    wording = _PLAIN.get(kind)
    if wording is not None:
        # A limit of a float setting reads as people write it: "more than 0", not "0.0".
        limits = {
            k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in ctx.items()
        }
        return wording.format(got=got, **limits)
    message = error["msg"].replace(" after validation", "")
    if _SHOULD.match(message):
        return _SHOULD.sub("must ", message)
    return f"{got} is not valid: {message[:1].lower()}{message[1:]}"


def _shown(value: Any) -> str:
    """A value as the user typed it, cut short: a refused 20,000-character field is not
    repeated in full."""
    # None is JSON's null: the API's clients send it, the command line never does.
    text = repr(value) if isinstance(value, str) else "null" if value is None else str(value)
    return text if len(text) <= 60 else text[:59] + "…"
