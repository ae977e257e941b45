"""The outbox over the API: the emails queued, sent and failed, and a failed one sent again.

Every staff role reads the outbox, as on the desk's outbox page (recipients and subjects; the
bodies are not part of a message's view); retrying needs the desk's permission to retry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from cap.api.common import Caller, Flow, MayRetryMail, Now, require
from cap.api.problems import described
from cap.domain.model import OutboxStatus
from cap.domain.permissions import Permission
from cap.workflow import OutboxMessageView, to_json

#: Messages a listing holds at most, and by default (`cap outbox list --limit`).
MAX_LIMIT, DEFAULT_LIMIT = 1000, 200
#: The largest message id the outbox can hold (an integer column on PostgreSQL).
MAX_ID = 2**31 - 1

router = APIRouter(tags=["outbox"])


@router.get("/outbox", response_model=list[OutboxMessageView], responses=described(401, 422))
def list_outbox(
    token: Caller,
    workflow: Flow,
    status: Annotated[OutboxStatus | None, Query(description="Only this status.")] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="At most this many, newest first.")
    ] = DEFAULT_LIMIT,
) -> JSONResponse:
    """The newest messages of the outbox, newest first, as `cap outbox list --json`."""
    require(token, Permission.READ)
    return JSONResponse(to_json(workflow.list_outbox(status, limit=limit)))


@router.post("/outbox/{id}/retry", response_model=OutboxMessageView,
             responses=described(401, 403, 404, 409, 422))  # fmt: skip
def retry_message(
    token: MayRetryMail,
    workflow: Flow,
    now: Now,
    id: Annotated[int, Path(ge=1, le=MAX_ID, description="The message (see GET /outbox).")],
) -> JSONResponse:
    """Queue a failed message again, due now, as `cap outbox retry`; 409 unless it failed."""
    return JSONResponse(to_json(workflow.retry_message(id, now=now)))
