"""reference uploads: a zip of references waiting for its references.load job

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 00:19:56.017899
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import essays.platform.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reference_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'done')", name=op.f('ck_reference_upload_status_known')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_reference_upload_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_upload'))
    )


def downgrade() -> None:
    op.drop_table('reference_upload')
