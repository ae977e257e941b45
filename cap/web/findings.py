"""The findings list at /findings: filters in the URL, search, sort, pages, CSV export.

The filters are the page's query (cap.workflow.listing.parse_query), so a list can be
bookmarked and shared; a bad parameter is a 400 page naming it. With htmx the filter form
fetches only the results (``HX-Request``); without JavaScript it submits and the whole page
comes back. The export has every finding the filters let through, in the list's order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from cap.domain.model import Area, Severity, State
from cap.domain.permissions import Permission
from cap.errors import InvalidInput
from cap.web.labels import N_
from cap.web.site import PRIVATE, Site
from cap.workflow.listing import SORTS, FindingQuery, ListedFinding, parse_query

#: The list's columns by the ``sort`` value that sorts by them, as their headers say.
COLUMNS: dict[str, str] = {
    "ref": N_("Reference"),
    "title": N_("Title"),
    "supplier": N_("Supplier"),
    "contract": N_("Contract"),
    "state": N_("State"),
    "severity": N_("Severity"),
    "area": N_("Area"),
    "due": N_("Due"),
    "found_on": N_("Found on"),
}
assert tuple(COLUMNS) == SORTS

#: The export's header row: English, for the machines that read it.
CSV_HEADER = (
    "ref", "state", "severity", "area", "title", "supplier", "supplier org number",
    "contract", "site", "found on", "current deadline", "due", "overdue", "escalation level",
)  # fmt: skip
#: A spreadsheet takes a cell starting with one of these for a formula (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Rows written out at a time.
_CSV_CHUNK = 500


def list_url(path: str, query: FindingQuery, **changes: Any) -> str:
    """``path`` with the query of ``query`` changed by ``changes`` (a sort, a page)."""
    params = replace(query, **changes).params(page=path == "/findings")
    return f"{path}?{urlencode(params)}" if params else path


def routes(site: Site, router: APIRouter) -> None:

    @router.get("/findings", response_class=HTMLResponse)
    def findings(request: Request) -> Response:
        site.user(request, Permission.READ)
        query = parse_query(request.query_params.multi_items())
        page = site.workflow.findings_page(query, now=site.now())
        _ = site.gettext(request)

        def url(**changes: Any) -> str:
            return list_url("/findings", query, **changes)

        context = {
            "page": page,
            "query": query,
            "url": url,
            "csv_url": list_url("/findings.csv", query),
            "excel_url": _with(list_url("/findings.csv", query), sep="semicolon"),
            "columns": {key: _(name) for key, name in COLUMNS.items()},
            "states": list(State),
            "areas": list(Area),
            "severities": list(Severity),
        }
        # htmx asks for the results alone; restoring a page from its history it wants it all.
        partial = request.headers.get("hx-request") == "true" and (
            request.headers.get("hx-history-restore-request") != "true"
        )
        template = "findings_results.html" if partial else "findings.html"
        return site.render(request, template, context, headers={"vary": "HX-Request"})

    @router.get("/findings.csv")
    def findings_csv(request: Request) -> Response:
        site.user(request, Permission.READ)
        params = request.query_params.multi_items()
        delimiter = _delimiter([v for k, v in params if k == "sep"])
        query = parse_query([(k, v) for k, v in params if k != "sep"])
        now = site.now()
        today = site.settings.calendar.local_date(now)
        rows = site.workflow.export_findings(query, now=now)
        return StreamingResponse(
            csv_chunks(rows, delimiter),
            media_type="text/csv; charset=utf-8",
            headers={
                **PRIVATE,
                "content-disposition": f'attachment; filename="findings-{today.isoformat()}.csv"',
            },
        )


#: The export's separators by their ``sep`` parameter: commas (RFC 4180), or semicolons, what
#: Excel expects where the decimal separator is a comma (Swedish among others).
SEPARATORS = {"comma": ",", "semicolon": ";"}


def _delimiter(given: list[str]) -> str:
    """The separator ``sep`` asks for (commas when it is left out)."""
    values = [v.strip() for v in given if v.strip()]
    if len(values) > 1:
        raise InvalidInput("sep: give it once")
    if values and values[0] not in SEPARATORS:
        raise InvalidInput("sep: choose comma or semicolon")
    return SEPARATORS[values[0]] if values else ","


def csv_chunks(rows: Iterable[ListedFinding], delimiter: str = ",") -> Iterator[bytes]:
    """``rows`` as CSV in UTF-8 with a byte order mark (how Excel knows it is UTF-8), the
    header first, a chunk of rows at a time, cells separated by ``delimiter``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    for count, row in enumerate(rows, start=1):
        writer.writerow(csv_row(row))
        if count % _CSV_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _with(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query."""
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _drain(buffer: io.StringIO) -> bytes:
    chunk = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return chunk


def csv_row(f: ListedFinding) -> list[str]:
    """One finding's cells, each safe to open in a spreadsheet: the text people wrote is
    neutralised; names from cap's vocabulary, dates and yes/no cannot start a formula."""
    return [
        neutralised(f.ref), f.state.value, f.severity.value, f.area.value, neutralised(f.title),
        neutralised(f.supplier), neutralised(f.supplier_org_number), neutralised(f.contract),
        neutralised(f.site or ""), f.found_on.isoformat(),
        f.current_deadline.value if f.current_deadline else "",
        f.due.isoformat() if f.due else "", "yes" if f.overdue else "no",
        neutralised(str(f.escalation_level)),
    ]  # fmt: skip


def neutralised(cell: str) -> str:
    """``cell`` as text a spreadsheet shows and never runs: a leading ``'`` before what would
    start a formula."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell
