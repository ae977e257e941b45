"""The one place that reads the real clock. The domain never calls it: ``now`` is passed in.

A database made for simulation (``cap demo``) carries a clock of its own (see
:mod:`cap.store.simulation`), so that every process working on it (the demo's worker, ``cap``
in another terminal) sees the same simulated time: its recorded events lie in the real future.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

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
