"""What every page of the desk stands on: who is signed in and whether their role allows the
page, the clock, rendering a template with the signed-in user, and the pages for errors.

A route asks ``site.user(request, Permission.X)``: an anonymous visitor is sent to sign in
(and back afterwards), a signed-in user whose role lacks the permission gets 403. Errors a
user causes (:class:`cap.errors.CapError`) become a page with their one-line message and the
status that fits; a form shows them next to its field instead (:func:`field_errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from cap.config import Settings
from cap.domain.model import StaffRole
from cap.domain.permissions import Permission, allows
from cap.errors import ActionRefused, AlreadyExists, CapError, Conflict, InvalidInput, NotFound
from cap.web.language import Languages
from cap.workflow import UserView, Workflow

_USER = "user"
_VERSION = "session_version"
#: Pages that show who is signed in are never kept by a browser or a proxy.
PRIVATE = {"cache-control": "no-store"}

_STATUS: dict[type[CapError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    AlreadyExists: 409,
    ActionRefused: 409,
    Conflict: 409,
}


class SignInNeeded(Exception):
    """Nobody is signed in: the page sends them to sign in, and back."""


class NotAllowed(Exception):
    """The signed-in user's role does not allow this page or form."""


@dataclass(frozen=True)
class Site:
    """The desk's parts, given to every group of routes."""

    workflow: Workflow
    templates: Jinja2Templates
    languages: Languages
    settings: Settings
    #: The application's now: a demo database's simulated clock, else the real one.
    clock: Callable[[], datetime]

    def now(self) -> datetime:
        return self.clock()

    def signed_in(self, request: Request) -> UserView | None:
        """The person this request is from, or None; a session that has ended is cleared."""
        user_id, version = request.session.get(_USER), request.session.get(_VERSION)
        if user_id is None and version is None:
            return None
        user = None
        if isinstance(user_id, int) and isinstance(version, int):
            user = self.workflow.session_user(user_id, version)
        if user is None:
            request.session.clear()
        request.state.user = user  # the user's language is the page's (cap.web.language)
        return user

    def start_session(self, request: Request, user: UserView) -> None:
        """Sign ``user`` in: a new session, nothing kept from the one before."""
        request.session.clear()
        request.session[_USER] = user.id
        request.session[_VERSION] = user.session_version

    def user(self, request: Request, permission: Permission = Permission.READ) -> UserView:
        """The signed-in user, if their role has ``permission``; else SignInNeeded/NotAllowed."""
        user = self.signed_in(request)
        if user is None:
            raise SignInNeeded
        if not allows(user.role, permission):
            raise NotAllowed
        return user

    def gettext(self, request: Request) -> Callable[[str], str]:
        return self.languages.gettext(request)

    def render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """``template`` with ``context``, the signed-in user (``user``) and ``may(permission)``
        for showing only what the user's role allows."""
        user: UserView | None = getattr(request.state, "user", None)

        def may(permission: str) -> bool:
            return user is not None and allows(user.role, Permission(permission))

        return self.templates.TemplateResponse(
            request,
            template,
            {"user": user, "may": may, "roles": StaffRole, **(context or {})},
            status_code=status_code,
            headers={**PRIVATE, **(headers or {})},
        )


def see_other(path: str) -> RedirectResponse:
    """Where to go after a form was sent (303: the browser GETs it)."""
    return RedirectResponse(path, status_code=303, headers=PRIVATE)


def client_address(request: Request) -> str:
    """Where a request comes from, as the sign-in throttle counts it."""
    return request.client.host if request.client else "unknown"


def field_errors(error: CapError, fields: Iterable[str]) -> dict[str, str]:
    """``error`` placed next to the form field its message names (``until: ...`` goes to the
    field ``until``), or under ``form`` when it names none of ``fields``."""
    field, sep, rest = error.plain.partition(": ")
    if sep and field in set(fields):
        return {field: rest}
    return {"form": error.plain}


def install_error_pages(app: FastAPI, site: Site) -> None:
    """The pages for a visitor who must sign in, a role that may not, and errors users cause."""

    @app.exception_handler(SignInNeeded)
    def sign_in_first(request: Request, _: Exception) -> Response:
        if request.method != "GET":
            return site.render(request, "error.html", {"status": 401}, status_code=401)
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return see_other(f"/login?next={quote(back, safe='')}")

    @app.exception_handler(NotAllowed)
    def not_allowed(request: Request, _: Exception) -> Response:
        return site.render(request, "error.html", {"status": 403}, status_code=403)

    @app.exception_handler(CapError)
    def user_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, CapError)
        status = next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400)
        return site.render(
            request, "error.html", {"status": status, "message": error.plain},
            status_code=status,
        )  # fmt: skip
