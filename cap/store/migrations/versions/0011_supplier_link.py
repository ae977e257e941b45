"""supplier_link: the links sent to suppliers, each a row the signed token in its URL names

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 11:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import cap.store.types


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'supplier_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.Integer(), nullable=True),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('address_key', sa.String(length=254), nullable=False),
        sa.Column('created_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('first_opened_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_opened_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('uses', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['finding_id'], ['finding.id']),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_supplier_link_finding_address', 'supplier_link', ['finding_id', 'address_key'],
        unique=False,
    )
    op.create_index(
        op.f('ix_supplier_link_supplier_id'), 'supplier_link', ['supplier_id'], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_supplier_link_supplier_id'), table_name='supplier_link')
    op.drop_index('ix_supplier_link_finding_address', table_name='supplier_link')
    op.drop_table('supplier_link')
