"""Reporting obligations: the list (the desk's filters), one report (its ETag its version),
obliging a contract's supplier to send one, and receiving, extending or waiving it by the
command line's names (`cap obligation list|show|add|receive|extend|waive`).

Every role reads them; those who record reports (contract and sustainability managers) add
and act on them, refused (403) before the body is read.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cap.api.common import Caller, Flow, Instant, MayRecordReports, Now, actor, etag, if_match
from cap.api.problems import Problem, described, field_of
from cap.domain.inputs import Day, Line, Reference, Text
from cap.domain.model import ObligationKind, ObligationState
from cap.domain.obligations import DutyAction, DutyRequest
from cap.errors import ActionRefused, Conflict, NotFound
from cap.workflow import to_json
from cap.workflow.obligations import ObligationFilter
from cap.workflow.results import ObligationDetail, ObligationView

router = APIRouter(tags=["obligations"])

#: The largest number a report can have (an integer column on PostgreSQL).
MAX_ID = 2**31 - 1
#: What a report's number is written as in a path: digits, no more than the largest has.
_NUMBER = re.compile(r"[0-9]{1,10}")
#: What people do to a report (escalating is the rules' step, not an action of the API).
ACTIONS: tuple[DutyAction, ...] = (DutyAction.RECEIVE, DutyAction.EXTEND, DutyAction.WAIVE)


def _a_number(schema: dict[str, Any]) -> None:
    """The schema of a report's number in the document, whatever type the path reads it as."""
    schema.clear()
    schema.update({"type": "integer", "minimum": 1, "maximum": MAX_ID,
                   "description": "A report's number (`id` in GET /obligations)"})  # fmt: skip


# The document says what a number is; a path that is none names no report: 404, as an unknown
# number is and as the desk's page answers, rather than a 422 about its type.
ObligationId = Annotated[str, Path(json_schema_extra=_a_number)]


class ObligationList(BaseModel):
    """Every reporting obligation the filters pick, the earliest due first. The list is
    whole: ``next`` is null, there so that a client reads it as it reads a page of findings."""

    items: list[ObligationView]
    next: str | None


class ObligationInput(BaseModel):
    """A report a contract's supplier is to send, as `cap obligation add`: ``due`` by default
    the rules' report period after the contract's start; ``title`` says what it is (required
    for ``other``)."""

    model_config = ConfigDict(extra="forbid")

    contract: Annotated[Reference, Field(max_length=80)]
    kind: ObligationKind = ObligationKind.SOCIAL_RISK_REPORT
    due: Day | None = None
    title: Annotated[Line | None, Field(max_length=20_000)] = None


