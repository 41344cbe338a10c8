"""jobs: long work done by the task queue (essays.jobs.models.Job)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 00:09:51.754742
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import essays.platform.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('error_code', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', essays.platform.db.UTCDateTime(), nullable=True),
    sa.Column('progress_at', essays.platform.db.UTCDateTime(), nullable=True),
    sa.Column('finished_at', essays.platform.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_job_status_known')),
    sa.CheckConstraint('progress_done >= 0 AND progress_total >= 0', name=op.f('ck_job_progress_not_negative')),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_job_competition_id_competition')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_job_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_status'))
        batch_op.drop_index(batch_op.f('ix_job_competition_id'))

    op.drop_table('job')
