"""shared results: audits and findings other buyers shared (`cap import`), keyed by origin

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-11 10:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import cap.store.types  # noqa: F401


# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=False, length=32)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'shared_audit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('origin_buyer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('origin_id', sa.Integer(), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('kind', _enum('desktop', 'site', name='auditkind'), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('auditor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('report', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column('exported_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('imported_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('origin_buyer', 'origin_id'),
    )
    op.create_index(
        op.f('ix_shared_audit_supplier_id'), 'shared_audit', ['supplier_id'], unique=False
    )
    op.create_table(
        'shared_finding',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('origin_buyer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('origin_ref', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('supplier_id', sa.Integer(), nullable=False),
        sa.Column('area', _enum(
            'child_labour', 'forced_labour', 'freedom_of_association', 'discrimination',
            'working_hours', 'wages', 'health_and_safety', 'process_chemicals',
            'anti_corruption', 'responsible_minerals', 'environment', 'transparency', 'other',
            name='area'), nullable=False),
        sa.Column('severity', _enum('minor', 'major', 'critical', name='severity'),
                  nullable=False),
        sa.Column('source', _enum(
            'desktop_audit', 'factory_audit', 'monitoring_report', 'supplier_report',
            'worker_complaint', 'other', name='source'), nullable=False),
        sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('site', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('site_country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column('found_on', sa.Date(), nullable=False),
        sa.Column('state', _enum(
            'open', 'awaiting_plan', 'plan_review', 'remediating', 'verifying',
            'sanction_review', 'closed', 'terminated', 'withdrawn', name='state'),
            nullable=False),
        sa.Column('notified_on', sa.Date(), nullable=True),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('audit_origin_id', sa.Integer(), nullable=True),
        sa.Column('escalation_level', sa.Integer(), nullable=False),
        sa.Column('decision', _enum(
            'extension', 'resumed', 'warning', 'penalty', 'termination',
            name='decisionoutcome'), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column('decision_rationale', sa.Text(), nullable=True),
        sa.Column('exported_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('imported_at', cap.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('origin_buyer', 'origin_ref'),
    )
    op.create_index(
        op.f('ix_shared_finding_supplier_id'), 'shared_finding', ['supplier_id'], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_shared_finding_supplier_id'), table_name='shared_finding')
    op.drop_table('shared_finding')
    op.drop_index(op.f('ix_shared_audit_supplier_id'), table_name='shared_audit')
    op.drop_table('shared_audit')
