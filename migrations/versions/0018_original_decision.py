"""the copy-check decision 原创（被他文抄袭）

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-07 13:40:00
"""

from __future__ import annotations

from alembic import op

revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD = "decision IN ('dismissed', 'confirmed', 'disqualified')"
NEW = "decision IN ('dismissed', 'original', 'confirmed', 'disqualified')"


def upgrade() -> None:
    with op.batch_alter_table('similarity_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_similarity_decision_decision_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_similarity_decision_decision_known'), NEW)


def downgrade() -> None:
    op.execute("UPDATE similarity_decision SET decision = 'dismissed' WHERE decision = 'original'")
    with op.batch_alter_table('similarity_decision', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_similarity_decision_decision_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_similarity_decision_decision_known'), OLD)
