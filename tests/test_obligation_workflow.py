"""Reporting obligations against real databases: recorded with a contract, listed, received,
extended, waived; their ladder swept once, escalated, and delivered to a real SMTP server."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.config import Settings
from cap.domain.inputs import ContractInput, ContractUpdate
from cap.domain.model import ObligationKind, ObligationState
from cap.domain.obligations import DutyAction, DutyRequest
from cap.errors import ActionRefused, AlreadyExists, Conflict, InvalidInput, NotFound
from cap.notify.delivery import Delivery
from cap.store.db import Database
from cap.store.models import Obligation, ObligationEvent, OutboxMessage, Setting
from cap.workflow import Workflow
from cap.workflow.obligations import ObligationFilter
from cap.workflow.sweeps import RULES_DIGEST
from tests.conftest import ANNA, LI, World, make_world
from tests.smtp_server import Handler

START = date(2026, 3, 2)
DUE = date(2026, 9, 2)  # six months on, a Wednesday
RECORDED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
REMINDER = datetime(2026, 8, 19, 7, 0, tzinfo=UTC)  # R-report-14d: 09:00 CEST
ESCALATION = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)  # E-report-30d
CONTRACT = "LIC-2026-07"
BO, CECILIA = "bo@region.example", "cecilia@region.example"


def staffed_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"decision_makers": CECILIA, "sustainability_manager": BO})


@pytest.fixture
def world(settings: Settings) -> World:
    configured = staffed_settings(settings)
    world = make_world(Workflow(Database(configured.database_url), configured))
    world.workflow.add_contract(
        ContractInput(reference=CONTRACT, supplier=world.org_number, category="Laptops",
                      manager=ANNA, start=START),
        now=RECORDED,
    )  # fmt: skip
    return world


def report_of(world: World, contract: str = CONTRACT) -> int:
    [view] = world.workflow.list_obligations(
        now=RECORDED, where=ObligationFilter(contract=contract)
    )
    return view.id


def mails(world: World) -> list[tuple[str, str, str | None]]:
    with world.workflow.db.read() as session:
        rows = session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id))).scalars()
        return [(r.kind, r.recipient, r.reply_to) for r in rows]


def trail(world: World, obligation_id: int) -> list[tuple[str, str | None]]:
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(ObligationEvent)
            .where(col(ObligationEvent.obligation_id) == obligation_id)
            .order_by(col(ObligationEvent.id))
        ).scalars()
        return [(e.kind, e.data.get("rule")) for e in rows]


def test_a_contract_with_a_start_owes_its_report_six_months_on(world: World) -> None:
    # The world's own contract started in 2019: whether that report came in is not cap's to
    # guess, so it owes none; this one started on 2 March 2026.
    [mine] = world.workflow.list_obligations(now=RECORDED)
    assert (mine.contract, mine.kind, mine.due, mine.state) == (
        CONTRACT, ObligationKind.SOCIAL_RISK_REPORT, DUE, ObligationState.DUE,
    )  # fmt: skip
    assert (mine.first_due, mine.manager, mine.supplier_org_number) == (DUE, ANNA, "556000-1234")
    assert mine.next_step_at == REMINDER
    assert trail(world, mine.id) == [("recorded", None)]


def test_an_old_contract_owes_its_report_once_added_and_sends_nothing_by_itself(
    world: World,
) -> None:
    wf = world.workflow
    old = wf.add_obligation(world.contract, actor=ANNA, now=RECORDED)
    assert (old.due, old.overdue, old.days_overdue) == (date(2019, 11, 1), True, 2313)
    assert old.next_step_at is None  # its ladder's steps fell before it was recorded
    assert wf.sweep(now=RECORDED + timedelta(days=60)).steps == 0
    assert mails(world) == []
    [overdue] = wf.list_obligations(now=RECORDED, where=ObligationFilter(overdue=True))
    assert overdue.id == old.id


def test_a_contract_without_a_start_owes_nothing_until_it_gets_one(world: World) -> None:
    wf = world.workflow
    wf.add_contract(
        ContractInput(reference="NO-START", supplier=world.org_number, category="Phones",
                      manager=ANNA),
        now=RECORDED,
    )  # fmt: skip
    assert wf.list_obligations(now=RECORDED, where=ObligationFilter(contract="NO-START")) == []
    update = ContractUpdate(category="Phones", manager=ANNA, start=date(2026, 2, 27))
    wf.update_contract("NO-START", update, now=RECORDED)
    wf.update_contract("NO-START", update, now=RECORDED)  # twice: still one report
    [view] = wf.list_obligations(now=RECORDED, where=ObligationFilter(contract="NO-START"))
    assert view.due == date(2026, 8, 27)


def test_overdue_begins_when_the_due_day_ends_in_stockholm(world: World) -> None:
    wf = world.workflow
    overdue = ObligationFilter(overdue=True, contract=CONTRACT)
    last_moment = datetime(2026, 9, 2, 21, 59, 59, tzinfo=UTC)  # 23:59:59 CEST
    assert wf.list_obligations(now=last_moment, where=overdue) == []
    [view] = wf.list_obligations(now=last_moment + timedelta(seconds=1), where=overdue)
    assert (view.overdue, view.days_overdue) == (True, 1)


def test_a_reminder_goes_to_the_supplier_once_answering_the_manager(world: World) -> None:
    wf = world.workflow
    assert wf.sweep(now=REMINDER - timedelta(seconds=1)).steps == 0
    report = wf.sweep(now=REMINDER)
    assert (report.steps, report.queued, report.escalated, report.errors) == (1, 1, 0, ())
    assert mails(world) == [("report_reminder", LI, ANNA)]
    assert wf.sweep(now=REMINDER).steps == 0
    assert wf.sweep(now=REMINDER + timedelta(days=1)).steps == 0
    assert mails(world) == [("report_reminder", LI, ANNA)]
    assert trail(world, report_of(world))[-1] == ("reminder", "R-report-14d")


def test_after_downtime_a_missing_report_goes_to_the_decision_makers(world: World) -> None:
    wf = world.workflow
    obligation = report_of(world)
    report = wf.sweep(now=ESCALATION + timedelta(hours=2))
    assert (report.steps, report.skipped, report.escalated) == (1, 4, 1)
    assert sorted(mails(world)) == [
        ("report_escalated", BO, None),
        ("report_escalated", CECILIA, None),
    ]
    detail = wf.show_obligation(obligation, now=ESCALATION + timedelta(hours=2))
    view = detail.obligation
    assert (view.state, view.escalation_level, view.days_overdue) == (
        ObligationState.ESCALATED, 3, 30,
    )  # fmt: skip
    assert [e.kind for e in detail.events] == [
        "recorded", *["step_skipped"] * 4, "escalation", "escalate",
    ]  # fmt: skip
    assert detail.events[-1].to_state is ObligationState.ESCALATED
    assert detail.timeline == ()  # nothing more comes by itself
    assert wf.sweep(now=ESCALATION + timedelta(days=40)).steps == 0
    # The report comes in late: received, and nothing is sent any more.
    when = ESCALATION + timedelta(days=3)
    received = wf.act_on_obligation(
        obligation,
        DutyRequest(DutyAction.RECEIVE, ANNA, when, received_on=date(2026, 10, 5),
                    reference="SR-2026-Q3"),
        now=when,
    )  # fmt: skip
    assert (received.state, received.received_on, received.overdue) == (
        ObligationState.RECEIVED, date(2026, 10, 5), False,
    )  # fmt: skip
    last = wf.show_obligation(obligation, now=when).events[-1]
    assert last.data == {"received_on": "2026-10-05", "late": True, "reference": "SR-2026-Q3"}


def test_a_received_report_stops_its_reminders(world: World) -> None:
    wf = world.workflow
    obligation = report_of(world)
    when = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)
    wf.act_on_obligation(
        obligation, DutyRequest(DutyAction.RECEIVE, ANNA, when, received_on=date(2026, 7, 30)),
        now=when,
    )  # fmt: skip
    assert wf.sweep(now=ESCALATION).steps == 0
    assert mails(world) == []
    with pytest.raises(ActionRefused, match=r"^cannot receive: the report is received"):
        wf.act_on_obligation(
            obligation, DutyRequest(DutyAction.RECEIVE, ANNA, when, received_on=date(2026, 8, 1)),
            now=when,
        )  # fmt: skip


def test_an_extension_gives_a_new_ladder_and_a_waiver_ends_it(world: World) -> None:
    wf = world.workflow
    obligation = report_of(world)
    when = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
    extended = wf.act_on_obligation(
        obligation,
        DutyRequest(DutyAction.EXTEND, ANNA, when, until=date(2026, 11, 2),
                    reason="The supplier's auditor reports in October"),
        now=when,
    )  # fmt: skip
    assert (extended.due, extended.first_due, extended.state) == (
        date(2026, 11, 2), DUE, ObligationState.DUE,
    )  # fmt: skip
    assert extended.next_step_at == datetime(2026, 10, 19, 7, 0, tzinfo=UTC)  # -14 days
    wf.sweep(now=datetime(2026, 10, 19, 7, 0, tzinfo=UTC))
    with wf.db.read() as session:
        [key] = session.execute(select(col(OutboxMessage.key))).scalars()
    assert key.startswith(f"obligation/{obligation}/R-report-14d/dv1/")
    wf.act_on_obligation(
        obligation, DutyRequest(DutyAction.WAIVE, ANNA, when + timedelta(days=40),
                                reason="Contract ended early"),
        now=when + timedelta(days=40),
    )  # fmt: skip
    assert wf.sweep(now=datetime(2027, 1, 1, tzinfo=UTC)).steps == 0


def test_a_stale_form_and_bad_input_change_nothing(world: World) -> None:
    wf = world.workflow
    obligation = report_of(world)
    when = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
    before = wf.show_obligation(obligation, now=when)
    with pytest.raises(Conflict, match=r"changed by someone else meanwhile"):
        wf.act_on_obligation(
            obligation, DutyRequest(DutyAction.WAIVE, ANNA, when, reason="x"), now=when,
            expected_version=before.obligation.version + 1,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match=r"^on: 2026-09-11 is in the future"):
        wf.act_on_obligation(
            obligation, DutyRequest(DutyAction.RECEIVE, ANNA, when, received_on=date(2026, 9, 11)),
            now=when,
        )  # fmt: skip
    with pytest.raises(NotFound, match=r"^report: no reporting obligation 99999999999"):
        wf.show_obligation(99999999999, now=when)
    with pytest.raises(InvalidInput, match=r"^action: escalation is the rules' step"):
        wf.act_on_obligation(obligation, DutyRequest(DutyAction.ESCALATE, ANNA, when), now=when)
    assert wf.show_obligation(obligation, now=when) == before


def test_more_reports_can_be_asked_for_but_not_twice(world: World) -> None:
    wf = world.workflow
    view = wf.add_obligation(
        CONTRACT, kind=ObligationKind.MINERALS_REPORT, due=date(2026, 12, 30), actor=ANNA,
        now=RECORDED,
    )  # fmt: skip
    assert (view.kind, view.due, view.title) == (
        ObligationKind.MINERALS_REPORT, date(2026, 12, 30), None,
    )  # fmt: skip
    with pytest.raises(AlreadyExists, match=r"^due: contract LIC-2026-07 already owes a "
                       r"minerals_report report due on 2026-12-30$"):  # fmt: skip
        wf.add_obligation(CONTRACT, kind=ObligationKind.MINERALS_REPORT, due=date(2026, 12, 30),
                          actor=ANNA, now=RECORDED)  # fmt: skip
    # New Year's Eve is closed in Sweden, New Year's Day too, then a weekend.
    rolled = wf.add_obligation(CONTRACT, kind=ObligationKind.SELF_ASSESSMENT,
                               due=date(2026, 12, 31), actor=ANNA, now=RECORDED)  # fmt: skip
    assert (rolled.due, rolled.first_due) == (date(2027, 1, 4), date(2027, 1, 4))
    with pytest.raises(InvalidInput, match=r"^title: a report of kind 'other' needs a title"):
        wf.add_obligation(CONTRACT, kind=ObligationKind.OTHER, actor=ANNA, now=RECORDED)
    with pytest.raises(NotFound, match=r"^contract: no contract NOPE"):
        wf.add_obligation("NOPE", actor=ANNA, now=RECORDED)
    titled = wf.add_obligation(
        CONTRACT, kind=ObligationKind.OTHER, title="  Wage   survey <b>2026</b> ",
        due=date(2027, 1, 29), actor=ANNA, now=RECORDED,
    )  # fmt: skip
    assert titled.title == "Wage survey <b>2026</b>"


def test_a_changed_report_ladder_reschedules_what_is_due(world: World) -> None:
    wf = world.workflow
    obligation = report_of(world)
    wf.refresh_schedule(RECORDED)
    with wf.db.write() as session:  # as if the rules had changed since
        row = session.get(Obligation, obligation)
        assert row is not None
        row.next_check_at = None
    with wf.db.write() as session:
        setting = session.get(Setting, RULES_DIGEST)
        assert setting is not None
        setting.value = "changed"
    assert wf.refresh_schedule(RECORDED) == 0  # findings rescheduled: none here
    assert wf.show_obligation(obligation, now=RECORDED).obligation.next_step_at == REMINDER


def test_the_emails_reach_a_real_smtp_server(
    settings: Settings, server: tuple[Handler, int]
) -> None:
    handler, port = server
    configured = staffed_settings(settings).model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none",
                "mail_from": "cap@region.example", "smtp_timeout": 5.0}
    )  # fmt: skip
    world = make_world(Workflow(Database(configured.database_url), configured))
    world.workflow.add_contract(
        ContractInput(reference=CONTRACT, supplier=world.org_number, category="Laptops",
                      manager=ANNA, start=START),
        now=RECORDED,
    )  # fmt: skip
    swept = world.workflow.sweep(now=REMINDER)
    assert swept.queued == 1, swept
    wf = world.workflow
    report = asyncio.run(Delivery(wf.db, wf.settings, owner="test").run_pass(lambda: REMINDER))
    assert report.sent == 1
    [message] = [r.message for r in handler.received]
    assert message["To"].endswith(f"<{LI}>") or message["To"] == LI
    assert message["Reply-To"] == ANNA
    assert message["Subject"].startswith(f"{CONTRACT}:")
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "2 September 2026" in text and "/obligations/" not in text
    assert message["X-Cap-Report"] == str(report_of(world)) and message["X-Cap-Finding"] is None


def test_without_an_smtp_server_the_email_is_a_file_named_after_the_report(world: World) -> None:
    wf = world.workflow
    wf.sweep(now=REMINDER)
    asyncio.run(Delivery(wf.db, wf.settings, owner="test").run_pass(lambda: REMINDER))
    [written] = wf.settings.mail_dir.glob("*.eml")
    assert written.name.startswith(f"report-{report_of(world)}_report_reminder_")
