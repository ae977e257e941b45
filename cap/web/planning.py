"""The planning page at /planning: a year's saved audit plan (:meth:`Workflow.show_audit_plan`)
with the audits recorded against it, and below it the suppliers' risk ranking today
(:meth:`Workflow.supplier_risks`), the ranking a plan made today would choose from.

Read-only: a plan is made on the command line (`cap plan audits`); the page says so, and for
a year without a plan gives the command that makes one. The year is the page's query
(``year``: a bookmark keeps it), by default the current year in the buyer's time zone. A bad
year is shown next to its field, in the page's language, with 400 (as on the reports page).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cap.domain.permissions import Permission
from cap.domain.planning import AuditKind, parse_capacity
from cap.errors import InvalidInput, NotFound
from cap.web.labels import N_
from cap.web.language import FORMAT_LOCALES, local_percent, translations
from cap.web.site import Site
from cap.workflow.audits import AuditPlanView, AuditView

#: How many suppliers of the risk ranking the page shows, the highest scores.
RANKED = 20
#: The capacity the page suggests in the command that makes a plan (the README's example).
SUGGESTED_CAPACITY = "15%"
#: At most this much of the year as typed is shown back in the form after an error.
_ECHOED = 40
_YEAR = re.compile(r"[0-9]{1,9}")
#: Numbers as read in Sweden and in British English (the buyer's), as the templates' dates.

#: The risk factors (cap.domain.risk.FACTORS) as the page names them.
FACTOR_NAMES = {
    "country": N_("country"),
    "freedom_of_association": N_("freedom of association"),
    "working_time": N_("working time"),
    "gender_inequality": N_("gender inequality"),
    "contract_value": N_("contract value"),
    "open_findings": N_("open findings"),
    "past_findings": N_("past findings"),
    "last_audit": N_("time since the last audit"),
}
KIND_NAMES = {AuditKind.DESKTOP: N_("desktop audit"), AuditKind.SITE: N_("site audit")}


@dataclass(frozen=True)
class Figures:
    """Scores and capacities as the page's language writes them: ``41.2`` and ``15%`` in
    English, ``41,2`` and ``15 %`` in Swedish. Years are never grouped (``2026``)."""

    locale: str

    def count(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def score(self, value: float) -> str:
        """A score to a tenth, as the plan's reasons and `cap risk list` give it."""
        return format_decimal(value, format="#,##0.0", locale=self.locale)

    def percent(self, value: float) -> str:
        """A share of 100 to at most two decimals, in the locale's own pattern."""
        return local_percent(value / 100, self.locale, "##")


@dataclass(frozen=True)
class Year:
    """The year a query asks for, or the one error to show next to its field."""

    value: str  # as typed (or defaulted), for the form
    year: int | None = None
    error: str | None = None


def year_of(
    params: Sequence[tuple[str, str]],
    current: int,
    covered: tuple[int, int],
    _: Callable[[str], str],
) -> Year:
    """The year of the query ``params`` (``current`` when none is given), in the calendar's
    ``covered`` years; the first thing wrong with it, in the page's language, else."""
    given = [v.strip() for k, v in params if k == "year"]
    value = given[-1] if given else ""
    if len(given) > 1:
        return Year(value[:_ECHOED], error=_("give one year"))
    if not value:
        return Year(str(current), current)
    if not _YEAR.fullmatch(value):
        return Year(value[:_ECHOED], error=_("write the year as four digits, for example "
                                             "%(example)s") % {"example": current})  # fmt: skip
    year, (first, last) = int(value), covered
    if not first <= year <= last:
        return Year(value, error=_("the calendar counts the years %(first)s to %(last)s")
                    % {"first": first, "last": last})  # fmt: skip
    return Year(str(year), year)


def capacity_text(plan: AuditPlanView, figures: Figures, _: Callable[[str], str],
                  ngettext: Callable[[str, str, int], str]) -> str:  # fmt: skip
    """The plan's capacity in words: a share of the suppliers in force, or a number."""
    try:
        capacity = parse_capacity(plan.capacity)
    except InvalidInput:  # saved by an older rule: as it was given
        return plan.capacity
    if capacity.percent is not None:
        return _("%(share)s of the suppliers with a contract in force in %(year)s") % {
            "share": figures.percent(float(capacity.percent)), "year": plan.year
        }  # fmt: skip
    count = capacity.count or 0
    return ngettext("%(num)s audit", "%(num)s audits", count) % {"num": figures.count(count)}


def recorded_against(
    plan: AuditPlanView, audits: Sequence[AuditView]
) -> dict[int, list[AuditView]]:
    """The audits recorded against ``plan``, by the audit ids the plan gives, each supplier's
    in the order they were held."""
    by_id = {a.id: a for a in audits}
    return {
        i: sorted((by_id[a] for a in c.audits if a in by_id), key=lambda a: (a.held_on, a.id))
        for i, c in enumerate(plan.chosen)
    }


def routes(site: Site, router: APIRouter) -> None:

    @router.get("/planning", response_class=HTMLResponse)
    def planning(request: Request) -> HTMLResponse:
        site.user(request, Permission.READ)
        language = site.languages.of(request)
        catalog = translations(language)
        _ = catalog.gettext
        figures = Figures(FORMAT_LOCALES[language])
        now = site.now()
        calendar = site.settings.calendar
        today = calendar.local_date(now)
        asked = year_of(request.query_params.multi_items(), today.year,
                        calendar.covered_years(), _)  # fmt: skip
        context = {"value": asked.value, "errors": {"year": asked.error} if asked.error else {},
                   "figures": figures, "factor_names": FACTOR_NAMES, "kind_names": KIND_NAMES,
                   "covered": calendar.covered_years(), "current": today.year}  # fmt: skip
        if asked.year is None:
            return site.render(request, "planning.html", context, status_code=400)
        year = asked.year
        try:
            plan: AuditPlanView | None = site.workflow.show_audit_plan(year)
        except NotFound:
            plan = None
        audits: dict[int, list[AuditView]] = {}
        capacity = ""
        if plan is not None:
            audits = recorded_against(plan, site.workflow.list_audits())
            capacity = capacity_text(plan, figures, _, catalog.ngettext)
        risks = site.workflow.supplier_risks(now=now)
        return site.render(
            request,
            "planning.html",
            {
                **context,
                "year": year,
                "plan": plan,
                "capacity": capacity,
                "audits": audits,
                "recorded": sum(len(a) for a in audits.values()),
                "ranking": risks[:RANKED],
                "suppliers": len(risks),
                "as_of": today,
                "command": f"cap plan audits --year {year} --capacity {SUGGESTED_CAPACITY}",
            },
        )
