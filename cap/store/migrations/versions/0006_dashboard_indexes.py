"""dashboard indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Indexes only: SQLite adds them in place, no copy of the tables (a copy of `finding`
    # with plans and events would fail on their foreign keys).
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_to_state_at', ['to_state', 'at', 'from_state'], unique=False)

    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_created_at'))

    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_to_state_at')
