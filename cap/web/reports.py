"""The reports page at /reports: the figures of `cap report` (:meth:`Workflow.kpi_report`)
for a period chosen in the page's query (``from``, ``to``: a bookmark keeps it), each chart
an inline SVG followed by its table, the table being what a screen reader reads.

The period defaults to the current calendar quarter so far, in the buyer's time zone; a
missing ``from`` is the first day of the quarter of ``to``. A bad date is shown next to its
field, in the page's language, with 400 (as a bad filter of the findings list is). ``print``
shows the same figures without the menu and the form; cap.css's print rules do the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cap.domain.calendar import add_months
from cap.domain.model import Area, Severity
from cap.domain.permissions import Permission
from cap.errors import InvalidInput
from cap.web.labels import label
from cap.web.language import FORMAT_LOCALES, local_percent
from cap.web.site import Site, field_errors
from cap.workflow.reports import KpiReport

#: The longest period the page shows: a column per quarter must still fit a table.
MAX_YEARS = 5
#: The form's fields, as the query names them.
FIELDS = ("from", "to")
#: At most this much of a field's value is shown back in the form after an error.
_ECHOED = 40
#: Numbers as read in Sweden and in British English (the buyer's), as the templates' dates.

# The bar charts' own units (their viewBox); the page scales them to the width it has.
CHART_WIDTH = 600
_ROW = 26  # a bar and the space under it
_BAR = 18
_PAD = 5  # above the first bar and below the last
_CHAR = 8  # the width of a character of a label, about, at the charts' 14 units
_VALUE_ROOM = 48  # right of the longest bar, for its value


@dataclass(frozen=True)
class Numbers:
    """Figures as the page's language writes them: ``1 234`` and ``41,2`` in Swedish,
    ``1,234`` and ``41.2`` in English; ``n/a`` (translated) for a figure without findings."""

    locale: str
    none: str

    def count(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def days(self, value: float | None) -> str:
        """Days to a tenth, a whole number without its decimal: ``20``, ``41.2``."""
        if value is None:
            return self.none
        return format_decimal(value, format="#,##0.#", locale=self.locale)

    def percent(self, value: float | None) -> str:
        """A share to a tenth of a per cent, in the locale's own pattern: ``57.1%``,
        ``57,1 %``."""
        if value is None:
            return self.none
        return local_percent(value, self.locale, "0")


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in the chart's units."""

    name: str
    value: int
    shown: str  # the value as the page writes it
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart: a bar per name, lengths in proportion to the largest value
    (a chart of zeros has no length), the names left of the bars."""

    bars: tuple[Bar, ...]
    left: float  # where the bars start; the names end just before
    width: int = CHART_WIDTH
    bar_height: int = _BAR

    @property
    def height(self) -> int:
        return len(self.bars) * _ROW + 2 * _PAD

    @property
    def text_dy(self) -> float:
        """From a bar's top to the baseline of its name and value."""
        return _BAR / 2 + 4.5


def bar_chart(bars: Sequence[tuple[str, int]], shown: Callable[[int], str]) -> BarChart:
    """Where each bar of ``bars`` (name, value) goes; ``shown`` writes a value."""
    longest = max((len(name) for name, _ in bars), default=0)
    left = round(min(longest * _CHAR + 12, CHART_WIDTH / 2), 1)
    span = CHART_WIDTH - left - _VALUE_ROOM
    largest = max((value for _, value in bars), default=0)
    scale = span / largest if largest else 0.0
    return BarChart(
        bars=tuple(
            Bar(
                name=name,
                value=value,
                shown=shown(value),
                y=_PAD + i * _ROW + (_ROW - _BAR) / 2,
                width=round(value * scale, 2),
            )
            for i, (name, value) in enumerate(bars)
        ),
        left=left,
    )


