"""what a copy-detection report compared with: the shared index files, the database, the
whole run, or pending (checked again once the task queue has built the shared files)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('similarity_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('compared_with', sa.String(length=10), server_default='shared', nullable=False))
        batch_op.create_check_constraint(op.f('ck_similarity_report_compared_with_known'),
                                         "compared_with IN ('shared', 'database', 'run', 'pending')")


def downgrade() -> None:
    with op.batch_alter_table('similarity_report', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_similarity_report_compared_with_known'), type_='check')
        batch_op.drop_column('compared_with')
