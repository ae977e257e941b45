"""Use cases: the people who sign in to the desk, their roles, and signing in.

Passwords are hashed with argon2 (argon2-cffi); a password never appears in a message, a log
or a result. Failed sign-ins are counted in the database, so that every web process throttles
the same guesser.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, delete, select, update
from sqlmodel import Session, col

from cap.domain.inputs import email_address
from cap.domain.model import Language, StaffRole
from cap.errors import ActionRefused, AlreadyExists, InvalidInput, NotFound
from cap.store.models import LoginFailure, User, address_key
from cap.workflow.base import UseCases
from cap.workflow.results import LoginRefusal, LoginResult, UserView

if TYPE_CHECKING:
    from argon2 import PasswordHasher

PASSWORD_MIN_LENGTH = 12
# argon2 hashes any length, at a cost: a megabyte "password" is a cheap way to burn a server.
PASSWORD_MAX_LENGTH = 1024
#: Failed sign-ins that lock an account, or a client address, for the rest of the window.
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
FAILURE_WINDOW = timedelta(minutes=15)

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
ADDRESS_LENGTH = 64  # the column's; an IPv6 address with its zone fits
#: A generated password's letters: none that are easy to misread (0/O, 1/l/I) when it is
#: read out over the phone or copied from a screen.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Why the last active administrator may not be disabled or given another role.
LAST_ADMIN = "is the last active administrator; make someone else an administrator first"


class LastAdmin(ActionRefused):
    """The last active administrator cannot be disabled or given another role on the desk."""

    def __init__(self, field: str, email: str) -> None:
        super().__init__(f"{field}: {email} {LAST_ADMIN}")
        self.email = email


def generate_password(groups: int = 4, size: int = 5) -> str:
    """A random password to hand to someone, such as ``k7mqe-2wdrp-x9tab-hv3nc``: 20 letters
    and digits from :data:`_PASSWORD_ALPHABET` (about 99 bits), in groups easy to read out."""
    return "-".join(
        "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(size)) for _ in range(groups)
    )


def check_password(password: str) -> None:
    """InvalidInput naming the password field (never repeating it) if it may not be used."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise InvalidInput(
            f"password: too short; use at least {PASSWORD_MIN_LENGTH} characters "
            "(a few words make one easy to remember)"
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise InvalidInput(f"password: too long; use at most {PASSWORD_MAX_LENGTH} characters")
    if _CONTROL.search(password):
        raise InvalidInput("password: must be one line without control characters; type it again")


#: How an address is compared: addresses are ASCII (see email_address) and their case means
#: nothing to people, so lower case is enough (a contract's manager is matched the same way).
email_key = address_key


@cache
def _default_hasher() -> PasswordHasher:
    # Imported when a password is first hashed: most commands never need argon2.
    from argon2 import PasswordHasher

    return PasswordHasher()


@cache
def _decoy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when no user has the address: the refusal then takes as long
    as a wrong password's, and its timing does not tell that the account does not exist."""
    return hasher.hash(secrets.token_urlsafe(16))


def user_view(user: User) -> UserView:
    assert user.id is not None
    return UserView(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        language=user.language,
        created_at=user.created_at,
        disabled_at=user.disabled_at,
        session_version=user.session_version,
    )


def _user_by_email(session: Session, email: str) -> User:
    user: User | None = (
        session.execute(select(User).where(col(User.email_key) == email_key(email)))
        .scalars()
        .first()
    )
    if user is None:
        raise NotFound(f"email: no user {email.strip()}", see="cap user list")
    return user


def _user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user: no user with id {user_id}", see="cap user list")
    return user


def _keep_an_admin(session: Session, user: User, *, field: str) -> None:
    """:class:`LastAdmin` naming ``field`` when ``user`` is the last active administrator: the desk
    would have nobody left to manage its people (only the command line could)."""
    if user.role is not StaffRole.ADMIN or user.disabled_at is not None:
        return
    # FOR UPDATE: two administrators disabling each other at once on PostgreSQL must not
    # both see the other still active (SQLite's write transactions run one at a time).
    admins = session.execute(
        select(col(User.id))
        .where(col(User.role) == StaffRole.ADMIN, col(User.disabled_at).is_(None))
        .with_for_update()
    ).scalars()
    if all(admin == user.id for admin in admins):
        raise LastAdmin(field, user.email)


def _name(name: str | None) -> str | None:
    if name is None or not name.strip():
        return None
    name = name.strip()
    if _CONTROL.search(name):
        raise InvalidInput("name: must be one line without control characters")
    if len(name) > 200:
        raise InvalidInput("name: too long; use at most 200 characters")
    return name