def current_quarter(today: date) -> date:
    """The first day of the quarter ``today`` is in."""
    return date(today.year, (today.month - 1) // 3 * 3 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The period a query asks for: its dates, or the one error to show next to its field."""

    values: dict[str, str]  # the fields as typed (or as defaulted), for the form
    start: date | None = None
    end: date | None = None
    errors: dict[str, str] | None = None


def period_of(
    params: Sequence[tuple[str, str]],
    today: date,
    covered: tuple[int, int],
    _: Callable[[str], str],
    locale: str,
) -> Period:
    """The period of the query ``params`` on ``today``, in the calendar's ``covered`` years;
    the first thing wrong with it, in the page's language, else."""
    given = {field: [v.strip() for k, v in params if k == field] for field in FIELDS}
    values = {field: (found[-1] if found else "") for field, found in given.items()}

    def wrong(field: str, message: str) -> Period:
        # Typed back into the form, not the whole of a value far longer than a date.
        shown = {name: value[:_ECHOED] for name, value in values.items()}
        return Period(shown, errors={field: message})

    def day(value: date) -> str:
        return format_date(value, "medium", locale=locale)

    parsed: dict[str, date | None] = {}
    for field in FIELDS:
        if len(given[field]) > 1:
            return wrong(field, _("give one date"))
        try:
            parsed[field] = date.fromisoformat(values[field]) if values[field] else None
        except ValueError:
            return wrong(field, _("write the date as YYYY-MM-DD, for example %(example)s")
                         % {"example": today.isoformat()})  # fmt: skip
    end = parsed["to"] or today
    start = parsed["from"] or current_quarter(end)
    first, last = covered
    # A first day left out is the quarter of the last: the last is the one to correct.
    checked = [("from", start), ("to", end)] if parsed["from"] else [("to", end)]
    for field, value in checked:
        if not first <= value.year <= last:
            return wrong(field, _("the calendar counts the years %(first)s to %(last)s")
                         % {"first": first, "last": last})  # fmt: skip
    if start > today:
        return wrong("from", _("the period starts after today (%(today)s); nothing has "
                               "happened in it yet") % {"today": day(today)})  # fmt: skip
    if end < start:
        return wrong("to", _("the period ends before it starts; choose %(start)s or later")
                     % {"start": day(start)})  # fmt: skip
    latest = add_months(start, 12 * MAX_YEARS) - timedelta(days=1)
    if end > latest:
        return wrong("to", _("a period is at most %(years)s years; choose %(latest)s or "
                             "earlier") % {"years": MAX_YEARS, "latest": day(latest)})  # fmt: skip
    return Period({"from": start.isoformat(), "to": end.isoformat()}, start, end)


def routes(site: Site, router: APIRouter) -> None:

    @router.get("/reports", response_class=HTMLResponse)
    def reports(request: Request) -> HTMLResponse:
        site.user(request, Permission.READ)
        _ = site.gettext(request)
        locale = FORMAT_LOCALES[site.languages.of(request)]
        numbers = Numbers(locale, _("n/a"))
        now = site.now()
        calendar = site.settings.calendar
        period = period_of(request.query_params.multi_items(), calendar.local_date(now),
                           calendar.covered_years(), _, locale)  # fmt: skip
        printing = bool(request.query_params.get("print"))
        context = {"values": period.values, "errors": period.errors or {}, "numbers": numbers,
                   "printing": printing and not period.errors}  # fmt: skip
        if period.errors or period.start is None or period.end is None:
            return site.render(request, "reports.html", context, status_code=400)
        try:
            report = site.workflow.kpi_report(period.start, period.end, now=now)
        except InvalidInput as error:  # what the page's own checks let through
            context["errors"] = field_errors(error, FIELDS)
            return site.render(request, "reports.html", context, status_code=400)
        return site.render(
            request,
            "reports.html",
            {
                **context,
                "r": report,
                "areas": areas_logged(report),
                "severities": list(Severity),
                "overdue_chart": bar_chart(
                    [(_(label(a.area)), a.overdue) for a in report.overdue_by_area], numbers.count
                ),
                "logged_chart": bar_chart(
                    [
                        (format_date(q.first, "QQQ y", locale=locale), q.logged)
                        for q in report.quarters
                    ],
                    numbers.count,
                ),
                "print_url": "/reports?" + urlencode({**period.values, "print": "1"}),
                "back_url": "/reports?" + urlencode(period.values),
            },
        )


def areas_logged(report: KpiReport) -> list[Area]:
    """The areas with findings logged in the period, in the areas' order (as `cap report`)."""
    return [a for a in Area if any(q.by_area[a] for q in report.quarters)]
