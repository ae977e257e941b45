"""finding_search: the findings list's search index on SQLite (FTS5, trigram), kept by triggers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 10:30:00.000000

Nothing on PostgreSQL, nor on a SQLite built without FTS5: their searches read every finding's
search_text, as before (cap.store.search).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TRIGGERS = ('finding_search_insert', 'finding_search_delete', 'finding_search_update')


def can_index(connection: sa.Connection) -> bool:
    # cap.store.search.can_index at this revision.
    options = {row[0] for row in connection.execute(sa.text('PRAGMA compile_options'))}
    version = connection.execute(sa.text('SELECT sqlite_version()')).scalar_one()
    numbers = tuple(int(part) for part in str(version).split('.')[:2])
    return 'ENABLE_FTS5' in options and numbers >= (3, 34)


def upgrade() -> None:
    """Upgrade schema."""
    connection = op.get_bind()
    if connection.dialect.name != 'sqlite' or not can_index(connection):
        return
    # External content: the text stays in finding, the index holds only its trigrams.
    op.execute(
        "CREATE VIRTUAL TABLE finding_search USING fts5(search_text, content='finding', "
        "content_rowid='id', tokenize='trigram case_sensitive 1')"
    )
    op.execute("INSERT INTO finding_search(finding_search) VALUES ('rebuild')")
    op.execute(
        'CREATE TRIGGER finding_search_insert AFTER INSERT ON finding BEGIN '
        'INSERT INTO finding_search(rowid, search_text) VALUES (new.id, new.search_text); END'
    )
    op.execute(
        'CREATE TRIGGER finding_search_delete AFTER DELETE ON finding BEGIN '
        "INSERT INTO finding_search(finding_search, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        'CREATE TRIGGER finding_search_update AFTER UPDATE OF search_text ON finding BEGIN '
        "INSERT INTO finding_search(finding_search, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        'INSERT INTO finding_search(rowid, search_text) VALUES (new.id, new.search_text); END'
    )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    for trigger in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
    op.execute('DROP TABLE IF EXISTS finding_search')
