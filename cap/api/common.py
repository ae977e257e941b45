"""What every part of the API shares: who calls (the token), the workflow and the one ``now``
of a request, roles, and a finding's ETag."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from cap.api.problems import Problem
from cap.domain.permissions import Permission, allows
from cap.workflow import TokenView, Workflow

Ref = Annotated[str, Path(max_length=40, description="A finding's reference, e.g. NC-2026-0001")]


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


def workflow(request: Request) -> Workflow:
    found: Workflow = request.app.state.workflow
    return found


def now(request: Request) -> datetime:
    """The request's one reading of the clock: every use case of the request is given it."""
    read: datetime = request.app.state.clock()
    return read


Caller = Annotated[TokenView, Depends(caller)]
Flow = Annotated[Workflow, Depends(workflow)]
Now = Annotated[datetime, Depends(now)]


def require(token: TokenView, permission: Permission) -> None:
    """403 unless the token's role has ``permission``."""
    if not allows(token.role, permission):
        raise Problem(403, f"role: a {token.role.value} token may not do this")


def actor(token: TokenView, named: str | None = None) -> str:
    """Who the trail says acted: the name sent as ``as``, else the token's."""
    return named.strip() if named and named.strip() else f"api: {token.name}"


def etag(version: int) -> str:
    return f'"v{version}"'


def if_match(value: str | None) -> int | None:
    """The version an If-Match names (``"v3"``), None when absent or ``*``."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/")
    if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1] == "v" and tag[2:-1].isdecimal():
        return int(tag[2:-1])
    raise Problem(412, f"If-Match: {value[:40]!r} is not a version this API gave; send the "
                       "ETag of the finding as you last read it")  # fmt: skip


__all__ = [
    "Caller", "Flow", "Now", "Ref", "actor", "caller", "etag", "if_match", "now", "require",
    "workflow",
]  # fmt: skip
