"""What the desk's and the supplier's forms share: reading a form and its files within
their limits, dates as typed, the status of a refusal, and files sent back as downloads."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from cap.domain.inputs import PlanInput, plain
from cap.domain.model import Language
from cap.errors import ActionRefused, AlreadyExists, CapError, Conflict, InvalidInput
from cap.web.security import FILES_PER_FORM
from cap.web.site import PRIVATE
from cap.workflow import EvidenceFile, EvidenceView

#: Stored types a browser may be told as they are (it still saves them: attachment);
#: anything else goes as application/octet-stream.
SAFE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})
#: An evidence file's id as a path names it: at most 9 digits, below the largest id of an
#: integer column (PostgreSQL refuses a larger number outright, a server error).
EVIDENCE_ID = re.compile(r"[0-9]{1,9}")
#: Fields beside files a form may carry: far more than any of these forms has.
MAX_FIELDS = 50
#: Files one request may carry before the form parser refuses it outright; more than
#: FILES_PER_FORM are refused next to the field (the body limit bounds their size).
MAX_FILES = 4 * FILES_PER_FORM


@dataclass(frozen=True)
class Submitted:
    """A form as sent: its text fields, and its files read (at most the limit plus a byte)."""

    values: dict[str, str]
    files: list[EvidenceFile]
    problem: str | None = None  # a file refused before the use case sees it


async def read_form(request: Request, *, limit: int | None = None) -> Submitted:
    """The form of ``request``; with ``limit``, its files too (each at most that size)."""
    form: FormData = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    try:
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if limit is None:
            return Submitted(values, [])
        uploads = [v for v in form.getlist("file") if isinstance(v, UploadFile) and v.filename]
        if len(uploads) > FILES_PER_FORM:
            return Submitted(values, [], f"file: send at most {FILES_PER_FORM} files at a time "
                                         f"({len(uploads)} were sent)")  # fmt: skip
        files = []
        for upload in uploads:
            name = upload.filename or ""
            # One byte over the limit tells a file too large without holding all of it.
            content = await upload.read(limit + 1)
            if len(content) > limit:
                size = max(upload.size or 0, len(content))
                return Submitted(values, [], f"file: {name} is {size:,} bytes; the limit is "
                                             f"{limit:,} (CAP_EVIDENCE_MAX_BYTES)")  # fmt: skip
            kind = mimetypes.guess_type(EvidenceFile(name, b"").stored_name)[0]
            files.append(EvidenceFile(name, content, kind or "application/octet-stream"))
        return Submitted(values, files)
    finally:
        await form.close()


def status_of(error: CapError) -> int:
    return 409 if isinstance(error, ActionRefused | Conflict | AlreadyExists) else 400


def attachment(file_name: str) -> str:
    """A Content-Disposition that saves the file under its name (RFC 6266, with the name in
    UTF-8 as RFC 5987 says and a plain ASCII one for old browsers); nothing in the name can
    end the header or add a parameter."""
    ascii_name = (
        "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in file_name).strip()
        or "evidence"
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def size_text(n: int, language: Language, _: Callable[[str], str]) -> str:
    locale = "sv_SE" if language is Language.SV else "en_GB"
    if n >= 1024 * 1024:
        return f"{format_decimal(round(n / (1024 * 1024), 1), locale=locale)} MB"
    if n >= 1024:
        return f"{format_decimal(round(n / 1024, 1), locale=locale)} kB"
    return _("%(n)s bytes") % {"n": format_decimal(n, locale=locale)}


def parse_date(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def download(meta: EvidenceView, content: bytes, headers: dict[str, str] | None = None) -> Response:
    """An evidence file as a download, never shown as a page: a type a browser may be told
    as it is, else application/octet-stream."""
    kind = meta.content_type if meta.content_type in SAFE_TYPES else None
    return Response(
        content,
        media_type=kind or "application/octet-stream",
        headers={**PRIVATE, **(headers or {}), "content-disposition": attachment(meta.file_name)},
    )


def plan_from(
    root_cause: str, actions: list[tuple[str, dict[str, str]]], *, none: str
) -> PlanInput:
    """The plan of a form: ``actions`` each with how the page names it (``line 3``,
    ``action 2``); an error names the field, and the action as the page does; ``none`` is
    what to say when no action was given."""
    try:
        return PlanInput.model_validate(
            {"root_cause": root_cause, "actions": [action for _, action in actions]}
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = first["loc"]
        if loc and loc[0] == "actions" and len(loc) > 2 and isinstance(loc[1], int):
            named = actions[loc[1]][0]
            raise InvalidInput(f"actions: {named}: {loc[2]}: {plain(first)}") from None
        if loc and loc[0] == "actions":
            raise InvalidInput(f"actions: {none}") from None
        raise InvalidInput(f"{loc[0] if loc else 'root_cause'}: {plain(first)}") from None
