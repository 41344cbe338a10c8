"""titles stored bare with their open question; the reasons a disqualified unit is told

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_SPACES = re.compile(r"\s+")


def _clean(text: str) -> str:
    """essays.intake.titles.clean_title as of this revision (copied: a migration must not
    change when the app's code does)."""
    title = _SPACES.sub(" ", text or "").strip()
    while title.startswith("《") and title.endswith("》"):
        depth, closes_at_end = 0, False
        for at, ch in enumerate(title):
            depth += (ch == "《") - (ch == "》")
            if depth == 0:
                closes_at_end = at == len(title) - 1
                break
        if not closes_at_end:
            break
        title = title[1:-1].strip()
    return title[:200]


def upgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_question', sa.JSON(), nullable=True))
    with op.batch_alter_table('similarity_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_reason', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('review_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excluded_unit_reason', sa.Text(), server_default='', nullable=False))

    submission = sa.table('submission', sa.column('id', sa.Integer), sa.column('title', sa.String))
    bind = op.get_bind()
    for row in bind.execute(sa.select(submission.c.id, submission.c.title)).all():
        cleaned = _clean(row.title)
        if cleaned and cleaned != row.title:
            bind.execute(submission.update().where(submission.c.id == row.id).values(title=cleaned))


def downgrade() -> None:
    with op.batch_alter_table('review_code', schema=None) as batch_op:
        batch_op.drop_column('excluded_unit_reason')
    with op.batch_alter_table('similarity_decision', schema=None) as batch_op:
        batch_op.drop_column('unit_reason')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('title_question')
