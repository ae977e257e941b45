"""obligations: the reports contracts oblige suppliers to send, their trail, outbox.obligation_id

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 17:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KINDS = ('social_risk_report', 'self_assessment', 'minerals_report', 'other')
_STATES = ('due', 'escalated', 'received', 'waived')


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'obligation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum(*_KINDS, name='obligationkind'), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('first_due', sa.Date(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('state', _enum(*_STATES, name='obligationstate'), nullable=False),
        sa.Column('ladder', sa.JSON(), nullable=False),
        sa.Column('escalation_level', sa.Integer(), nullable=False),
        sa.Column('deadline_version', sa.Integer(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=True),
        sa.Column('next_check_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_event_at', cap.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id']),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        op.f('ix_obligation_contract_id'), 'obligation', ['contract_id'], unique=False
    )
    op.create_index(
        op.f('ix_obligation_supplier_id'), 'obligation', ['supplier_id'], unique=False
    )
    op.create_index(
        op.f('ix_obligation_next_check_at'), 'obligation', ['next_check_at'], unique=False
    )
    op.create_index(
        'uq_obligation_contract_kind_first_due', 'obligation',
        ['contract_id', 'kind', 'first_due'], unique=True,
    )
    op.create_index('ix_obligation_state_due', 'obligation', ['state', 'due'], unique=False)
    op.create_table(
        'obligation_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('obligation_id', sa.Integer(), nullable=False),
        sa.Column('at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('from_state', _enum(*_STATES, name='obligationstate'), nullable=True),
        sa.Column('to_state', _enum(*_STATES, name='obligationstate'), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_obligation_event_obligation_id_id', 'obligation_event', ['obligation_id', 'id'],
        unique=False,
    )
    # SQLite cannot add a foreign key to a table but can add a column that carries one.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE outbox ADD COLUMN obligation_id INTEGER REFERENCES obligation (id)')
    else:
        op.add_column('outbox', sa.Column('obligation_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            'outbox_obligation_id_fkey', 'outbox', 'obligation', ['obligation_id'], ['id']
        )
    op.create_index(op.f('ix_outbox_obligation_id'), 'outbox', ['obligation_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_outbox_obligation_id'), table_name='outbox')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('outbox_obligation_id_fkey', 'outbox', type_='foreignkey')
    op.drop_column('outbox', 'obligation_id')
    op.drop_index('ix_obligation_event_obligation_id_id', table_name='obligation_event')
    op.drop_table('obligation_event')
    op.drop_index('ix_obligation_state_due', table_name='obligation')
    op.drop_index('uq_obligation_contract_kind_first_due', table_name='obligation')
    op.drop_index(op.f('ix_obligation_next_check_at'), table_name='obligation')
    op.drop_index(op.f('ix_obligation_supplier_id'), table_name='obligation')
    op.drop_index(op.f('ix_obligation_contract_id'), table_name='obligation')
    op.drop_table('obligation')
