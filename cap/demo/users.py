"""The demo's people at the desk: one user for each role, two sustainability managers.

The contract manager manages seeded contracts (the desk's "waiting for my review" has
something in it); the sustainability managers are the one who proposed the seeded sanction
review's termination and another, who may approve it (the two-person rule). Every password is
new and random on each run: the demo may listen on an address others can reach.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from cap.demo.parties import ANNA, BO, CECILIA, JOHAN, SOFIA
from cap.domain.model import StaffRole
from cap.workflow import Workflow

#: (role, email, name), in the order they are printed.
PEOPLE: tuple[tuple[StaffRole, str, str], ...] = (
    (StaffRole.ADMIN, JOHAN, "Johan Falk"),
    (StaffRole.CONTRACT_MANAGER, ANNA, "Anna Lind"),
    (StaffRole.SUSTAINABILITY_MANAGER, CECILIA, "Cecilia Berg"),
    (StaffRole.SUSTAINABILITY_MANAGER, BO, "Bo Nilsson"),
    (StaffRole.VIEWER, SOFIA, "Sofia Åkesson"),
)


@dataclass(frozen=True)
class DemoLogin:
    """A demo user and the password they sign in with (shown once, never stored in clear)."""

    role: StaffRole
    email: str
    name: str
    password: str


def new_password() -> str:
    """Random, URL-safe, 16 characters (96 bits): above the desk's minimum length."""
    return secrets.token_urlsafe(12)


def add_users(workflow: Workflow, *, now: datetime) -> tuple[DemoLogin, ...]:
    """Add :data:`PEOPLE` to a database that has none of them, each with a new random
    password, through :meth:`Workflow.add_user` (argon2, the recommended parameters); returns
    their logins in :data:`PEOPLE`'s order. Raises AlreadyExists if one of them is there."""
    logins = []
    for role, email, name in PEOPLE:
        password = new_password()
        view = workflow.add_user(email, role, password, name=name, now=now)
        logins.append(DemoLogin(role=view.role, email=view.email, name=name, password=password))
    return tuple(logins)
