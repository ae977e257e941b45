"""Bulk intake: an audit report's findings in one request, as CSV (the columns of
``cap finding import``) or as a JSON array of findings; all of them are logged, or none, and
every bad row is reported with its position."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from cap.api.common import Flow, IdempotencyKey, MayLog, Now, actor, once
from cap.api.problems import Problem, described, field_of
from cap.domain.inputs import FindingInput, describe
from cap.errors import InvalidInput
from cap.importer import MAX_REPORTED, decoded, parse_findings

router = APIRouter(tags=["findings"])

CSV, JSON = "text/csv", "application/json"
#: A row a message names: "line 3: ..." (CSV), "item 2: ..." (JSON), "CSV:1: ..." (its header).
_ROW = re.compile(r"^(?:line |item |CSV:)(\d+): (.*)$")


class SkippedEntry(BaseModel):
    """A row left out: its external_id is already the finding ``ref`` of its contract."""

    row: int
    external_id: str
    ref: str


class Imported(BaseModel):
    """What an import logged (``refs``, in row order) and left out as already logged."""

    imported: int
    refs: list[str]
    skipped: list[SkippedEntry]


@dataclass(frozen=True)
class Sent:
    media_type: str
    body: bytes


async def sent(request: Request) -> Sent:
    """The body as sent, with its media type (the parameters, such as charset, left out)."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return Sent(media, await request.body())


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            CSV: {"schema": {"type": "string", "description": "CSV with a header row"}},
            JSON: {"schema": {"type": "array", "minItems": 1,
                              "items": {"$ref": "#/components/schemas/FindingInput"}}},
        },
    }
}  # fmt: skip


@router.post("/findings:import", response_model=Imported, openapi_extra=_BODY,
             responses=described(401, 403, 404, 413, 415, 422))  # fmt: skip
def import_findings(
    token: MayLog,
    workflow: Flow,
    now: Now,
    payload: Annotated[Sent, Depends(sent)],
    allow_duplicates: Annotated[
        bool, Query(description="Log rows without external_id that look like a logged finding")
    ] = False,
    as_: Annotated[str | None, Query(alias="as", max_length=254, description="Who imports")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Log many findings at once, all or none, as `cap finding import`: CSV (``text/csv``,
    UTF-8, comma or semicolon separated, header first) or a JSON array of findings. A row
    whose external_id is already a finding of its contract is skipped, so a report sent again
    adds only what is new; each bad row is in ``errors`` with its ``row`` (the CSV's line, the
    item's position in the array)."""
    max_rows = workflow.settings.import_max_rows
    try:
        if payload.media_type == CSV:
            rows, rows_at = _from_csv(payload.body, workflow.settings.calendar.local_date(now),
                                      {c.reference for c in workflow.list_contracts()},
                                      max_rows)  # fmt: skip
        elif payload.media_type == JSON:
            rows, rows_at = _from_json(payload.body, max_rows)
        else:
            shown = payload.media_type[:60] or "none"
            raise Problem(415, f"Content-Type: {shown!r} is not one this takes; send {CSV} "
                               f"or {JSON}")  # fmt: skip
        operation = f"POST /findings:import {payload.media_type} {allow_duplicates} {as_}"
        result = workflow.log_findings(
            rows,
            actor=actor(token, as_),
            now=now,
            where=lambda i: f"{'line' if payload.media_type == CSV else 'item'} {rows_at[i]}",
            allow_duplicates=allow_duplicates,
            once=once(token, idempotency_key, operation, payload.body),
        )
    except InvalidInput as error:
        raise _refused(error.plain) from None
    skipped = [{"row": rows_at[s.index], "external_id": s.external_id, "ref": s.ref}
               for s in result.skipped]  # fmt: skip
    return JSONResponse({"imported": len(result.refs), "refs": list(result.refs),
                         "skipped": skipped})  # fmt: skip


def _from_csv(
    body: bytes, today: date, contracts: set[str], max_rows: int
) -> tuple[list[FindingInput], list[int]]:
    parsed = parse_findings(decoded(body, "CSV"), name="CSV", max_rows=max_rows,
                            contracts=contracts, today=today,
                            at=lambda line: f"line {line}")  # fmt: skip
    return [r.finding for r in parsed], [r.line for r in parsed]


def _from_json(body: bytes, max_rows: int) -> tuple[list[FindingInput], list[int]]:
    try:
        items = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise InvalidInput(f"body: is not JSON{where}; send an array of findings") from None
    if not isinstance(items, list):
        raise InvalidInput("body: send a JSON array of findings (or CSV as text/csv)")
    if not items:
        raise InvalidInput("body: the array is empty; nothing to import")
    if len(items) > max_rows:
        raise InvalidInput(f"body: more than {max_rows:,} findings; split the import "
                           "(CAP_IMPORT_MAX_ROWS)")  # fmt: skip
    rows: list[FindingInput] = []
    problems: list[str] = []
    for position, item in enumerate(items, start=1):
        try:
            rows.append(FindingInput.model_validate(item))
        except ValidationError as exc:
            problems.append(describe(exc, f"item {position}", model=FindingInput))
    if problems:
        shown = problems[:MAX_REPORTED]
        more = (
            [f"... and {len(problems) - len(shown)} more bad rows"]
            if problems[len(shown) :]
            else []
        )
        raise InvalidInput(f"JSON: {len(problems)} bad row(s), nothing was imported:\n"
                           + "\n".join(shown + more))  # fmt: skip
    return rows, list(range(1, len(rows) + 1))


def _refused(message: str) -> Problem:
    """A refused import as one problem: the first line in ``detail``, each bad row in
    ``errors`` with its position."""
    lines = message.replace("--allow-duplicates", "allow_duplicates=true").splitlines()
    errors: list[dict[str, Any]] = []
    for line in lines:
        if (found := _ROW.match(line)) is None:
            continue
        named = field_of(found[2]) or [{"field": "row", "message": found[2]}]
        errors.extend({**e, "row": int(found[1])} for e in named)
    if not errors:
        errors = field_of(lines[0])
    detail = lines[0] if len(lines) == 1 else f"{lines[0].rstrip(':')}; the first: {lines[1]}"
    return Problem(422, detail, errors=errors)
