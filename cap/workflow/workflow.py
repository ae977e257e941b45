"""The one entry point of the use cases: every concern's, over one database and settings."""

from __future__ import annotations

from cap.workflow.answers import Answers
from cap.workflow.audits import Audits
from cap.workflow.calendars import Calendars
from cap.workflow.casefile import CaseFiles
from cap.workflow.dashboard import Dashboards
from cap.workflow.directory import Directory
from cap.workflow.findings import Findings
from cap.workflow.links import Links
from cap.workflow.listing import Listings
from cap.workflow.mail import Mail
from cap.workflow.obligations import Obligations
from cap.workflow.queries import Queries
from cap.workflow.reports import Reports
from cap.workflow.risk import Risks
from cap.workflow.sharing import Sharing
from cap.workflow.sweeps import Sweeps
from cap.workflow.tokens import Tokens
from cap.workflow.users import Users


class Workflow(
    Answers,
    Directory,
    Findings,
    Queries,
    Listings,
    Dashboards,
    CaseFiles,
    Sweeps,
    Mail,
    Users,
    Links,
    Tokens,
    Reports,
    Calendars,
    Risks,
    Audits,
    Sharing,
    Obligations,
):
    """The use cases of cap over one database and one configuration.

    Each public method is one database transaction: all of it commits, or none. The edges
    (CLI, web, worker) call them with ``now`` read once from the clock and get typed results
    (:mod:`cap.workflow.results`); the domain decides, the use cases load and write. A finding
    is written with an optimistic lock (``WHERE version = <version when loaded>``) so two
    people acting at once never lose an update.
    """
