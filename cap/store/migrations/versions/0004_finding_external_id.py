"""finding external id

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 03:36:37.651558

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Adding a column and an index: SQLite does both in place, no copy of the table (a copy
    # of a `finding` with plans and events would fail on their foreign keys).
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch_op.create_index('uq_finding_contract_external_id', ['contract_id', 'external_id'], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('uq_finding_contract_external_id', table_name='finding')
    # Not in batch mode: SQLite (3.35+) drops a column in place, where a batch would copy the
    # table.
    op.drop_column('finding', 'external_id')
