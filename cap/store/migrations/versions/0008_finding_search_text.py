"""finding.search_text: what a search of the findings list looks in, in lower case

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: Findings filled in at a time.
BATCH = 5_000


def search_text(ref: str, title: str, site: str | None) -> str:
    # cap.store.models.search_text at this revision: folded by Python, not by the database
    # (SQLite's own lower() folds A-Z only, PostgreSQL's depends on the database's locale).
    return "\n".join((ref, title, site or "")).lower()


def upgrade() -> None:
    """Upgrade schema."""
    # ADD COLUMN with a default: in place on both databases, no copy of the table.
    op.add_column(
        'finding', sa.Column('search_text', sa.Text(), nullable=False, server_default=''),
    )
    connection = op.get_bind()
    read = sa.text(
        'SELECT id, ref, title, site FROM finding WHERE id > :last ORDER BY id LIMIT :batch'
    )
    write = sa.text('UPDATE finding SET search_text = :text WHERE id = :id')
    last = 0
    while True:
        rows = connection.execute(read, {'last': last, 'batch': BATCH}).all()
        if not rows:
            break
        texts = [{'id': id, 'text': search_text(ref, title, site)} for id, ref, title, site in rows]
        connection.execute(write, texts)
        last = rows[-1][0]
    # The findings list, counted and paged from an index alone whatever it is filtered by.
    op.create_index(
        'ix_finding_list_due_order', 'finding',
        ['due_order', 'id', 'state', 'severity', 'area', 'search_text'], unique=False,
    )
    op.create_index(
        'ix_finding_list_state', 'finding',
        ['state', 'severity', 'due_order', 'id', 'area', 'search_text'], unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_finding_list_state', table_name='finding')
    op.drop_index('ix_finding_list_due_order', table_name='finding')
    # In place (SQLite 3.35 and later drop a column without copying the table).
    op.drop_column('finding', 'search_text')
