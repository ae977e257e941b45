"""audits: the audits held, the yearly follow-up plan, and the audit a finding comes from

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'audit_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('capacity', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('chosen', sa.JSON(), nullable=False),
        sa.Column('created_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('year'),
    )
    op.create_table(
        'audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('desktop', 'site', name='auditkind', native_enum=False,
                                  create_constraint=False, length=32), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('auditor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('report', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=True),
        sa.Column('created_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id']),
        sa.ForeignKeyConstraint(['plan_id'], ['audit_plan.id']),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_audit_supplier_id'), 'audit', ['supplier_id'], unique=False)
    op.create_index(op.f('ix_audit_contract_id'), 'audit', ['contract_id'], unique=False)
    op.create_index(op.f('ix_audit_plan_id'), 'audit', ['plan_id'], unique=False)
    # A nullable column without a default: in place on both databases, no copy of the table
    # (a copy of `finding` would fail on the foreign keys of its plans and events). SQLite
    # cannot add a foreign key to a table but can add a column that carries one.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE finding ADD COLUMN audit_id INTEGER REFERENCES audit (id)')
    else:
        op.add_column('finding', sa.Column('audit_id', sa.Integer(), nullable=True))
        op.create_foreign_key('finding_audit_id_fkey', 'finding', 'audit', ['audit_id'], ['id'])


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('finding_audit_id_fkey', 'finding', type_='foreignkey')
    # Not in batch mode: SQLite (3.35+) drops a column in place, where a batch would copy the
    # table.
    op.drop_column('finding', 'audit_id')
    op.drop_index(op.f('ix_audit_plan_id'), table_name='audit')
    op.drop_index(op.f('ix_audit_contract_id'), table_name='audit')
    op.drop_index(op.f('ix_audit_supplier_id'), table_name='audit')
    op.drop_table('audit')
    op.drop_table('audit_plan')
