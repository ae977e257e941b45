"""Validated input: what people type, checked once, with errors that name the field.

Text from outside is hostile until checked: single-line fields refuse control characters (a
CR/LF in a title must never reach an email header), every field has a length limit.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from cap.domain.model import Area, Language, Severity, Source
from cap.errors import InvalidInput

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _line(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value):
        raise ValueError("must be one line without control characters")
    if not value:
        raise ValueError("must not be empty")
    return value


def _text(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if _CONTROL_MULTILINE.search(value):
        raise ValueError("must not contain control characters")
    return value


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
    start: date | None = None
    end: date | None = None
    value: Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)] | None = None

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if start and end and end < start:
            raise ValueError(f"{end} is before the start {start}")
        return end


class FindingInput(_Input):
    contract: Annotated[Reference, Field(max_length=80)]
    severity: Severity
    area: Area
    source: Source
    title: Annotated[Line, Field(max_length=200)]
    description: Annotated[Text, Field(max_length=20_000)] = ""
    site: Annotated[Line, Field(max_length=200)] | None = None
    site_country: Country | None = None
    found_on: date | None = None

    @field_validator("site", "site_country", "found_on", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class PlanAction(_Input):
    description: Annotated[Text, Field(max_length=5_000, min_length=1)]
    owner: Annotated[Line, Field(max_length=200)]
    due: date


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
        raise InvalidInput(describe(exc, where)) from None


def describe(exc: ValidationError, where: str = "") -> str:
    """One line for the first error of ``exc``: ``where field: what is wrong``."""
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(p) for p in error["loc"]) or "input"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("too_long", "string_too_long"):
        limit = error.get("ctx", {}).get("max_length")
        message = f"is too long; at most {limit} characters"
    elif error["type"] == "enum":
        message = f"{error['input']!r} is not one of {error['ctx']['expected']}"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    prefix = f"{where}: " if where else ""
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"{prefix}{field}: {message}{suffix}"
