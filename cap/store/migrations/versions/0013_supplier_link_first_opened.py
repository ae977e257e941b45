"""supplier_link.first_opened_at indexed: the dashboard's figures are kept until a link is
first opened, and the newest first opening is read on every request

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 12:30:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        op.f('ix_supplier_link_first_opened_at'), 'supplier_link', ['first_opened_at'],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_supplier_link_first_opened_at'), table_name='supplier_link')
