"""The people of the desk, for administrators: /users lists them; /users/new adds one;
/users/{id} shows one with forms to change their role, sign them out everywhere, give them a
new password, disable them or enable them again. And for everyone, /account/password: their
own new password, given their current one.

A password is generated (shown once, on the page that answers the form, never stored
readable) or typed twice; it is never written back into a form nor logged. The last active
administrator can be neither disabled nor given another role here (the command line can:
whoever runs it can add another).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from cap.domain.inputs import email_address
from cap.domain.model import StaffRole
from cap.domain.permissions import Permission
from cap.errors import AlreadyExists, CapError, InvalidInput, NotFound
from cap.web.labels import N_, label
from cap.web.site import Site, client_address, field_errors, see_other
from cap.workflow import UserView
from cap.workflow.users import LastAdmin, generate_password

#: The session key of the notice a form leaves for the page it sends the user to.
_NOTICE = "users_notice"
#: How a password is chosen on the forms.
GENERATE, TYPE = "generate", "type"
NEW_USER_FIELDS = ("email", "name", "role", "choice", "password", "password_again")
PASSWORD_FIELDS = ("choice", "password", "password_again")
OWN_PASSWORD_FIELDS = ("current", "password", "password_again")
#: Longer than any address a mail server takes (254).
_EMAIL_MAX_LENGTH = 320
#: The workflow's words for a password or a name it refuses (cap.workflow.users), so that the
#: form can say them in the page's language.
WORKFLOW_MESSAGES = (
    N_("too short; use at least 12 characters (a few words make one easy to remember)"),
    N_("too long; use at most 1024 characters"),
    N_("must be one line without control characters; type it again"),
    N_("must be one line without control characters"),
    N_("too long; use at most 200 characters"),
    N_("this is not your current password"),
    N_("too many wrong passwords; wait a few minutes and try again"),
)


async def _form(request: Request) -> FormData:
    """The posted form (read here, so that the route itself can run in the thread pool)."""
    return await request.form()


Form = Annotated[FormData, Depends(_form)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _user_id(text: str, _: Callable[[str], str]) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise NotFound("user: " + _("there is no user %(value)s") % {"value": repr(text[:20])})
    return int(text)


def _role(text: str, _: Callable[[str], str]) -> StaffRole:
    try:
        return StaffRole(text)
    except ValueError:
        raise InvalidInput(
            "role: "
            + _("%(value)s is not a role; choose one of the list") % {"value": repr(text[:20])}
        ) from None


def _password(form: FormData, _: Callable[[str], str]) -> tuple[str, bool]:
    """The password the form chose and whether it was generated; InvalidInput naming the
    field otherwise. A typed one is checked by the workflow (check_password)."""
    choice = _text(form, "choice") or GENERATE
    if choice == GENERATE:
        return generate_password(), True
    if choice != TYPE:
        raise InvalidInput("choice: " + _("choose to generate a password or to type one"))
    password, again = _text(form, "password"), _text(form, "password_again")
    if not password:
        raise InvalidInput("password: " + _("type a password, or choose to generate one"))
    if password != again:
        raise InvalidInput(
            "password_again: " + _("the two passwords differ; type the same one twice")
        )
    return password, False


def _placed(error: CapError, fields: tuple[str, ...], _: Callable[[str], str]) -> dict[str, str]:
    """``error`` next to its field, in the page's language when the catalog has its words."""
    if isinstance(error, LastAdmin):
        message = _(
            "%(email)s is the last active administrator; make someone else an administrator first"
        ) % {"email": error.email}
        return {fields[0]: message}
    if isinstance(error, AlreadyExists):
        return {"email": _("a user with this email address exists already")}
    return {field: _(message) for field, message in field_errors(error, fields).items()}


def _status(error: CapError) -> int:
    return 400 if isinstance(error, InvalidInput) else 409


