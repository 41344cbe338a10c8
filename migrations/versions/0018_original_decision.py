"""the copy-check decision 原创（被他文抄袭）; the 复议 of a voided sheet (维持 / 改判)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

OLD = "decision IN ('dismissed', 'confirmed', 'disqualified')"
NEW = "decision IN ('dismissed', 'original', 'confirmed', 'disqualified')"


def upgrade() -> None:
    with op.batch_alter_table('similarity_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_similarity_decision_decision_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_similarity_decision_decision_known'), NEW)
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recheck', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('recheck_reason', sa.Text(), server_default='', nullable=False))
        batch_op.create_check_constraint(op.f('ck_score_recheck_known'),
                                         "recheck IS NULL OR recheck IN ('kept', 'restored')")


def downgrade() -> None:
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_score_recheck_known'), type_='check')
        batch_op.drop_column('recheck_reason')
        batch_op.drop_column('recheck')
    op.execute("UPDATE similarity_decision SET decision = 'dismissed' WHERE decision = 'original'")
    with op.batch_alter_table('similarity_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_similarity_decision_decision_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_similarity_decision_decision_known'), OLD)
