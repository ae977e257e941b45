"""finding.due_order: the date of the deadline that binds a finding now

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 07:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

NO_DEADLINE = '9999-12-31'


def upgrade() -> None:
    """Upgrade schema."""
    # ADD COLUMN with a default: in place on both databases, no copy of the table.
    op.add_column(
        'finding',
        sa.Column('due_order', sa.Date(), nullable=False, server_default=NO_DEADLINE),
    )
    # The current deadline as cap.domain.lifecycle.current_deadline finds it at this
    # revision: the earliest deadline in force in the finding's state.
    least = 'min' if op.get_bind().dialect.name == 'sqlite' else 'least'
    none = f"DATE '{NO_DEADLINE}'" if least == 'least' else f"'{NO_DEADLINE}'"

    def earliest(*columns: str) -> str:
        return f"{least}({', '.join(f'coalesce({c}, {none})' for c in columns)})"

    op.execute(
        "UPDATE finding SET due_order = CASE state "
        f"WHEN 'awaiting_plan' THEN {earliest('plan_due', 'remediation_due')} "
        f"WHEN 'plan_review' THEN {earliest('review_due', 'remediation_due')} "
        f"WHEN 'remediating' THEN coalesce(remediation_due, {none}) "
        f"WHEN 'verifying' THEN coalesce(verification_due, {none}) "
        f"ELSE {none} END"
    )
    op.create_index('ix_finding_due_order_id', 'finding', ['due_order', 'id'], unique=False)
    op.create_index(
        'ix_finding_state_found_on', 'finding', ['state', 'found_on', 'created_at', 'id'],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_finding_state_found_on', table_name='finding')
    op.drop_index('ix_finding_due_order_id', table_name='finding')
    # In place (SQLite 3.35 and later drop a column without copying the table, which its
    # plans and events' foreign keys would refuse).
    op.drop_column('finding', 'due_order')
