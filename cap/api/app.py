"""The API application, mounted at ``/api/v1`` beside the desk: its own OpenAPI document
(``/api/v1/openapi.json``), the desk's roles through tokens, JSON bodies named as the command
line's options and ``--json`` keys (the same result types: the CLI, the desk and the API never
disagree).

A finding's ``ETag`` is its version; an action sent with ``If-Match`` acts only on that version
(412 otherwise), as ``--if-version`` does. Cookies play no part: a request is who its token is,
so no form of another site can act through a browser's session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cap import __version__
from cap.api.problems import Problem, described, install
from cap.domain.inputs import FindingInput, PlanInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, DeadlineKind, State
from cap.domain.permissions import Permission, allows, may_act, roles_for
from cap.errors import Conflict
from cap.workflow import (
    ActionResult,
    ContractView,
    FindingFilter,
    FindingSummary,
    FindingView,
    SupplierView,
    TokenView,
    Workflow,
    to_json,
)

#: Findings a page of the list holds at most, and by default.
MAX_LIMIT, DEFAULT_LIMIT = 200, 50
Ref = Annotated[str, Path(max_length=40, description="A finding's reference, e.g. NC-2026-0001")]


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

    at: AwareDatetime | None = None
    as_: Annotated[str | None, Field(alias="as", max_length=254)] = None
    reason: Annotated[str | None, Field(max_length=20_000)] = None
    note: Annotated[str | None, Field(max_length=20_000)] = None
    until: date | None = None
    deadline: DeadlineKind | None = None
    plan: PlanInput | None = None


def _etag(version: int) -> str:
    return f'"v{version}"'


def _if_match(value: str | None) -> int | None:
    """The version an If-Match names (``"v3"``), None when absent or ``*``."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/")
    if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1] == "v" and tag[2:-1].isdecimal():
        return int(tag[2:-1])
    raise Problem(412, f"If-Match: {value[:40]!r} is not a version this API gave; send the "
                       "ETag of the finding as you last read it")  # fmt: skip


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> TokenView:
    """Who calls: the token of the Authorization header, if it works; else 401."""
    challenge = {"WWW-Authenticate": 'Bearer realm="cap"'}
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Authorization: send 'Authorization: Bearer TOKEN' (make one with "
                           "`cap token create`)", headers=challenge)  # fmt: skip
    state = request.app.state
    found: TokenView | None = state.workflow.token_user(token.strip(), now=state.clock())
    if found is None:
        raise Problem(401, "Authorization: this token does not work (unknown, expired or "
                           "revoked); ask for a new one", headers=challenge)  # fmt: skip
    return found


Caller = Annotated[TokenView, Depends(caller)]


def create_api(workflow: Workflow, clock: Callable[[], datetime]) -> FastAPI:
    """The API over ``workflow``, its now from ``clock``."""
    api = FastAPI(
        title="cap API",
        version=__version__,
        summary="Corrective-action tracking for labour-rights and anti-corruption clauses.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    install(api)
    api.state.workflow, api.state.clock = workflow, clock

    def allowed(token: TokenView, permission: Permission) -> None:
        if not allows(token.role, permission):
            raise Problem(403, f"role: a {token.role.value} token may not do this")

    router = APIRouter()

    @router.get("/findings", response_model=FindingPage, tags=["findings"],
                responses=described(401, 404, 422))  # fmt: skip
    def list_findings(
        token: Caller,
        state: State | None = None,
        supplier: Annotated[str | None, Query(max_length=40, description="org number")] = None,
        overdue: bool = False,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(
                pattern=r"^NC-[0-9]{4}-[0-9]{4,8}$",
                description="`next` of the page before: the ref it ended with",
            ),
        ] = None,
    ) -> JSONResponse:
        """The findings, oldest first, a page at a time (``next`` for the page after)."""
        flt = FindingFilter(state=state, supplier=supplier, overdue=overdue, limit=limit + 1,
                            after=cursor)  # fmt: skip
        found = workflow.list_findings(flt, now=clock())
        page, more = found[:limit], len(found) > limit
        body = {"items": to_json(page), "next": page[-1].ref if more else None}
        return JSONResponse(body)

    @router.get("/findings/{ref}", response_model=FindingView, tags=["findings"],
                responses=described(401, 404, 422))  # fmt: skip
    def show_finding(token: Caller, ref: Ref) -> JSONResponse:
        """Everything about a finding; its ETag is its version."""
        view = workflow.show_finding(ref, now=clock())
        return JSONResponse(to_json(view), headers={"ETag": _etag(view.version)})

    @router.post("/findings", response_model=Created, status_code=201, tags=["findings"],
                 responses=described(400, 401, 403, 404, 409, 413, 422))  # fmt: skip
    def log_finding(token: Caller, body: FindingInput) -> JSONResponse:
        """Log a finding (state open), as `cap finding add`."""
        allowed(token, Permission.LOG_FINDINGS)
        ref = workflow.log_finding(body, actor=_actor(token, None), now=clock())
        return JSONResponse({"ref": ref}, status_code=201,
                            headers={"Location": f"findings/{ref}"})  # fmt: skip

    @router.post("/findings/{ref}/actions/{action}", response_model=ActionResult,
                 tags=["findings"],
                 responses=described(400, 401, 403, 404, 409, 412, 413, 422))  # fmt: skip
    def act(
        token: Caller,
        ref: Ref,
        action: Annotated[str, Path(max_length=40, description="e.g. accept-plan")],
        body: ActionBody,
        if_match: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        """One lifecycle action (the command line's name, e.g. ``accept-plan``) with the
        command line's options; 409 with the actions possible when the state refuses it."""
        chosen = _action(action)
        now = clock()
        current = workflow.show_finding(ref, now=now)
        expected = _if_match(if_match)
        if expected is not None and expected != current.version:
            raise Problem(412, f"{current.ref} changed since version {expected} (now version "
                               f"{current.version}); read it again",
                          headers={"ETag": _etag(current.version)})  # fmt: skip
        if not may_act(token.role, chosen, current.state):
            roles = ", ".join(sorted(r.value for r in roles_for(chosen, current.state)))
            raise Problem(403, f"role: a {token.role.value} token may not {chosen.label} "
                               f"({roles or 'nobody'} may)")  # fmt: skip
        request = ActionRequest(
            chosen, _actor(token, body.as_), body.at or now, reason=body.reason,
            note=body.note, until=body.until, deadline=body.deadline,
        )  # fmt: skip
        try:
            result = workflow.act(current.ref, request, now=now, plan=body.plan,
                                  expected_version=expected if expected else current.version,
                                  view=False)  # fmt: skip
        except Conflict as error:
            raise Problem(412, error.plain) from None
        return JSONResponse(to_json(replace(result, finding=None)),
                            headers={"ETag": _etag(result.version)})  # fmt: skip

    @router.get("/suppliers", response_model=list[SupplierView], tags=["directory"],
                responses=described(401))  # fmt: skip
    def list_suppliers(token: Caller) -> JSONResponse:
        """Every supplier with its contacts."""
        return JSONResponse(to_json(workflow.list_suppliers()))

    @router.get("/contracts", response_model=list[ContractView], tags=["directory"],
                responses=described(401))  # fmt: skip
    def list_contracts(token: Caller) -> JSONResponse:
        """Every contract."""
        return JSONResponse(to_json(workflow.list_contracts()))

    api.include_router(router)
    return api


def _actor(token: TokenView, named: str | None) -> str:
    return named.strip() if named and named.strip() else f"api: {token.name}"


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


__all__ = ["create_api"]
