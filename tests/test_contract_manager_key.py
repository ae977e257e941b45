"""Contract.manager_key, the contract manager's address as users' are matched: written with
every contract (the form, a bulk Core insert), changed with its manager, filled in by the
migration that added it (both databases), and what the dashboard finds "your contracts" by."""

from __future__ import annotations

from datetime import date, timedelta

from alembic import command
from sqlalchemy import insert, inspect, select, text
from sqlmodel import col

from cap.domain.inputs import ContractUpdate
from cap.domain.lifecycle import Action
from cap.domain.model import StaffRole
from cap.store.models import Contract
from tests.conftest import ANNA, NOW, World
from tests.web.test_web_dashboard import act


def keys(world: World) -> dict[str, tuple[str, str]]:
    with world.workflow.db.read() as session:
        rows = session.execute(
            select(col(Contract.reference), col(Contract.manager_email), col(Contract.manager_key))
        ).all()
    return {reference: (email, key) for reference, email, key in rows}


def bulk_contract(world: World, reference: str, manager: str) -> None:
    """A contract written as an import or the bench writes them: a Core INSERT."""
    with world.workflow.db.write() as session:
        supplier_id = session.execute(
            select(col(Contract.supplier_id)).where(col(Contract.reference) == world.contract)
        ).scalar_one()
        session.execute(
            insert(Contract),
            [{"reference": reference, "supplier_id": supplier_id, "category": "Laptops",
              "manager_email": manager, "created_at": NOW}],
        )  # fmt: skip


def test_every_way_in_writes_the_key_and_an_edit_changes_it(world: World) -> None:
    bulk_contract(world, "RS-BULK-1", "Anna.Berg@Region.Example")
    assert keys(world)["RS-BULK-1"] == ("Anna.Berg@Region.Example", "anna.berg@region.example")
    assert keys(world)[world.contract][1] == keys(world)[world.contract][0].lower()
    world.workflow.update_contract(
        world.contract,
        ContractUpdate(category="Laptops", manager="Per.Ny@Region.Example"),
        now=NOW,
    )
    assert keys(world)[world.contract] == ("Per.Ny@Region.Example", "per.ny@region.example")


def test_the_migration_fills_it_in(world: World) -> None:
    bulk_contract(world, "RS-OLD-1", "ANNA.BERG@REGION.EXAMPLE")
    db = world.workflow.db
    config = db.alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
        assert "manager_key" not in {c["name"] for c in inspect(connection).get_columns("contract")}
        command.upgrade(config, "head")
    with db.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM contract")).scalar_one() == 2
    found = keys(world)
    assert found["RS-OLD-1"] == ("ANNA.BERG@REGION.EXAMPLE", "anna.berg@region.example")
    assert found[world.contract][1] == found[world.contract][0].lower()


def test_the_dashboard_finds_your_contracts_whatever_the_case_typed(world: World) -> None:
    world.workflow.update_contract(
        world.contract, ContractUpdate(category="Laptops", manager=ANNA.upper()), now=NOW
    )
    ref = world.finding(found_on=date(2026, 1, 10))
    act(world, ref, Action.NOTIFY, NOW)
    act(world, ref, Action.SUBMIT_PLAN, NOW + timedelta(days=2))
    board = world.workflow.dashboard(
        now=NOW + timedelta(days=3),
        user_email=f"  {ANNA.title()} ",
        role=StaffRole.CONTRACT_MANAGER,
    )
    plans = next(q for q in board.queues if q.queue.value == "plans")
    assert (plans.count, plans.yours) == (1, 1)
    assert [item.ref for item in plans.items] == [ref]
