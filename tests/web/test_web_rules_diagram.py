"""The lifecycle diagram (cap/web/diagram.py) draws every transition of the state machine,
escapes its words, and refuses a transition it has no route for rather than leave it out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from enum import StrEnum
from itertools import pairwise

import pytest

from cap.domain.lifecycle import _RETURN, TRANSITION_TABLE
from cap.domain.model import ACTIVE_STATES, Action, Language, State
from cap.web.diagram import PLACES, Transition, lifecycle_svg, transitions
from cap.web.labels import label
from cap.web.language import translations

SVG = "{http://www.w3.org/2000/svg}"


def expected() -> set[tuple[State, Action, State]]:
    """The lifecycle's transitions read from its table, not from the machine."""
    found = set()
    for action, sources, dest in TRANSITION_TABLE:
        for source in sources:
            if dest is None:
                found.add((source, action, source))
            elif dest == _RETURN:
                found |= {(source, action, back) for back in ACTIVE_STATES}
            else:
                assert isinstance(dest, State)
                found.add((source, action, dest))
    return found


def drawn(svg: str) -> set[tuple[State, Action, State]]:
    root = ET.fromstring(svg)
    found = set()
    for group in root.iter(f"{SVG}g"):
        if "edge" in group.get("class", "").split():
            source, dest = State(group.get("data-from", "")), State(group.get("data-to", ""))
            for action in group.get("data-actions", "").split():
                found.add((source, Action(action), dest))
    return found


def english(value: StrEnum) -> str:
    return label(value)


def test_the_machine_gives_every_transition_of_the_table() -> None:
    read = {(t.source, t.action, t.dest) for t in transitions()}
    assert read == expected()
    returns = {(t.source, t.action, t.dest) for t in transitions() if t.returns}
    assert returns == {(State.SANCTION_REVIEW, a, back) for a in
                       (Action.EXTEND, Action.RESUME, Action.WARN, Action.PENALISE)
                       for back in ACTIVE_STATES}  # fmt: skip


def test_every_transition_and_every_state_is_drawn() -> None:
    svg = lifecycle_svg(transitions(), english, title="Lifecycle", description="States")
    assert drawn(svg) == expected()
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "lifecycle-title lifecycle-desc"
    assert root.find(f"{SVG}title") is not None
    states = {g.get("data-state", ""): g for g in root.iter(f"{SVG}g") if g.get("data-state")}
    assert set(states) == {s.value for s in State} == {s.value for s in PLACES}
    for state, group in states.items():
        words = " ".join("".join(t.itertext()) for t in group.iter(f"{SVG}text"))
        assert label(State(state)) in words
    # Each arrow says what it stands for, where a pointer rests on it.
    titles = ["".join(t.itertext()) for t in root.iter(f"{SVG}title")]
    assert "open → Notify the supplier → awaiting plan" in titles
    assert ("sanction review → Extend a deadline, Resume without sanction, Decide a warning, "
            "Decide a contractual penalty → remediating") in titles  # fmt: skip


def test_no_style_and_no_script_in_the_drawing() -> None:
    svg = lifecycle_svg(transitions(), english, title="Lifecycle", description="States")
    assert "style" not in svg and "<script" not in svg and " on" not in svg.replace(" on the", "")
    for element in ET.fromstring(svg).iter():
        assert not any(name.startswith("on") or name == "style" for name in element.attrib)


def test_its_words_are_escaped() -> None:
    def hostile(value: StrEnum) -> str:
        return f"<b>{value.value}</b> & co"

    svg = lifecycle_svg(transitions(), hostile, title="<script>", description="&")
    assert "<b>" not in svg and "&lt;b&gt;open&lt;/b&gt; &amp; co" in svg
    assert '<title id="lifecycle-title">&lt;script&gt;</title>' in svg
    ET.fromstring(svg)  # still well formed


def test_a_transition_without_a_route_is_refused_not_left_out() -> None:
    stray = Transition(State.CLOSED, Action.NOTIFY, State.OPEN)
    with pytest.raises(ValueError, match="no route from closed to open"):
        lifecycle_svg([*transitions(), stray], english, title="t", description="d")


@pytest.mark.parametrize("language", list(Language))
def test_a_box_grows_to_hold_the_actions_that_stay_in_it(language: Language) -> None:
    catalog = translations(language)

    def name(value: StrEnum) -> str:
        return catalog.gettext(label(value))

    root = ET.fromstring(lifecycle_svg(transitions(), name, title="t", description="d"))
    boxes = {
        State(g.get("data-state", "")): g.find(f"{SVG}rect")
        for g in root.iter(f"{SVG}g")
        if g.get("data-state")
    }
    lines = {}
    for group in root.iter(f"{SVG}g"):
        if "stays" in group.get("class", "").split():
            lines[State(group.get("data-from", ""))] = [
                float(span.get("y", "")) for span in group.iter(f"{SVG}tspan")
            ]
    # Asking for, granting and declining more time stay where the supplier owes something.
    assert len(lines[State.AWAITING_PLAN]) > 1 and len(lines[State.REMEDIATING]) > 1
    for state, baselines in lines.items():
        box = boxes[state]
        assert box is not None
        top = float(box.get("y", "")) + 20  # below the state's name
        bottom = float(box.get("y", "")) + float(box.get("height", "")) - 4
        assert all(top < y <= bottom for y in baselines), state
    # The rows below a grown box moved down with it: as much room between boxes as before.
    main = sorted((b for s, b in boxes.items() if PLACES[s].column == 0 and b is not None),
                  key=lambda b: float(b.get("y", "")))  # fmt: skip
    for upper, lower in pairwise(main):
        gap = float(lower.get("y", "")) - float(upper.get("y", "")) - float(upper.get("height", ""))
        assert gap >= 68
