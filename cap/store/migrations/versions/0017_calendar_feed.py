"""calendar_feed: each desk user's secret calendar feed URL, kept as its SHA-256

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'calendar_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index(op.f('ix_calendar_feed_user_id'), 'calendar_feed', ['user_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_calendar_feed_user_id'), table_name='calendar_feed')
    op.drop_table('calendar_feed')