class DutyBody(BaseModel):
    """An action's options, as the command line's: ``on`` the day the report came in and its
    ``reference`` (receive), ``until`` the new due date (extend), ``reason`` (extend, waive);
    ``at`` when it happened (default: now), ``as`` who did it (default: the token's name)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: Instant | None = None
    as_: Annotated[Line | None, Field(alias="as", max_length=254)] = None
    on: Day | None = None
    reference: Annotated[Line | None, Field(max_length=200)] = None
    until: Day | None = None
    reason: Annotated[Text | None, Field(max_length=20_000)] = None


@router.get("/obligations", response_model=ObligationList, responses=described(401, 404, 422))
def list_obligations(
    token: Caller,
    workflow: Flow,
    now: Now,
    overdue: Annotated[bool, Query(description="Only those still owed after the due day")] = False,
    state: Annotated[list[ObligationState] | None, Query(description="Any of these states")] = None,
    contract: Annotated[Reference | None, Query(max_length=80, description="reference")] = None,
    supplier: Annotated[Reference | None, Query(max_length=40, description="org number")] = None,
) -> JSONResponse:
    """The reporting obligations, the earliest due first, narrowed by the desk's filters, as
    `cap obligation list --json`; 404 for a contract or supplier that does not exist."""
    where = ObligationFilter(overdue=overdue, states=tuple(state or ()), contract=contract,
                             supplier=supplier)  # fmt: skip
    found = workflow.list_obligations(now=now, where=where)
    # Nothing found may be a name nobody has (the findings' list says so too): it is looked
    # up only then.
    if not found and contract is not None:
        workflow.show_contract(contract)
    if not found and supplier is not None:
        workflow.show_supplier(supplier)
    return JSONResponse({"items": to_json(found), "next": None})


@router.get("/obligations/{id}", response_model=ObligationDetail,
            responses=described(401, 404))  # fmt: skip
def show_obligation(token: Caller, workflow: Flow, now: Now, id: ObligationId) -> JSONResponse:
    """A report: where it stands, the actions allowed now, its trail and the steps its ladder
    still holds, as `cap obligation show --json`; its ETag is its version."""
    detail = workflow.show_obligation(_number(id), now=now)
    return JSONResponse(to_json(detail), headers={"ETag": etag(detail.obligation.version)})


@router.post("/obligations", response_model=ObligationView, status_code=201,
             responses=described(400, 401, 403, 404, 409, 413, 422))  # fmt: skip
def add_obligation(
    token: MayRecordReports, workflow: Flow, now: Now, body: ObligationInput
) -> JSONResponse:
    """Oblige a contract's supplier to send a report by a date, as `cap obligation add`; 404
    for an unknown contract, 409 when it already owes that report by that date."""
    view = workflow.add_obligation(body.contract, kind=body.kind, due=body.due,
                                   title=body.title, actor=actor(token), now=now)  # fmt: skip
    return JSONResponse(to_json(view), status_code=201,
                        headers={"Location": f"obligations/{view.id}",
                                 "ETag": etag(view.version)})  # fmt: skip


@router.post("/obligations/{id}/actions/{action}", response_model=ObligationView,
             responses=described(400, 401, 403, 404, 409, 412, 413, 422))  # fmt: skip
def act_on_obligation(
    token: MayRecordReports,
    workflow: Flow,
    now: Now,
    id: ObligationId,
    action: Annotated[str, Path(max_length=40, description="receive, extend or waive")],
    body: DutyBody,
    if_match_: Annotated[str | None, Header(alias="if-match")] = None,
) -> JSONResponse:
    """Receive, extend or waive a report (the command line's name) with the command line's
    options; 409 with the actions possible when its state refuses it."""
    chosen = _action(action)
    current = workflow.show_obligation(_number(id), now=now)
    version = current.obligation.version
    expected = if_match(if_match_)
    if expected is not None and expected != version:
        raise Problem(412, f"report {current.obligation.id} changed since version {expected} "
                           f"(now version {version}); read it again",
                      headers={"ETag": etag(version)})  # fmt: skip
    request = DutyRequest(
        chosen, actor(token, body.as_), body.at or now, received_on=body.on,
        reference=body.reference, reason=body.reason, until=body.until,
    )  # fmt: skip
    try:
        # What was read is what is acted on: a change in between is a 412, not applied over.
        view = workflow.act_on_obligation(current.obligation.id, request, now=now,
                                          expected_version=version)  # fmt: skip
    except Conflict as error:
        raise Problem(412, error.plain) from None
    except ActionRefused as error:
        raise Problem(409, error.plain, errors=field_of(error.plain),
                      allowed=[a.value for a in current.allowed]) from None  # fmt: skip
    return JSONResponse(to_json(view), headers={"ETag": etag(view.version)})


def _number(text: str) -> int:
    """The report's number a path gives; NotFound for what is none (the workflow says so of a
    number no report has)."""
    if not _NUMBER.fullmatch(text):
        raise NotFound(f"report: no reporting obligation {text[:20]!r}")
    return int(text)


def _action(label: str) -> DutyAction:
    chosen = next((a for a in ACTIONS if a.value == label), None)
    if chosen is None:
        names = ", ".join(a.value for a in ACTIONS)
        raise Problem(
            404,
            f"action: {label[:40]!r} is not an action on a report; the actions are {names}",
            errors=[{"field": "action", "message": "is not an action on a report"}],
        )
    return chosen