def routes(site: Site, router: APIRouter) -> None:
    workflow = site.workflow

    def admin(request: Request) -> UserView:
        return site.user(request, Permission.MANAGE_USERS)

    def notice_of(request: Request) -> str | None:
        notice = request.session.pop(_NOTICE, None)
        return notice if isinstance(notice, str) else None

    @router.get("/users", response_class=HTMLResponse)
    def users(request: Request) -> Response:
        admin(request)
        return site.render(request, "users.html", {
            "users": workflow.list_users(), "notice": notice_of(request),
        })  # fmt: skip

    def new_form(
        request: Request,
        values: Mapping[str, str],
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        return site.render(request, "users_new.html", {
            "values": values, "errors": errors or {}, "staff_roles": list(StaffRole),
        }, status_code=status_code)  # fmt: skip

    @router.get("/users/new", response_class=HTMLResponse)
    def new_user(request: Request) -> Response:
        admin(request)
        return new_form(request, {"role": StaffRole.VIEWER.value, "choice": GENERATE})

    @router.post("/users/new", response_class=HTMLResponse)
    def add_user(request: Request, form: Form) -> Response:
        admin(request)
        _ = site.gettext(request)
        # Never the passwords: a form sent back does not carry them.
        values = {name: _text(form, name).strip() for name in ("email", "name", "role", "choice")}
        try:
            email = values["email"]
            if not email:
                raise InvalidInput("email: " + _("enter the address they will sign in with"))
            if len(email) > _EMAIL_MAX_LENGTH:
                raise InvalidInput("email: " + _("too long for an email address; check it"))
            try:
                email_address(email)
            except ValueError:
                raise InvalidInput(
                    "email: " + _("not an email address in ASCII letters; check what you typed")
                ) from None
            role = _role(values["role"], _)
            password, generated = _password(form, _)
            view = workflow.add_user(email, role, password, name=values["name"] or None,
                                     now=site.now())  # fmt: skip
        except CapError as error:
            return new_form(request, values, _placed(error, NEW_USER_FIELDS, _), _status(error))
        if generated:
            return shown_once(request, view, password, added=True)
        request.session[_NOTICE] = _("%(email)s was added and can sign in now.") % {
            "email": view.email
        }
        return see_other(f"/users/{view.id}")

    def shown_once(request: Request, view: UserView, password: str, *, added: bool) -> Response:
        """The generated password, on this page only: the answer to the form, never cached."""
        return site.render(request, "users_password.html", {
            "person": view, "password": password, "added": added,
        }, status_code=201 if added else 200)  # fmt: skip

    def user_page(
        request: Request,
        me: UserView,
        person: UserView,
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
        values: Mapping[str, Any] | None = None,
    ) -> Response:
        return site.render(request, "users_user.html", {
            "person": person, "me": me, "errors": errors or {}, "notice": notice_of(request),
            "staff_roles": list(StaffRole), "values": values or {"choice": GENERATE},
        }, status_code=status_code)  # fmt: skip

    def own_password_page(
        request: Request,
        me: UserView,
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        return site.render(request, "account_password.html", {
            "me": me, "errors": errors or {}, "notice": notice_of(request),
        }, status_code=status_code)  # fmt: skip

    @router.get("/account/password", response_class=HTMLResponse)
    def own_password(request: Request) -> Response:
        return own_password_page(request, site.user(request))

    @router.post("/account/password", response_class=HTMLResponse)
    def change_own_password(request: Request, form: Form) -> Response:
        me = site.user(request)  # every role: their own password
        _ = site.gettext(request)
        current, password = _text(form, "current"), _text(form, "password")
        try:
            if not current:
                raise InvalidInput("current: " + _("type your current password"))
            if not password:
                raise InvalidInput("password: " + _("type the new password"))
            if password != _text(form, "password_again"):
                raise InvalidInput(
                    "password_again: " + _("the two passwords differ; type the same one twice")
                )
            me = workflow.change_own_password(
                me.id, current, password, address=client_address(request), now=site.now()
            )
        except CapError as error:
            return own_password_page(request, me, _placed(error, OWN_PASSWORD_FIELDS, _),
                                     _status(error))  # fmt: skip
        # Every session of theirs ended with the old password: this one starts again.
        site.start_session(request, me)
        request.session[_NOTICE] = _(
            "Your password is changed; every other browser you were signed in on is signed out."
        )
        return see_other("/account/password")

    @router.get("/users/{user_id}", response_class=HTMLResponse)
    def user(request: Request, user_id: str) -> Response:
        me = admin(request)
        person = workflow.user_by_id(_user_id(user_id, site.gettext(request)))
        return user_page(request, me, person)

    def changed(request: Request, person: UserView, message: str) -> Response:
        request.session[_NOTICE] = message
        return see_other(f"/users/{person.id}")

    @router.post("/users/{user_id}/role", response_class=HTMLResponse)
    def set_role(request: Request, user_id: str, form: Form) -> Response:
        me = admin(request)
        _ = site.gettext(request)
        person = workflow.user_by_id(_user_id(user_id, _))
        try:
            role = _role(_text(form, "role"), _)
            if role == person.role:
                return see_other(f"/users/{person.id}")
            person = workflow.set_role_by_id(person.id, role)
        except CapError as error:
            return user_page(request, me, person, _placed(error, ("role",), _), _status(error))
        return changed(request, person, _(
            "%(email)s is now %(role)s and is signed out everywhere, to sign in again with the "
            "new role."
        ) % {"email": person.email, "role": _(label(person.role))})  # fmt: skip

    @router.post("/users/{user_id}/disable", response_class=HTMLResponse)
    def disable(request: Request, user_id: str) -> Response:
        me = admin(request)
        _ = site.gettext(request)
        person = workflow.user_by_id(_user_id(user_id, _))
        try:
            person = workflow.disable_user_by_id(person.id, now=site.now())
        except CapError as error:
            # Next to the button, whatever field the message names.
            [message] = _placed(error, ("user",), _).values()
            return user_page(request, me, person, {"disable": message}, _status(error))
        return changed(request, person, _(
            "%(email)s is disabled and signed out everywhere."
        ) % {"email": person.email})  # fmt: skip

    @router.post("/users/{user_id}/enable", response_class=HTMLResponse)
    def enable(request: Request, user_id: str) -> Response:
        me = admin(request)
        _ = site.gettext(request)
        person = workflow.user_by_id(_user_id(user_id, _))
        try:
            person = workflow.enable_user_by_id(person.id)
        except CapError as error:
            [message] = _placed(error, ("user",), _).values()
            return user_page(request, me, person, {"enable": message}, _status(error))
        return changed(request, person, _(
            "%(email)s can sign in again, with the same role and password."
        ) % {"email": person.email})  # fmt: skip

    @router.post("/users/{user_id}/sessions", response_class=HTMLResponse)
    def sign_out(request: Request, user_id: str) -> Response:
        admin(request)
        _ = site.gettext(request)
        person = workflow.end_sessions(_user_id(user_id, _))
        return changed(request, person, _(
            "%(email)s is signed out in every browser."
        ) % {"email": person.email})  # fmt: skip

    @router.post("/users/{user_id}/password", response_class=HTMLResponse)
    def set_password(request: Request, user_id: str, form: Form) -> Response:
        me = admin(request)
        _ = site.gettext(request)
        person = workflow.user_by_id(_user_id(user_id, _))
        choice = _text(form, "choice")
        try:
            password, generated = _password(form, _)
            person = workflow.set_password_by_id(person.id, password)
        except CapError as error:
            return user_page(request, me, person, _placed(error, PASSWORD_FIELDS, _),
                             _status(error), values={"choice": choice})  # fmt: skip
        if generated:
            return shown_once(request, person, password, added=False)
        return changed(request, person, _(
            "%(email)s has a new password and is signed out everywhere."
        ) % {"email": person.email})  # fmt: skip
