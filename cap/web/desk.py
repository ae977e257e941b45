"""Signing in to the desk and out of it, and who a request is from.

A session is a signed cookie (Starlette's SessionMiddleware) holding the user's id and
``session_version``; each page asks the database whether that is still someone signed in, so a
user disabled, given another role or another password is signed out at their next request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cap.clock import utcnow
from cap.workflow import LoginRefusal, UserView, Workflow
from cap.workflow.users import PASSWORD_MAX_LENGTH

_USER = "user"
_VERSION = "session_version"
#: Longer than any address a mail server takes (254): anything beyond is not worth a lookup.
_EMAIL_MAX_LENGTH = 320
#: Pages that show who is signed in are never kept by a browser or a proxy.
_PRIVATE = {"cache-control": "no-store"}


def signed_in(request: Request, workflow: Workflow) -> UserView | None:
    """The person this request is from, or None; a session that has ended is cleared."""
    user_id, version = request.session.get(_USER), request.session.get(_VERSION)
    if user_id is None and version is None:
        return None
    user = None
    if isinstance(user_id, int) and isinstance(version, int):
        user = workflow.session_user(user_id, version)
    if user is None:
        request.session.clear()
    return user


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=_PRIVATE)


def desk_routes(workflow: Workflow, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter()

    def login_form(
        request: Request,
        *,
        email: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"email": email, "errors": errors or {}},
            status_code=status_code,
            headers={**_PRIVATE, **(headers or {})},
        )

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        if signed_in(request, workflow) is not None:
            return _see_other("/desk")
        return login_form(request)

    @router.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        email: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
    ) -> Response:
        email = email.strip()
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = "enter the email address you were given access with"
        elif len(email) > _EMAIL_MAX_LENGTH:
            errors["email"] = "too long for an email address; check what you typed"
        if not password:
            errors["password"] = "enter your password"
        elif len(password) > PASSWORD_MAX_LENGTH:
            # Refused before hashing: a megabyte "password" would only burn the server.
            errors["password"] = (
                f"too long; passwords have at most {PASSWORD_MAX_LENGTH} characters"
            )
        if errors:
            return login_form(request, email=email[:_EMAIL_MAX_LENGTH], errors=errors,
                              status_code=400)  # fmt: skip
        address = request.client.host if request.client else "unknown"
        result = workflow.authenticate(email, password, address, utcnow())
        if result.user is None:
            throttled = result.refusal is LoginRefusal.THROTTLED
            retry = {"retry-after": str(60 * (result.wait_minutes or 1))} if throttled else None
            return login_form(request, email=email, errors={"password": str(result.message)},
                              status_code=429 if throttled else 400, headers=retry)  # fmt: skip
        request.session.clear()
        request.session[_USER] = result.user.id
        request.session[_VERSION] = result.user.session_version
        return _see_other("/desk")

    @router.post("/logout")
    def logout(request: Request) -> Response:
        request.session.clear()
        return _see_other("/login")

    @router.get("/desk", response_class=HTMLResponse)
    def desk(request: Request) -> Response:
        user = signed_in(request, workflow)
        if user is None:
            return _see_other("/login")
        return templates.TemplateResponse(request, "desk.html", {"user": user}, headers=_PRIVATE)

    return router
