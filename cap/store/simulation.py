"""A database made for simulation: the clock it runs on, recorded in it (``cap demo``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from cap.clock import SimulatedClock, utcnow
from cap.store.db import Database
from cap.store.models import Setting

#: The setting that makes a database a simulation; its value is the :class:`SimulatedClock`.
SIMULATION = "simulation"


def record_simulation(db: Database, clock: SimulatedClock) -> None:
    """Mark ``db`` as a simulation running on ``clock`` (the demo does it before seeding)."""
    value = json.dumps(
        {"started": clock.started.isoformat(), "days_per_second": clock.days_per_second}
    )
    with db.write() as session:
        row = session.get(Setting, SIMULATION)
        if row is None:
            session.add(Setting(key=SIMULATION, value=value, updated_at=utcnow()))
        else:
            row.value, row.updated_at = value, utcnow()


def simulation_of(db: Database) -> SimulatedClock | None:
    """The simulated clock ``db`` runs on, or ``None`` for a real database."""
    with db.read() as session:
        row = session.get(Setting, SIMULATION)
    if row is None:
        return None
    data = json.loads(row.value)
    return SimulatedClock(
        started=datetime.fromisoformat(data["started"]),
        days_per_second=float(data["days_per_second"]),
    )


def clock_of(db: Database) -> Callable[[], datetime]:
    """The time the application sees on ``db``: its simulated clock, else the real one."""
    return simulation_of(db) or utcnow
