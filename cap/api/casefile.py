"""A finding's case file over the API: its timeline and its evidence files (upload, download).

Evidence is sent as the desk's form sends it (``multipart/form-data``, each file a ``file``
part, at most :data:`~cap.web.security.FILES_PER_FORM` of CAP_EVIDENCE_MAX_BYTES each) and read
by the desk's own reader; a file comes back as the desk gives it: an attachment, never a page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from cap.api.common import Caller, Flow, MayLog, Now, Ref, actor, require
from cap.api.problems import described
from cap.domain.permissions import Permission
from cap.errors import InvalidInput
from cap.web.forms import SAFE_TYPES, download, read_form
from cap.web.security import FILES_PER_FORM
from cap.workflow import EvidenceView, TimelineView, to_json

router = APIRouter(tags=["findings"])

#: The largest id an evidence file can have (PostgreSQL's integer): a larger one is no id.
MAX_ID = 2**31 - 1

#: The download's OpenAPI answer: the file's bytes, as a type a browser may be told as it is
#: (the desk's), else application/octet-stream; always an attachment under its name.
_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes, as an attachment under its name",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in sorted(SAFE_TYPES | {"application/octet-stream"})
        },
        "headers": {
            "Content-Disposition": {"description": "attachment; filename (RFC 6266, 5987)",
                                    "schema": {"type": "string"}},
            "ETag": {"description": "the file's SHA-256", "schema": {"type": "string"}},
        },
    }
}  # fmt: skip


@router.get("/findings/{ref}/timeline", response_model=TimelineView,
            responses=described(401, 404, 422))  # fmt: skip
def show_timeline(token: Caller, workflow: Flow, now: Now, ref: Ref) -> JSONResponse:
    """A finding's past events and the steps the rules will take next (each saying whether
    the next sweep applies it), as `cap finding timeline --json`."""
    require(token, Permission.READ)
    return JSONResponse(to_json(workflow.timeline(ref, now=now)))


@router.post("/findings/{ref}/evidence", response_model=list[EvidenceView], status_code=201,
             responses=described(400, 401, 403, 404, 413, 422))  # fmt: skip
async def add_evidence(
    request: Request,
    token: MayLog,
    workflow: Flow,
    now: Now,
    ref: Ref,
    # Declared for the document and for FastAPI's check that files came; read below.
    file: Annotated[
        list[UploadFile],
        File(description=f"The files to attach, at most {FILES_PER_FORM} (a part each)"),
    ],
    as_: Annotated[
        str | None, Form(alias="as", max_length=254, description="Who attaches them")
    ] = None,
) -> JSONResponse:
    """Attach evidence files (``file``, one part each) to a finding without changing its
    state, as `cap finding attach`; ``as`` is who attached them (default: the token's name)."""
    # The form FastAPI read, read again as the desk reads it: the same limits, the same lines.
    sent = await read_form(request, limit=workflow.settings.evidence_max_bytes)
    if sent.problem:
        raise InvalidInput(sent.problem)
    added = await run_in_threadpool(
        workflow.add_evidence, ref, sent.files, actor=actor(token, as_), now=now
    )
    return JSONResponse(to_json(added), status_code=201)


@router.get("/findings/{ref}/evidence/{evidence_id}", response_class=Response,
            responses={**_FILE, **described(401, 404, 422)})  # fmt: skip
def download_evidence(
    token: Caller,
    workflow: Flow,
    ref: Ref,
    evidence_id: Annotated[int, Path(ge=1, le=MAX_ID, description="The file's id")],
) -> Response:
    """An evidence file of the finding, as a download (as `cap finding evidence`)."""
    require(token, Permission.READ)
    meta, content = workflow.evidence_content(ref, evidence_id)
    # nosniff here too, not only from the desk's layer: a file is never read as a page.
    return download(
        meta, content, {"etag": f'"{meta.sha256}"', "x-content-type-options": "nosniff"}
    )
