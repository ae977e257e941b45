"""Signing in to the desk and out of it, and who a request is from.

A session is a signed cookie (Starlette's SessionMiddleware) holding the user's id and
``session_version``; each page asks the database whether that is still someone signed in, so a
user disabled, given another role or another password is signed out at their next request.
The language form is here too: a signed-in user's choice is stored on the user, and follows
them to every browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cap.clock import utcnow
from cap.domain.model import Language
from cap.web.language import COOKIE, COOKIE_MAX_AGE, Languages, same_site_path
from cap.workflow import LoginRefusal, LoginResult, UserView, Workflow
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
    request.state.user = user  # the user's language is the page's (cap.web.language)
    return user


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers=_PRIVATE)


def _refusal(result: LoginResult, _: Callable[[str], str]) -> str:
    """Why a sign-in was refused, in the page's language (the workflow words it in English,
    for the command line)."""
    if result.refusal is LoginRefusal.THROTTLED:
        if result.wait_minutes in (None, 1):
            return _("wrong email or password, or too many attempts; wait 1 minute")
        return _("wrong email or password, or too many attempts; wait %(minutes)d minutes") % {
            "minutes": result.wait_minutes
        }
    if result.refusal is LoginRefusal.DISABLED:
        return _("this account is disabled; ask an administrator")
    return _("wrong email or password")


def _remember(response: Response, language: Language, languages: Languages) -> None:
    response.set_cookie(COOKIE, language.value, max_age=COOKIE_MAX_AGE, httponly=True,
                        samesite="lax", secure=languages.secure)  # fmt: skip


def desk_routes(workflow: Workflow, templates: Jinja2Templates, languages: Languages) -> APIRouter:
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
        _ = languages.gettext(request)
        email = email.strip()
        errors: dict[str, str] = {}
        if not email:
            errors["email"] = _("enter the email address you were given access with")
        elif len(email) > _EMAIL_MAX_LENGTH:
            errors["email"] = _("too long for an email address; check what you typed")
        if not password:
            errors["password"] = _("enter your password")
        elif len(password) > PASSWORD_MAX_LENGTH:
            # Refused before hashing: a megabyte "password" would only burn the server.
            errors["password"] = _("too long; passwords have at most %(length)d characters") % {
                "length": PASSWORD_MAX_LENGTH
            }
        if errors:
            return login_form(request, email=email[:_EMAIL_MAX_LENGTH], errors=errors,
                              status_code=400)  # fmt: skip
        address = request.client.host if request.client else "unknown"
        result = workflow.authenticate(email, password, address, utcnow())
        if result.user is None:
            throttled = result.refusal is LoginRefusal.THROTTLED
            retry = {"retry-after": str(60 * (result.wait_minutes or 1))} if throttled else None
            return login_form(request, email=email, errors={"password": _refusal(result, _)},
                              status_code=429 if throttled else 400, headers=retry)  # fmt: skip
        request.session.clear()
        request.session[_USER] = result.user.id
        request.session[_VERSION] = result.user.session_version
        desk = _see_other("/desk")
        if result.user.language is not None:
            # Every page, not only the desk's, in the language the user chose elsewhere.
            _remember(desk, Language(result.user.language), languages)
        return desk

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

    @router.post("/language")
    def choose_language(
        request: Request,
        language: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        if language not in set(Language):
            return PlainTextResponse(
                "error: language: choose sv (Svenska) or en (English)\n", status_code=400
            )
        chosen = Language(language)
        user = signed_in(request, workflow)
        if user is not None:
            workflow.set_language(user.id, chosen)
        back = same_site_path(next) or ("/desk" if user is not None else "/")
        response = _see_other(back)
        _remember(response, chosen, languages)
        return response

    return router
