"""The one place that reads the real clock. The domain never calls it: ``now`` is passed in.

A database made for simulation (``cap demo``) carries a clock of its own, recorded in it, so
that every process working on it (the demo's worker, ``cap`` in another terminal) sees the
same simulated time: its recorded events lie in the real future.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cap.store.db import Database
from cap.store.models import Setting

#: The setting that makes a database a simulation; its value is the :class:`SimulatedClock`.
SIMULATION = "simulation"

#: Real seconds in a simulated day at one simulated day per second.
_SECONDS_PER_DAY = 86_400


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SimulatedClock:
    """Time that runs ``days_per_second`` simulated days per real second from ``started``,
    when the simulation began; 0 runs at real time (``cap demo --speed 0``)."""

    started: datetime
    days_per_second: float

    def at(self, real: datetime) -> datetime:
        """The simulated instant at the real instant ``real``."""
        if not self.days_per_second:
            return real
        return self.started + (real - self.started) * (self.days_per_second * _SECONDS_PER_DAY)

    def __call__(self) -> datetime:
        return self.at(utcnow())


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
