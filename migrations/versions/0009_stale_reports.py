"""stale similarity reports; print blobs stored uncompressed on PostgreSQL

A later upload that shares passages with an earlier essay marks the earlier essay's report
stale (one UPDATE in the upload) instead of queueing its re-check as a job; the task
queue's minute task re-checks stale reports.

Fingerprint hashes and positions are random-looking bytes: PostgreSQL's TOAST compression
would try and fail on every insert, so they are stored EXTERNAL (out of line, uncompressed).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('similarity_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stale', sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE similarity_print ALTER COLUMN hashes SET STORAGE EXTERNAL, "
                   "ALTER COLUMN positions SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE similarity_print ALTER COLUMN hashes SET STORAGE EXTENDED, "
                   "ALTER COLUMN positions SET STORAGE EXTENDED")
    with op.batch_alter_table('similarity_report', schema=None) as batch_op:
        batch_op.drop_column('stale')
