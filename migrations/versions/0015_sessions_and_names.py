"""login sessions and throttling kept in the database; an admin's lock by hand; stored file
names cleaned

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:20:38
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

import sqlalchemy as sa
from alembic import op

import essays.platform.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_SPACES = re.compile(r"\s+")


def _clean(name: str, fallback: str = "文件") -> str:
    """essays.platform.filenames.clean_filename as of this revision (copied: a migration
    must not change when the app's code does)."""
    kept = []
    for ch in unicodedata.normalize("NFC", name or ""):
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category in ("Cf", "Cs"):
            continue
        elif ch in "/\\":
            kept.append("_")
        else:
            kept.append(ch)
    cleaned = _SPACES.sub(" ", "".join(kept)).strip()
    if not cleaned.strip("."):
        return fallback
    if len(cleaned) > 255:
        suffix = PurePosixPath(cleaned).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        cleaned = cleaned[: 255 - len(suffix)].rstrip() + suffix
    return cleaned


# (table, column) of every stored file name.
_NAMES = (("submission_version", "original_filename"), ("batch_import", "filename"),
          ("reference_upload", "filename"), ("reference_text", "filename"))


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', essays.platform.db.UTCDateTime(), nullable=False),
    sa.Column('last_failure_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.Column('blocked_until', essays.platform.db.UTCDateTime(), nullable=True),
    sa.Column('alerted_at', essays.platform.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("scope IN ('source', 'pair', 'account')", name=op.f('ck_login_throttle_scope_known')),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_login_throttle_failures_not_negative')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index('ix_login_throttle_username', ['username'], unique=False)

    op.create_table('login_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_login_session_user_id_user_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_session_token_hash'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_at', essays.platform.db.UTCDateTime(), nullable=True))

    bind = op.get_bind()
    # Locks from failed logins end here: failed logins no longer lock accounts.
    account = sa.table('user_account', sa.column('failed_logins', sa.Integer),
                       sa.column('locked_until', essays.platform.db.UTCDateTime()))
    bind.execute(account.update().values(failed_logins=0, locked_until=None))
    for table_name, column in _NAMES:
        table = sa.table(table_name, sa.column('id', sa.Integer), sa.column(column, sa.String))
        for row_id, name in bind.execute(sa.select(table.c.id, table.c[column])).all():
            cleaned = _clean(name)
            if cleaned != name:
                bind.execute(table.update().where(table.c.id == row_id).values({column: cleaned}))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('locked_at')

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))

    op.drop_table('login_session')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index('ix_login_throttle_username')

    op.drop_table('login_throttle')
