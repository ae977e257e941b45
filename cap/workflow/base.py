"""What the use cases share: the database, the configuration, and writing a finding's case
under the optimistic lock."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from cap.config import Settings
from cap.domain import engine
from cap.domain.model import Case
from cap.errors import Conflict
from cap.store.db import Database
from cap.store.mapping import SAVE_FINDING, saved_params
from cap.store.models import Finding


@dataclass
class UseCases:
    """The use cases of one concern over one database and one configuration; see
    :class:`cap.workflow.Workflow`, which has them all."""

    db: Database
    settings: Settings = field(default_factory=Settings)

    def _save_case(self, session: Session, finding: Finding, case: Case) -> None:
        """Write ``case`` over ``finding`` if nobody changed it since it was loaded."""
        params = saved_params(finding, case, engine.next_check_at(case, self.settings.rule_set))
        # A Core statement built once, on the session's connection: this runs on every action
        # and every swept finding, and building SQLAlchemy statements is not free.
        result = session.connection().execute(SAVE_FINDING, params)
        if result.rowcount != 1:
            raise Conflict(
                f"{finding.ref} was changed by someone else at the same time; nothing was "
                "recorded, reload it and try again"
            )
