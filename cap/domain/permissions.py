"""Who of the buyer's staff may do what: one policy for every edge that knows its users (the
web desk today, the API next). The command line is run by an operator and has no roles.

Everyone signed in may read everything. Contract managers log findings, follow them up, review
plans and verify fixes; sustainability managers decide in sanction reviews; a termination is
proposed by one person and approved by a different one who is a sustainability manager (the
two-person rule: the domain refuses the proposer, this policy everyone without the role).
"""

from __future__ import annotations

from enum import StrEnum

from cap.domain.model import Action, StaffRole, State


class Permission(StrEnum):
    """What a page or a form needs, beside reading."""

    READ = "read"  # every page that shows findings, suppliers, rules, the outbox
    LOG_FINDINGS = "log_findings"  # the log form, evidence uploads
    MANAGE_DIRECTORY = "manage_directory"  # create and edit suppliers and contracts
    RETRY_MAIL = "retry_mail"  # send a failed email again
    MANAGE_USERS = "manage_users"  # add, disable, change the role of users
    RECORD_REPORTS = "record_reports"  # receive, extend or waive a contract's report


_STAFF = frozenset(StaffRole)
_PERMISSIONS: dict[Permission, frozenset[StaffRole]] = {
    Permission.READ: _STAFF,
    Permission.LOG_FINDINGS: frozenset({StaffRole.CONTRACT_MANAGER}),
    Permission.MANAGE_DIRECTORY: frozenset({StaffRole.CONTRACT_MANAGER, StaffRole.ADMIN}),
    Permission.RETRY_MAIL: frozenset(
        {StaffRole.CONTRACT_MANAGER, StaffRole.SUSTAINABILITY_MANAGER, StaffRole.ADMIN}
    ),
    Permission.MANAGE_USERS: frozenset({StaffRole.ADMIN}),
    # The contract manager receives the report; an escalated one is the sustainability
    # manager's to settle as well (extend or waive), as a sanction review is.
    Permission.RECORD_REPORTS: frozenset(
        {StaffRole.CONTRACT_MANAGER, StaffRole.SUSTAINABILITY_MANAGER}
    ),
}

_FOLLOW_UP = frozenset({StaffRole.CONTRACT_MANAGER})
_DECIDE = frozenset({StaffRole.SUSTAINABILITY_MANAGER})
_EITHER = _FOLLOW_UP | _DECIDE
#: The actions of a sanction review: decisions, the sustainability manager's.
_SANCTION_DECISIONS = frozenset(
    {Action.EXTEND, Action.RESUME, Action.WARN, Action.PENALISE, Action.TERMINATE}
)
_ACTIONS: dict[Action, frozenset[StaffRole]] = {
    Action.NOTIFY: _FOLLOW_UP,
    # On the supplier's behalf, for a plan that came by email or post.
    Action.SUBMIT_PLAN: _FOLLOW_UP,
    Action.ACCEPT_PLAN: _FOLLOW_UP,
    Action.REJECT_PLAN: _FOLLOW_UP,
    Action.REPORT_REMEDIATION: _FOLLOW_UP,
    Action.VERIFY: _FOLLOW_UP,
    Action.REJECT_REMEDIATION: _FOLLOW_UP,
    Action.ESCALATE: _EITHER,
    # On the supplier's behalf, for a request that came by email, post or phone.
    Action.REQUEST_EXTENSION: _FOLLOW_UP,
    # Outside a sanction review, granting a supplier more time is the contract manager's call,
    # and so is refusing it.
    Action.EXTEND: _FOLLOW_UP,
    Action.DECLINE_EXTENSION: _FOLLOW_UP,
    Action.RESUME: _DECIDE,
    Action.WARN: _DECIDE,
    Action.PENALISE: _DECIDE,
    Action.TERMINATE: _DECIDE,
    Action.APPROVE_TERMINATION: _DECIDE,
    Action.WITHDRAW: _FOLLOW_UP,
}


def allows(role: StaffRole, permission: Permission) -> bool:
    return role in _PERMISSIONS[permission]


def may_act(role: StaffRole, action: Action, state: State) -> bool:
    """Whether someone with ``role`` may take ``action`` on a finding in ``state`` (whether the
    state allows the action at all is the lifecycle's question)."""
    if state is State.SANCTION_REVIEW and action in _SANCTION_DECISIONS:
        return role in _DECIDE
    return role in _ACTIONS[action]


def roles_for(action: Action, state: State) -> frozenset[StaffRole]:
    """The roles that may take ``action`` in ``state``: for the message that says who can."""
    return frozenset(role for role in StaffRole if may_act(role, action, state))
