"""api_token: the tokens other systems call the API with, kept as their SHA-256

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 12:45:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('role', sa.Enum('admin', 'contract_manager', 'sustainability_manager', 'viewer',
                                  name='staffrole', native_enum=False, length=32),
                  nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('created_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('api_token')
