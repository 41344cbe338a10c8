"""the reader that read each stored version: versions read by an older one are read again

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every version stored so far was read by reader 1 (no altChunk text); the minute upkeep
    # reads them again (essays.intake.reread).
    with op.batch_alter_table('submission_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reader', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('submission_version', schema=None) as batch_op:
        batch_op.drop_column('reader')
