"""Signing in to the desk and out of it (here, or in every browser at once).

A session is a signed cookie (Starlette's SessionMiddleware) holding the user's id and
``session_version``; each page asks the database whether that is still someone signed in
(:meth:`cap.web.site.Site.signed_in`), so a user disabled, given another role or another
password, or signed out everywhere is signed out at their next request. The language form is
here too: a signed-in user's choice is stored on the user, and follows them to every browser.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from cap.domain.model import Language
from cap.web.language import COOKIE, COOKIE_MAX_AGE, Languages, same_site_path
from cap.web.site import PRIVATE, Site, client_address, see_other
from cap.workflow import LoginRefusal, LoginResult
from cap.workflow.users import PASSWORD_MAX_LENGTH

#: Longer than any address a mail server takes (254): anything beyond is not worth a lookup.
_EMAIL_MAX_LENGTH = 320


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


def sign_in_routes(site: Site, router: APIRouter) -> None:
    workflow, templates, languages = site.workflow, site.templates, site.languages

    def login_form(
        request: Request,
        *,
        email: str = "",
        next: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"email": email, "next": same_site_path(next) or "", "errors": errors or {}},
            status_code=status_code,
            headers={**PRIVATE, **(headers or {})},
        )

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "") -> Response:
        if site.signed_in(request) is not None:
            return see_other(same_site_path(next) or "/desk")
        return login_form(request, next=next)

    @router.post("/login", response_class=HTMLResponse)
    def login(
        request: Request,
        email: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
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
            return login_form(request, email=email[:_EMAIL_MAX_LENGTH], next=next,
                              errors=errors, status_code=400)  # fmt: skip
        result = workflow.authenticate(email, password, client_address(request), site.now())
        if result.user is None:
            throttled = result.refusal is LoginRefusal.THROTTLED
            retry = {"retry-after": str(60 * (result.wait_minutes or 1))} if throttled else None
            return login_form(request, email=email, next=next,
                              errors={"password": _refusal(result, _)},
                              status_code=429 if throttled else 400, headers=retry)  # fmt: skip
        site.start_session(request, result.user)
        desk = see_other(same_site_path(next) or "/desk")
        if result.user.language is not None:
            # Every page, not only the desk's, in the language the user chose elsewhere.
            _remember(desk, Language(result.user.language), languages)
        return desk

    @router.post("/logout")
    def logout(request: Request) -> Response:
        request.session.clear()
        return see_other("/login")

    @router.post("/logout/everywhere")
    def logout_everywhere(request: Request) -> Response:
        user = site.user(request)
        workflow.end_sessions(user.id)
        request.session.clear()
        return see_other("/login")

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
        user = site.signed_in(request)
        if user is not None:
            workflow.set_language(user.id, chosen)
        back = same_site_path(next) or ("/desk" if user is not None else "/")
        response = see_other(back)
        _remember(response, chosen, languages)
        return response