def wait_minutes(
    session: Session, where: ColumnElement[bool], limit: int, now: datetime
) -> int | None:
    """Minutes until fewer than ``limit`` failures matching ``where`` fall in the window, or
    None if there are fewer already."""
    recent: list[datetime] = list(
        session.execute(
            select(col(LoginFailure.at))
            .where(where, col(LoginFailure.at) > now - FAILURE_WINDOW)
            .order_by(col(LoginFailure.at).desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if len(recent) < limit:
        return None
    # The lock lifts when the limit-th most recent failure leaves the window.
    left = recent[-1] + FAILURE_WINDOW - now
    return max(1, math.ceil(left / timedelta(minutes=1)))


class Users(UseCases):
    #: None: argon2-cffi's recommended parameters. A stored hash made with other parameters
    #: is redone at its user's next successful sign-in.
    password_hasher: PasswordHasher | None = None

    def _hasher(self) -> PasswordHasher:
        return self.password_hasher or _default_hasher()

    def add_user(
        self,
        email: str,
        role: StaffRole,
        password: str,
        *,
        name: str | None = None,
        language: Language | None = None,
        now: datetime,
    ) -> UserView:
        """Give someone access to the desk with ``role``."""
        try:
            email = email_address(email)
        except ValueError as exc:
            raise InvalidInput(f"email: {exc}") from None
        name = _name(name)
        check_password(password)
        # Hashed before the transaction: it takes a tenth of a second, the write lock need not.
        password_hash = self._hasher().hash(password)
        with self.db.write() as session:
            taken = session.execute(
                select(col(User.email)).where(col(User.email_key) == email_key(email))
            ).scalar()
            if taken is not None:
                raise AlreadyExists(f"email: a user {taken} already exists")
            user = User(
                email=email,
                email_key=email_key(email),
                name=name,
                role=role,
                password_hash=password_hash,
                language=language,
                created_at=now,
            )
            session.add(user)
            session.flush()
            return user_view(user)

    def list_users(self) -> list[UserView]:
        """Everyone, disabled or not, by email address."""
        with self.db.read() as session:
            users = session.execute(select(User).order_by(col(User.email_key))).scalars()
            return [user_view(u) for u in users]

    def disable_user(self, email: str, *, now: datetime) -> UserView:
        """Take away someone's access; their sessions end (their user stays, for the record).
        From the command line even the last administrator's: whoever runs it can add one."""
        return self._disable(lambda session: _user_by_email(session, email), now, "email", None)

    def disable_user_by_id(self, user_id: int, *, now: datetime) -> UserView:
        """:meth:`disable_user` for the desk, where the last active administrator stays."""
        return self._disable(lambda session: _user_by_id(session, user_id), now, "user", "user")

    def enable_user(self, email: str) -> UserView:
        """Give a disabled user their access back, with their role and password as they were
        (their old sessions stay ended: they sign in again)."""
        return self._enable(lambda session: _user_by_email(session, email), "email")

    def enable_user_by_id(self, user_id: int) -> UserView:
        """:meth:`enable_user` for the desk."""
        return self._enable(lambda session: _user_by_id(session, user_id), "user")

    def set_role(self, email: str, role: StaffRole) -> UserView:
        """Give someone another role; their sessions end, to start again with the new one."""
        return self._set_role(lambda session: _user_by_email(session, email), role, None)

    def set_role_by_id(self, user_id: int, role: StaffRole) -> UserView:
        """:meth:`set_role` for the desk, where the last active administrator keeps the role."""
        return self._set_role(lambda session: _user_by_id(session, user_id), role, "role")

    def set_password(self, email: str, password: str) -> UserView:
        """Replace someone's password; their sessions end."""
        return self._set_password(lambda session: _user_by_email(session, email), password)

    def set_password_by_id(self, user_id: int, password: str) -> UserView:
        return self._set_password(lambda session: _user_by_id(session, user_id), password)

    def change_own_password(
        self, user_id: int, current: str, new: str, *, address: str, now: datetime
    ) -> UserView:
        """A user's own new password, given their current one: checked as a sign-in is
        (a wrong one counts towards the same throttle), then set; every other session ends.
        InvalidInput naming ``current`` for a wrong or throttled current password."""
        check_password(new)
        user = self.user_by_id(user_id)
        result = self.authenticate(user.email, current, address, now)
        if result.user is None:
            if result.refusal is LoginRefusal.THROTTLED:
                raise InvalidInput(
                    "current: too many wrong passwords; wait a few minutes and try again"
                )
            raise InvalidInput("current: this is not your current password")
        return self.set_password_by_id(user_id, new)

    def user_by_id(self, user_id: int) -> UserView:
        with self.db.read() as session:
            return user_view(_user_by_id(session, user_id))

    def _disable(
        self, find: Callable[[Session], User], now: datetime, field: str, keep_admin: str | None
    ) -> UserView:
        """``keep_admin``: the field to name when the last active administrator is refused;
        None lets them go."""
        with self.db.write() as session:
            user = find(session)
            if user.disabled_at is not None:
                raise ActionRefused(
                    f"{field}: {user.email} is already disabled (since "
                    f"{user.disabled_at.date().isoformat()})"
                )
            if keep_admin is not None:
                _keep_an_admin(session, user, field=keep_admin)
            user.disabled_at = now
            user.session_version += 1
            return user_view(user)

    def _enable(self, find: Callable[[Session], User], field: str) -> UserView:
        with self.db.write() as session:
            user = find(session)
            if user.disabled_at is None:
                raise ActionRefused(f"{field}: {user.email} is not disabled")
            user.disabled_at = None
            return user_view(user)

    def _set_role(
        self, find: Callable[[Session], User], role: StaffRole, keep_admin: str | None
    ) -> UserView:
        with self.db.write() as session:
            user = find(session)
            if user.role != role:
                if keep_admin is not None:
                    _keep_an_admin(session, user, field=keep_admin)
                user.role = role
                user.session_version += 1
            return user_view(user)

    def _set_password(self, find: Callable[[Session], User], password: str) -> UserView:
        check_password(password)
        # Hashed before the transaction: it takes a tenth of a second, the write lock need not.
        password_hash = self._hasher().hash(password)
        with self.db.write() as session:
            user = find(session)
            user.password_hash = password_hash
            user.session_version += 1
            return user_view(user)

    def set_language(self, user_id: int, language: Language) -> UserView:
        """The language of someone's pages, in every browser they sign in from; their
        sessions go on."""
        with self.db.write() as session:
            user = _user_by_id(session, user_id)
            user.language = language
            return user_view(user)

    def end_sessions(self, user_id: int) -> UserView:
        """Sign someone out in every browser (a lost laptop, a shared computer): every session
        cookie issued so far carries the old ``session_version``."""
        with self.db.write() as session:
            user = _user_by_id(session, user_id)
            user.session_version += 1
            return user_view(user)

    def session_user(self, user_id: int, session_version: int) -> UserView | None:
        """Who a session belongs to, or None when it has ended: the user is gone or disabled,
        or was given another role or password since (``session_version`` moved on)."""
        with self.db.read() as session:
            user = session.get(User, user_id)
            if user is None or user.disabled_at is not None:
                return None
            if user.session_version != session_version:
                return None
            return user_view(user)

    def authenticate(self, email: str, password: str, address: str, now: datetime) -> LoginResult:
        """Sign in: the user, or why not. After :data:`ACCOUNT_FAILURE_LIMIT` failures for one
        address typed, or :data:`ADDRESS_FAILURE_LIMIT` from one client ``address``, within
        :data:`FAILURE_WINDOW`, every attempt is refused until the oldest of them leaves it."""
        from argon2.exceptions import InvalidHashError, VerificationError

        key = email_key(email)
        address = address[:ADDRESS_LENGTH]
        hasher = self._hasher()
        with self.db.read() as session:
            waits = [
                wait_minutes(
                    session, col(LoginFailure.email_key) == key, ACCOUNT_FAILURE_LIMIT, now
                ),
                wait_minutes(
                    session, col(LoginFailure.address) == address, ADDRESS_FAILURE_LIMIT, now
                ),
            ]
            user = session.execute(select(User).where(col(User.email_key) == key)).scalars().first()
        if any(w is not None for w in waits):
            # Refused before checking the password: a locked guesser learns nothing more.
            wait = max(w for w in waits if w is not None)
            return LoginResult(None, LoginRefusal.THROTTLED, wait)
        # Outside any transaction: argon2 takes tens of milliseconds on purpose, and on SQLite a
        # write transaction would hold every other writer (sweeps, actions) that long.
        try:
            hasher.verify(user.password_hash if user else _decoy_hash(hasher), password)
            matched = user is not None
        except (VerificationError, InvalidHashError):
            matched = False
        rehashed = (
            hasher.hash(password)
            if user is not None and matched and hasher.check_needs_rehash(user.password_hash)
            else None
        )
        with self.db.write() as session:
            # Failures out of the window count no more: keep the table as small as the window.
            session.execute(
                delete(LoginFailure).where(col(LoginFailure.at) <= now - FAILURE_WINDOW)
            )
            if user is None or not matched:
                session.add(LoginFailure(email_key=key, address=address, at=now))
                return LoginResult(None, LoginRefusal.WRONG_CREDENTIALS)
            if user.disabled_at is not None:
                return LoginResult(None, LoginRefusal.DISABLED)
            session.execute(delete(LoginFailure).where(col(LoginFailure.email_key) == key))
            if rehashed is not None:
                # Only over the hash that was checked: a password changed meanwhile stays.
                session.execute(
                    update(User)
                    .where(col(User.id) == user.id, col(User.password_hash) == user.password_hash)
                    .values(password_hash=rehashed)
                )
            return LoginResult(user_view(user))
