"""Findings: the list (the desk's filters, a cursor), one finding (its ETag its version),
logging one, and every lifecycle action by the command line's name."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cap.api.common import (
    Caller,
    Flow,
    IdempotencyKey,
    Instant,
    MayLog,
    Now,
    Ref,
    actor,
    etag,
    if_match,
    once,
)
from cap.api.problems import Problem, described, field_of
from cap.domain.inputs import Day, FindingInput, Line, PlanInput, Text
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, Area, DeadlineKind, Severity, State
from cap.domain.permissions import may_act, roles_for
from cap.errors import ActionRefused, Conflict
from cap.workflow import ActionResult, FindingFilter, FindingSummary, FindingView, to_json
from cap.workflow.listing import Q_MAX_LENGTH

#: Findings a page of the list holds at most, and by default.
MAX_LIMIT, DEFAULT_LIMIT = 200, 50

router = APIRouter(tags=["findings"])


class FindingPage(BaseModel):
    """A page of findings, oldest first; ``next`` is the cursor of the page after it."""

    items: list[FindingSummary]
    next: str | None


class Created(BaseModel):
    ref: str


class ActionBody(BaseModel):
    """An action's options, as the command line's: ``at`` when it happened (default: now),
    ``as`` who did it (default: the token's name)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: Instant | None = None
    as_: Annotated[Line | None, Field(alias="as", max_length=254)] = None
    reason: Annotated[Text | None, Field(max_length=20_000)] = None
    note: Annotated[Text | None, Field(max_length=20_000)] = None
    until: Day | None = None
    deadline: DeadlineKind | None = None
    plan: PlanInput | None = None


@router.get("/findings", response_model=FindingPage, responses=described(401, 404, 422))
def list_findings(
    token: Caller,
    workflow: Flow,
    now: Now,
    state: Annotated[list[State] | None, Query(description="Any of these states")] = None,
    supplier: Annotated[str | None, Query(max_length=40, description="org number")] = None,
    contract: Annotated[str | None, Query(max_length=80, description="reference")] = None,
    area: Area | None = None,
    severity: Severity | None = None,
    overdue: bool = False,
    due_before: Annotated[
        Day | None, Query(description="The deadline in force is on or before this date")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=Q_MAX_LENGTH, description="In the ref, title or site"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            pattern=r"^NC-[0-9]{4}-[0-9]{4,8}$",
            description="`next` of the page before: the ref it ended with",
        ),
    ] = None,
) -> JSONResponse:
    """The findings, oldest first, a page at a time (``next`` for the page after), narrowed
    by the desk's filters."""
    flt = FindingFilter(states=tuple(state or ()), supplier=supplier, contract=contract,
                        area=area, severity=severity, overdue=overdue, due_before=due_before,
                        q=q, limit=limit + 1, after=cursor)  # fmt: skip
    found = workflow.list_findings(flt, now=now)
    page, more = found[:limit], len(found) > limit
    return JSONResponse({"items": to_json(page), "next": page[-1].ref if more else None})


@router.get("/findings/{ref}", response_model=FindingView, responses=described(401, 404, 422))
def show_finding(token: Caller, workflow: Flow, now: Now, ref: Ref) -> JSONResponse:
    """Everything about a finding; its ETag is its version."""
    view = workflow.show_finding(ref, now=now)
    return JSONResponse(to_json(view), headers={"ETag": etag(view.version)})


@router.post("/findings", response_model=Created, status_code=201,
             responses=described(400, 401, 403, 404, 409, 413, 422))  # fmt: skip
def log_finding(
    token: MayLog,
    workflow: Flow,
    now: Now,
    body: FindingInput,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Log a finding (state open), as `cap finding add`. Sent again with the same
    ``Idempotency-Key``, it logs nothing more and answers with the same finding."""
    sent = once(token, idempotency_key, "POST /findings", body.model_dump_json())
    ref = workflow.log_finding(body, actor=actor(token), now=now, once=sent)
    return JSONResponse({"ref": ref}, status_code=201, headers={"Location": f"findings/{ref}"})


@router.post("/findings/{ref}/actions/{action}", response_model=ActionResult,
             responses=described(400, 401, 403, 404, 409, 412, 413, 422))  # fmt: skip
def act_on_finding(
    token: Caller,
    workflow: Flow,
    now: Now,
    ref: Ref,
    action: Annotated[str, Path(max_length=40, description="e.g. accept-plan")],
    body: ActionBody,
    if_match_: Annotated[str | None, Header(alias="if-match")] = None,
) -> JSONResponse:
    """One lifecycle action (the command line's name, e.g. ``accept-plan``) with the command
    line's options; 409 with the actions possible when the state refuses it."""
    chosen = _action(action)
    current = workflow.show_finding(ref, now=now)
    expected = if_match(if_match_)
    if expected is not None and expected != current.version:
        raise Problem(412, f"{current.ref} changed since version {expected} (now version "
                           f"{current.version}); read it again",
                      headers={"ETag": etag(current.version)})  # fmt: skip
    if not may_act(token.role, chosen, current.state):
        roles = ", ".join(sorted(r.value for r in roles_for(chosen, current.state)))
        raise Problem(403, f"role: a {token.role.value} token may not {chosen.label} "
                           f"({roles or 'nobody'} may)")  # fmt: skip
    request = ActionRequest(
        chosen, actor(token, body.as_), body.at or now, reason=body.reason, note=body.note,
        until=body.until, deadline=body.deadline,
    )  # fmt: skip
    try:
        result = workflow.act(current.ref, request, now=now, plan=body.plan,
                              expected_version=expected if expected else current.version,
                              view=False)  # fmt: skip
    except Conflict as error:
        raise Problem(412, error.plain) from None
    except ActionRefused as error:
        # What may be done instead, as a list a program can read beside the sentence.
        raise Problem(409, error.plain, errors=field_of(error.plain),
                      allowed=list(current.allowed_actions)) from None  # fmt: skip
    return JSONResponse(to_json(replace(result, finding=None)),
                        headers={"ETag": etag(result.version)})  # fmt: skip


def _action(label: str) -> Action:
    try:
        return Action(label.replace("-", "_"))
    except ValueError:
        names = ", ".join(a.label for a in Action)
        raise Problem(
            404,
            f"action: {label[:40]!r} is not an action; the actions are {names}",
            errors=[{"field": "action", "message": "is not an action"}],
        ) from None
