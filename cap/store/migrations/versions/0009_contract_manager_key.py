"""contract.manager_key: the contract manager's address as users' are matched, indexed

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: Contracts filled in at a time.
BATCH = 5_000


def manager_key(email: str) -> str:
    # cap.store.models.address_key at this revision (as users' email_key).
    return email.strip().lower()


def upgrade() -> None:
    """Upgrade schema."""
    # ADD COLUMN with a default: in place on both databases, no copy of the table.
    op.add_column(
        'contract',
        sa.Column('manager_key', sa.String(length=254), nullable=False, server_default=''),
    )
    connection = op.get_bind()
    read = sa.text(
        'SELECT id, manager_email FROM contract WHERE id > :last ORDER BY id LIMIT :batch'
    )
    write = sa.text('UPDATE contract SET manager_key = :key WHERE id = :id')
    last = 0
    while True:
        rows = connection.execute(read, {'last': last, 'batch': BATCH}).all()
        if not rows:
            break
        connection.execute(write, [{'id': id, 'key': manager_key(email)} for id, email in rows])
        last = rows[-1][0]
    op.create_index('ix_contract_manager_key', 'contract', ['manager_key'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_contract_manager_key', table_name='contract')
    op.drop_column('contract', 'manager_key')
