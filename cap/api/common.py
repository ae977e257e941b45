"""What every part of the API shares: who calls (the token), the workflow and the one ``now``
of a request, roles, and a finding's ETag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from cap.api.problems import Problem
from cap.domain.permissions import Permission, allows
from cap.workflow import Once, TokenView, Workflow

Ref = Annotated[str, Path(max_length=40, description="A finding's reference, e.g. NC-2026-0001")]


def _iso_text(value: object) -> object:
    """ISO 8601 text with a UTC offset, as the command line reads it: pydantic's lax mode would
    also take a number, or a number in text, as seconds since 1970, which the document does not
    offer."""
    try:
        parsed = datetime.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise PydanticCustomError("datetime_parsing", "not ISO 8601 text")
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; write it like 2026-03-02T10:00:00+01:00 "
                         "or 2026-03-02T09:00:00Z")  # fmt: skip
    return value


#: An instant in a request body: ISO 8601 text with its offset, nothing else.
Instant = Annotated[
    AwareDatetime, BeforeValidator(_iso_text), Field(description="ISO 8601 with offset")
]


#: The document's security scheme (what the docs' Authorize button asks for); the answer to
#: a missing token is ours, a problem like every other error.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token of `cap token create`, as `Authorization: Bearer TOKEN`",
)


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenView:
    """Who calls: the token of the Authorization header, if it works; else 401."""
    challenge = {"WWW-Authenticate": 'Bearer realm="cap"'}
    token = credentials.credentials.strip() if credentials else ""
    if not token:
        raise Problem(401, "Authorization: send 'Authorization: Bearer TOKEN' (make one with "
                           "`cap token create`)", headers=challenge)  # fmt: skip
    state = request.app.state
    found: TokenView | None = state.workflow.token_user(token, now=state.clock())
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
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        max_length=257,
        description="Any new string (a UUID, say) per request: the same request sent again "
        "with it within a day is answered as the first time and acts no more",
    ),
]
Flow = Annotated[Workflow, Depends(workflow)]
Now = Annotated[datetime, Depends(now)]


def require(token: TokenView, permission: Permission) -> None:
    """403 unless the token's role has ``permission``."""
    if not allows(token.role, permission):
        raise Problem(403, f"role: a {token.role.value} token may not do this")


def _permitted(permission: Permission) -> Callable[[TokenView], TokenView]:
    def check(token: Caller) -> TokenView:
        require(token, permission)
        return token

    return check


# The token, if its role has the permission; else 403 before the body is read: a role that
# may not is not told what was wrong with what it sent.
MayLog = Annotated[TokenView, Depends(_permitted(Permission.LOG_FINDINGS))]
MayManageDirectory = Annotated[TokenView, Depends(_permitted(Permission.MANAGE_DIRECTORY))]
MayRetryMail = Annotated[TokenView, Depends(_permitted(Permission.RETRY_MAIL))]
MayRecordReports = Annotated[TokenView, Depends(_permitted(Permission.RECORD_REPORTS))]


def actor(token: TokenView, named: str | None = None) -> str:
    """Who the trail says acted: the name sent as ``as``, else the token's."""
    return named.strip() if named and named.strip() else f"api: {token.name}"


def once(token: TokenView, key: str | None, operation: str, body: str | bytes) -> Once | None:
    """The request as sent with an ``Idempotency-Key`` (an RFC 8941 string, its quotes
    optional), None without one."""
    if key is None:
        return None
    bare = key.strip()
    if len(bare) >= 2 and bare[0] == bare[-1] == '"':
        bare = bare[1:-1]
    if not bare or len(bare) > 255 or not all("!" <= ch <= "~" for ch in bare):
        raise Problem(422, "Idempotency-Key: send 1 to 255 visible ASCII characters (a UUID, "
                           "say)", errors=[{"field": "Idempotency-Key",
                                            "message": "is not a usable key"}])  # fmt: skip
    return Once.of(token.id, bare, operation, body)


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
    "Caller", "Flow", "IdempotencyKey", "Instant", "MayLog", "MayManageDirectory",
    "MayRecordReports", "MayRetryMail", "Now", "Ref", "actor", "caller", "etag",
    "if_match", "now", "once", "require", "workflow",
]  # fmt: skip
