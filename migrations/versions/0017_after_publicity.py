"""after the 公示: the 优秀组织奖 granted to units; when a competition opened and closed intake

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-20 10:00:00

The two dates are new columns set by the phase moves from now on; for competitions that
moved before this revision they are taken from the audit log's phase moves (the time of
the request that moved them, the only record there is).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import essays.platform.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organisation_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=False),
    sa.Column('granted_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competition.id'], name=op.f('fk_organisation_award_competition_id_competition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['user_account.id'], name=op.f('fk_organisation_award_granted_by_id_user_account')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_organisation_award_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_award')),
    sa.UniqueConstraint('competition_id', 'unit_id', name='uq_organisation_award_unit')
    )
    with op.batch_alter_table('competition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', essays.platform.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('intake_closed_at', essays.platform.db.UTCDateTime(), nullable=True))
    _backfill()


def _backfill() -> None:
    """The first move of each competition to 收稿中 and to 收稿截止, as the audit log has them."""
    audit = sa.table('audit_log', sa.column('created_at', essays.platform.db.UTCDateTime()),
                     sa.column('action', sa.String), sa.column('object_id', sa.String),
                     sa.column('after', sa.JSON), sa.column('seq', sa.Integer))
    competition = sa.table('competition', sa.column('id', sa.Integer),
                           sa.column('opened_at', essays.platform.db.UTCDateTime()),
                           sa.column('intake_closed_at', essays.platform.db.UTCDateTime()))
    bind = op.get_bind()
    found: dict[tuple[str, str], object] = {}
    rows = bind.execute(sa.select(audit.c.object_id, audit.c.after, audit.c.created_at)
                        .where(audit.c.action == 'competition.phase').order_by(audit.c.seq)).all()
    for object_id, after, at in rows:
        phase = (after or {}).get('phase')
        if phase in ('open', 'intake_closed'):
            found.setdefault((object_id, phase), at)
    for (object_id, phase), at in found.items():
        if not object_id.isdigit():
            continue
        column = 'opened_at' if phase == 'open' else 'intake_closed_at'
        bind.execute(competition.update().where(competition.c.id == int(object_id)).values({column: at}))


def downgrade() -> None:
    with op.batch_alter_table('competition', schema=None) as batch_op:
        batch_op.drop_column('intake_closed_at')
        batch_op.drop_column('opened_at')
    op.drop_table('organisation_award')
