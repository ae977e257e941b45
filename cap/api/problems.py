"""Errors as RFC 9457 problem details (``application/problem+json``): the same one line as the
command line in ``detail``, the field it names in ``errors``, and a status that says what kind
of error it is (400/422 bad input, 401 no token, 403 the role may not, 404 unknown, 409 refused
by the finding's state, 412 changed since the version sent)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match

from cap.domain.inputs import plain
from cap.errors import ActionRefused, AlreadyExists, CapError, Conflict, InvalidInput, NotFound

MEDIA_TYPE = "application/problem+json"
_STATUS: dict[type[CapError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    AlreadyExists: 409,
    ActionRefused: 409,
    Conflict: 409,
}


class FieldError(BaseModel):
    """A field that is wrong; in a bulk import, ``row`` is where: the line of the CSV, or the
    position of the item in the JSON array (the first is 1)."""

    field: str
    message: str
    row: int | None = None


class ProblemDetails(BaseModel):
    """RFC 9457's members as cap fills them: ``detail`` the command line's line, ``errors``
    the fields it names."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []
    #: A refused action (409): the actions the finding's state allows now.
    allowed: list[str] | None = None


def described(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of an operation's errors: problem details."""
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {
        status: {"model": ProblemDetails, "description": HTTPStatus(status).phrase,
                 "content": {MEDIA_TYPE: {"schema": schema}}}
        for status in statuses
    }  # fmt: skip


class Problem(Exception):
    """An error the API answers with ``status`` and ``detail`` (and extra members)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:  # fmt: skip
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers or {}, extra


def problem_body(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """The members of a problem details object (RFC 9457)."""
    return {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
            "detail": detail, **extra}  # fmt: skip


def problem(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(problem_body(status, detail, **extra), status_code=status,
                        media_type=MEDIA_TYPE, headers=headers)  # fmt: skip


def field_of(message: str) -> list[dict[str, str]]:
    """The field a one-line message names (``until: ...``), as the ``errors`` member."""
    field, sep, rest = message.partition(": ")
    if sep and field and " " not in field:
        return [{"field": field, "message": rest}]
    return []


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    def _problem(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, Problem)
        return problem(error.status, error.detail, headers=error.headers, **error.extra)

    @app.exception_handler(CapError)
    def _cap_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, CapError)
        status = next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400)
        return problem(status, error.plain, errors=field_of(error.plain))

    @app.exception_handler(RequestValidationError)
    def _invalid(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        found = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
             "message": _said(e)}
            for e in error.errors()
        ]  # fmt: skip
        first = found[0] if found else {"field": "body", "message": "is not valid"}
        return problem(422, f"{first['field']}: {first['message']}", errors=found)

    @app.exception_handler(HTTPException)
    def _http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, HTTPException)
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # Starlette answers with the methods of the first route whose path matched; a
            # path with a GET and a POST route has both (RFC 9110: Allow lists them all).
            headers["Allow"] = ", ".join(_methods(request))
        return problem(error.status_code, str(error.detail), headers=headers)


def _said(error: Any) -> str:
    """What is wrong with a field, in plain words; a form field sent as text where a file
    belongs is told so (FastAPI's own words name a Python class)."""
    if "Expected UploadFile" in str(error.get("msg", "")):
        return "is not a file; send it as a part with a filename (curl: -F 'file=@report.pdf')"
    return plain(error)


def _methods(request: Request) -> list[str]:
    """The methods of every route of the application whose path is the request's."""
    # Asked of each route as routing asks it (Starlette's public ``matches``): FastAPI keeps
    # an included router's routes inside a route of its own, and a mounted application's
    # scope has the mount's prefix in its path, so comparing paths by hand found nothing.
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


#: What an Allow header may list.
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


__all__ = [
    "MEDIA_TYPE", "Problem", "ProblemDetails", "described", "install", "problem", "problem_body",
]  # fmt: skip
