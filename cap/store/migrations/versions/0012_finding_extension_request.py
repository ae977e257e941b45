"""finding.extension_request: the date a supplier asked for in a request not yet answered

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # A nullable column without a default: in place on both databases, no copy of the table
    # (a copy of `finding` would fail on the foreign keys of its plans and events). No finding
    # has a request pending before this revision, so there is nothing to fill in.
    op.add_column('finding', sa.Column('extension_request', sa.Date(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    # Not in batch mode: SQLite (3.35+) drops a column in place, where a batch would copy the
    # table.
    op.drop_column('finding', 'extension_request')
