"""The lifecycle diagram: an SVG drawn on the server from the state machine's transitions.

:func:`transitions` reads them from :func:`cap.domain.lifecycle.build_machine`, so the picture
follows the machine; :func:`lifecycle_svg` draws them over a fixed layout of the states (the
main path top to bottom, the sanction review beside the states it can be reached from, the
final states at the bottom; a box grows to hold the actions written in it, and the rows below
move down) and refuses a transition it has no route for, rather than leave it out. No style
attribute anywhere (the pages' CSP allows none): presentation attributes (``fill``,
``stroke``) and classes only. Pure: the words come in through ``name``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from markupsafe import Markup, escape

from cap.domain.lifecycle import Action, build_machine
from cap.domain.model import State

__all__ = ["Transition", "lifecycle_svg", "transitions"]


@dataclass(frozen=True)
class Transition:
    """``action`` takes a finding from ``source`` to ``dest`` (the same state for an action
    that changes none). ``returns``: only when the finding came from ``dest`` (a sanction
    review's decision goes back to the state it was escalated from)."""

    source: State
    action: Action
    dest: State
    returns: bool = False


def transitions() -> tuple[Transition, ...]:
    """Every transition of the lifecycle, in the machine's order (its actions' order)."""
    machine = build_machine()
    found = []
    for name, event in machine.events.items():
        for source, moves in event.transitions.items():
            for move in moves:
                dest = State[move.dest] if move.dest is not None else State[source]
                found.append(Transition(State[source], Action(name), dest, bool(move.conditions)))
    return tuple(found)


# -- layout ------------------------------------------------------------------------------------

BOX_W = 190
BOX_H = 52
PITCH = 120  # from one row of the main path to the next
TOP = 20
MAIN_X = 200  # the main path's column
SIDE_X = 720  # the sanction review's column
BUS_X = 24  # where withdrawals run down to the bottom, left of everything
MARGIN_X = 940  # where the sanction review's withdrawal runs down, right of everything
WIDTH = MARGIN_X + 20
ROWS = 7
#: Characters per line of a label (about 6 px each at 11 px): on the main path's arrows, and
#: on those across to the sanction review, which have more room.
_CHARS = 26
_CHARS_ACROSS = 36
_CHARS_IN_BOX = 30  # at 10 px
_LINE = 13
_INK = "#1a1a1a"
_RED = "#b3261e"
_TINT = "#f3f4f6"


@dataclass(frozen=True)
class _Place:
    column: int  # 0: the main path, 1: beside it
    row: int
    rows: int = 1  # how many rows of the main path the box spans
    top: int | None = None  # where the layout put it, when rows above it grew
    height: int | None = None  # when it, or a row it spans, grew

    @property
    def x(self) -> int:
        return MAIN_X if self.column == 0 else SIDE_X

    @property
    def y(self) -> int:
        return self.top if self.top is not None else TOP + PITCH * self.row

    @property
    def h(self) -> int:
        return self.height if self.height is not None else PITCH * (self.rows - 1) + BOX_H

    @property
    def cx(self) -> int:
        return self.x + BOX_W // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def right(self) -> int:
        return self.x + BOX_W

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def spans(self, row: int) -> bool:
        return self.row <= row < self.row + self.rows


PLACES: dict[State, _Place] = {
    State.OPEN: _Place(0, 0),
    State.AWAITING_PLAN: _Place(0, 1),
    State.PLAN_REVIEW: _Place(0, 2),
    State.REMEDIATING: _Place(0, 3),
    State.VERIFYING: _Place(0, 4),
    State.CLOSED: _Place(0, 5),
    State.WITHDRAWN: _Place(0, 6),
    State.SANCTION_REVIEW: _Place(1, 1, rows=4),
    State.TERMINATED: _Place(1, 5),
}
FINAL = frozenset({State.CLOSED, State.TERMINATED, State.WITHDRAWN})


def _layout(grown: dict[State, int]) -> tuple[dict[State, _Place], int]:
    """:data:`PLACES` with the boxes of ``grown`` that many pixels taller (for the lines of
    the actions written in them) and each row moved down by what the rows above it grew, so
    that the space between rows, where the arrows' words go, stays the same; and the height
    of the drawing."""
    growth = [
        max((grown.get(s, 0) for s, p in PLACES.items() if p.row == row and p.rows == 1),
            default=0)
        for row in range(ROWS)
    ]  # fmt: skip
    tops = [TOP]
    for row in range(1, ROWS):
        tops.append(tops[-1] + PITCH + growth[row - 1])
    placed = {}
    for state, p in PLACES.items():
        last = p.row + p.rows - 1
        # A box over several rows ends with the last of them; one row's box grows by its own.
        bottom = tops[last] + BOX_H + (growth[last] if p.rows > 1 else grown.get(state, 0))
        placed[state] = replace(p, top=tops[p.row], height=bottom - tops[p.row])
    return placed, tops[-1] + BOX_H + growth[-1] + 20


@dataclass(frozen=True)
class _Route:
    points: tuple[tuple[int, int], ...]
    label_x: int
    label_y: int  # the first line's baseline (the last line's when ``upward``)
    anchor: str = "start"
    upward: bool = False
    labelled: bool = True
    chars: int = _CHARS


def _route(source: State, dest: State, bus_labelled: bool, places: dict[State, _Place]) -> _Route:
    """How an arrow from ``source`` to ``dest`` runs, and where its label goes."""
    a, b = places[source], places[dest]
    if a.column == b.column == 0 and b.row == a.row + 1:  # down the main path
        x = a.cx + 15
        return _Route(((x, a.bottom), (x, b.y)), x + 6, a.bottom + 26)
    if a.column == b.column == 0 and b.row == a.row - 1:  # back up it
        x = a.cx - 15
        return _Route(((x, a.y), (x, b.bottom)), x - 6, b.bottom + 26, anchor="end")
    if a.column == b.column == 0 and b.row > a.row:  # further down: along the left edge
        return _Route(
            ((a.x, a.cy), (BUS_X, a.cy), (BUS_X, b.cy), (b.x, b.cy)),
            BUS_X + 6, b.cy - 6, labelled=not bus_labelled,
        )  # fmt: skip
    if a.column == 0 and b.column == 1 and b.spans(a.row):  # across, to the side
        y = a.cy - 10
        return _Route(((a.right, y), (b.x, y)), b.x - 8, y - 6, anchor="end", upward=True,
                      chars=_CHARS_ACROSS)  # fmt: skip
    if a.column == 1 and b.column == 0 and a.spans(b.row):  # back across
        y = b.cy + 10
        return _Route(((a.x, y), (b.right, y)), a.x - 8, y + 14, anchor="end",
                      chars=_CHARS_ACROSS)  # fmt: skip
    if a.column == 1 and b.column == 0:  # from the side to the bottom: round the right
        return _Route(
            ((a.right, a.cy), (MARGIN_X, a.cy), (MARGIN_X, b.cy), (b.right, b.cy)),
            MARGIN_X - 6, b.cy - 6, anchor="end",
        )  # fmt: skip
    if a.column == b.column == 1 and b.row == a.row + a.rows:  # down the side
        return _Route(((a.cx, a.bottom), (a.cx, b.y)), a.cx + 6, a.bottom + 26,
                      chars=(MARGIN_X - a.cx - 24) // 6)  # fmt: skip
    raise ValueError(f"the diagram has no route from {source.value} to {dest.value}")


# -- drawing -----------------------------------------------------------------------------------


def _lines(text: str, chars: int = _CHARS) -> list[str]:
    return textwrap.wrap(text, chars, break_on_hyphens=False) or [text]


def _text(
    lines: Iterable[str], x: int, y: int, *, anchor: str = "start", size: int = 11,
    bold: bool = False, upward: bool = False, css: str = "label",
) -> str:  # fmt: skip
    rows = list(lines)
    first = y - _LINE * (len(rows) - 1) if upward else y
    spans = "".join(
        f'<tspan x="{x}" y="{first + i * _LINE}">{escape(line)}</tspan>'
        for i, line in enumerate(rows)
    )
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text class="{css}" text-anchor="{anchor}" font-size="{size}"{weight} '
        f'fill="{_INK}">{spans}</text>'
    )


def _grouped(moves: Iterable[Transition]) -> dict[tuple[State, State], list[Transition]]:
    """The transitions by (source, dest), in their order: one arrow for each pair."""
    grouped: dict[tuple[State, State], list[Transition]] = {}
    for move in moves:
        grouped.setdefault((move.source, move.dest), []).append(move)
    return grouped


def lifecycle_svg(
    moves: Iterable[Transition],
    name: Callable[[StrEnum], str],
    *,
    title: str,
    description: str,
) -> Markup:
    """The diagram of ``moves`` as an inline ``<svg role="img">``: a box per state named by
    ``name``, an arrow per pair of states labelled with the actions (by ``name``) between
    them, an action that stays in its state written in its box (↻). Each arrow's group
    carries ``data-from``, ``data-to`` and ``data-actions`` (the values). Raises ValueError
    for a transition the layout has no route for."""
    grouped = _grouped(moves)
    staying = {source: moves for (source, dest), moves in grouped.items() if source == dest}
    loops = {state: _lines(f"↻ {_actions(group, name)}", _CHARS_IN_BOX)
             for state, group in staying.items()}  # fmt: skip
    # A box of one row holds its name and one line of actions; each further line makes it
    # taller (a box over several rows has room to spare).
    places, height = _layout(
        {s: _LINE * (len(lines) - 1) for s, lines in loops.items() if PLACES[s].rows == 1}
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="system-ui, sans-serif" aria-labelledby="lifecycle-title lifecycle-desc">',
        f'<title id="lifecycle-title">{escape(title)}</title>',
        f'<desc id="lifecycle-desc">{escape(description)}</desc>',
        "<defs>",
        *(
            f'<marker id="lifecycle-arrow{suffix}" viewBox="0 0 10 10" refX="10" refY="5" '
            f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
            for suffix, colour in (("", _INK), ("-escalation", _RED))
        ),
        "</defs>",
    ]
    for state, place in places.items():
        parts.append(_state(state, place, name, staying.get(state, []), loops.get(state, [])))
    bus_labelled = False
    for (source, dest), group in grouped.items():
        if source == dest:
            continue  # written in the state's box
        route = _route(source, dest, bus_labelled, places)
        bus_labelled = bus_labelled or _is_bus(source, dest)
        parts.append(_arrow(group, route, name))
    parts.append("</svg>")
    return Markup("".join(parts))


def _is_bus(source: State, dest: State) -> bool:
    a, b = PLACES[source], PLACES[dest]
    return a.column == b.column == 0 and b.row > a.row + 1


def _actions(group: list[Transition], name: Callable[[StrEnum], str]) -> str:
    return ", ".join(dict.fromkeys(name(m.action) for m in group))


def _data(group: list[Transition], css: str) -> str:
    first = group[0]
    actions = " ".join(dict.fromkeys(m.action.value for m in group))
    return (
        f'<g class="{css}" data-from="{first.source.value}" data-to="{first.dest.value}" '
        f'data-actions="{actions}">'
    )


def _state(
    state: State,
    place: _Place,
    name: Callable[[StrEnum], str],
    staying: list[Transition],
    loop: list[str],
) -> str:
    final = state in FINAL
    css = "state final" if final else "state"
    fill = _TINT if final else "#ffffff"
    stroke = _RED if state is State.SANCTION_REVIEW else _INK
    parts = [
        f'<g class="{css}" data-state="{state.value}">',
        f'<rect x="{place.x}" y="{place.y}" width="{BOX_W}" height="{place.h}" rx="6" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>',
    ]
    if final:  # a final state's double border
        parts.append(
            f'<rect x="{place.x + 4}" y="{place.y + 4}" width="{BOX_W - 8}" '
            f'height="{place.h - 8}" rx="4" fill="none" stroke="{_INK}"/>'
        )
    tall = place.rows > 1
    # The name and the first line of actions sit where they would in a box of BOX_H; further
    # lines of actions go below, in what the box grew by.
    name_y = place.y + 26 if tall else place.y + BOX_H // 2 + (-3 if staying else 5)
    parts.append(_text([name(state)], place.cx, name_y, anchor="middle", size=13, bold=True,
                       css="name"))  # fmt: skip
    parts.append("</g>")
    if staying:
        parts += [
            _data(staying, "edge stays"),
            f"<title>{escape(name(state))}: {escape(' '.join(loop))}</title>",
            _text(loop, place.cx, name_y + 17, anchor="middle", size=10),
            "</g>",
        ]
    return "".join(parts)


def _arrow(group: list[Transition], route: _Route, name: Callable[[StrEnum], str]) -> str:
    first = group[0]
    escalation = first.dest is State.SANCTION_REVIEW
    colour = _RED if escalation else _INK
    marker = "lifecycle-arrow-escalation" if escalation else "lifecycle-arrow"
    (x0, y0), *rest = route.points
    path = f"M {x0} {y0} " + " ".join(f"L {x} {y}" for x, y in rest)
    actions = _actions(group, name)
    parts = [
        _data(group, "edge escalation" if escalation else "edge"),
        f"<title>{escape(name(first.source))} → {escape(actions)} → "
        f"{escape(name(first.dest))}</title>",
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5" '
        f'marker-end="url(#{marker})"/>',
    ]
    if route.labelled:
        lines = _lines(actions, route.chars)
        parts.append(_text(lines, route.label_x, route.label_y, anchor=route.anchor,
                           upward=route.upward))  # fmt: skip
    parts.append("</g>")
    return "".join(parts)
