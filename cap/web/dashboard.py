"""The dashboard at /desk: what is overdue, due soon, waiting for me; suppliers' traffic lights;
findings opened and closed per month, as an inline SVG chart and the same numbers in a table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cap.domain.permissions import Permission
from cap.web.site import Site
from cap.workflow.dashboard import (
    AT_RISK_DAYS,
    LIST_LIMIT,
    SOON_DAYS,
    SUPPLIER_LIMIT,
    MonthFigures,
)

#: The chart's own units (its viewBox); the page scales it to the width it has.
CHART_WIDTH = 360
CHART_HEIGHT = 200
_TOP = 16  # room for the value above the tallest bar
_BASELINE = 172  # the bars stand on it; the months are named below it
_BAR = 12  # each of a month's two bars
_GAP = 2  # between them


@dataclass(frozen=True)
class Bar:
    """One bar of the chart, in the chart's units."""

    kind: str  # "opened" or "closed": its CSS class
    value: int
    x: float
    y: float
    height: float

    @property
    def middle(self) -> float:
        return self.x + _BAR / 2


@dataclass(frozen=True)
class ChartMonth:
    figures: MonthFigures
    label_x: float
    bars: tuple[Bar, Bar]


@dataclass(frozen=True)
class MonthChart:
    """Where each bar of the opened/closed chart goes: heights in proportion to the largest
    number (a chart of zeros has no height)."""

    months: tuple[ChartMonth, ...]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: int = _BASELINE
    bar_width: int = _BAR

    @property
    def label_y(self) -> int:
        return self.baseline + 16


def month_chart(months: Sequence[MonthFigures]) -> MonthChart:
    slot = CHART_WIDTH / max(len(months), 1)
    largest = max((max(m.opened, m.closed) for m in months), default=0)
    scale = (_BASELINE - _TOP) / largest if largest else 0.0

    def bar(kind: str, value: int, x: float) -> Bar:
        height = round(value * scale, 2)
        return Bar(kind, value, round(x, 2), round(_BASELINE - height, 2), height)

    placed = []
    for i, month in enumerate(months):
        left = i * slot + (slot - 2 * _BAR - _GAP) / 2
        placed.append(
            ChartMonth(
                figures=month,
                label_x=round(i * slot + slot / 2, 2),
                bars=(
                    bar("opened", month.opened, left),
                    bar("closed", month.closed, left + _BAR + _GAP),
                ),
            )
        )
    return MonthChart(months=tuple(placed))


def routes(site: Site, router: APIRouter) -> None:

    @router.get("/desk", response_class=HTMLResponse)
    def desk(request: Request) -> HTMLResponse:
        user = site.user(request, Permission.READ)
        board = site.workflow.dashboard(now=site.now(), user_email=user.email, role=user.role)
        return site.render(
            request,
            "desk.html",
            {
                "board": board,
                "chart": month_chart(board.months),
                "soon_days": SOON_DAYS,
                "at_risk_days": AT_RISK_DAYS,
                "list_limit": LIST_LIMIT,
                "supplier_limit": SUPPLIER_LIMIT,
            },
        )
