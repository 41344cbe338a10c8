"""copy detection: fingerprint index, references, base quotations, reports, decisions, thresholds

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 00:10:51.172965
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import essays.platform.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('similarity_index',
    sa.Column('scope', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.CheckConstraint('generation >= 0', name=op.f('ck_similarity_index_generation_not_negative')),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_similarity_index'))
    )
    op.create_table('base_quotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_base_quotation_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_quotation')),
    sa.UniqueConstraint('text', name='uq_base_quotation_text')
    )
    op.create_table('reference_text',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('collection', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_bytes', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('char_count', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint('length(sha256) = 64', name=op.f('ck_reference_text_sha256_hex')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_reference_text_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reference_text')),
    sa.UniqueConstraint('sha256', name='uq_reference_sha256')
    )
    op.create_table('similarity_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("decision IN ('dismissed', 'confirmed', 'disqualified')", name=op.f('ck_similarity_decision_decision_known')),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_similarity_decision_reason_given')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_similarity_decision_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_similarity_decision_submission_id_submission'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['submission_version.id'], name=op.f('fk_similarity_decision_version_id_submission_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_similarity_decision'))
    )
    op.create_table('similarity_print',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('reference_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('norm_text', sa.Text(), nullable=False),
    sa.Column('hashes', sa.LargeBinary(), nullable=False),
    sa.Column('positions', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint('(version_id IS NULL) != (reference_id IS NULL)', name=op.f('ck_similarity_print_one_document')),
    sa.ForeignKeyConstraint(['reference_id'], ['reference_text.id'], name=op.f('fk_similarity_print_reference_id_reference_text'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_similarity_print_unit_id_unit')),
    sa.ForeignKeyConstraint(['version_id'], ['submission_version.id'], name=op.f('fk_similarity_print_version_id_submission_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_similarity_print')),
    sa.UniqueConstraint('reference_id', name='uq_print_reference'),
    sa.UniqueConstraint('version_id', name='uq_print_version')
    )
    with op.batch_alter_table('similarity_print', schema=None) as batch_op:
        batch_op.create_index('ix_similarity_print_scope_generation', ['scope', 'generation'], unique=False)
        batch_op.create_index('ix_similarity_print_scope_digest', ['scope', 'digest'], unique=False)

    op.create_table('similarity_report',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('total_ratio', sa.Float(), nullable=False),
    sa.Column('max_ratio', sa.Float(), nullable=False),
    sa.Column('base_ratio', sa.Float(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('notice_flag', sa.Boolean(), nullable=False),
    sa.Column('duplicate_of', sa.JSON(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('traces', sa.JSON(), nullable=False),
    sa.Column('hot', sa.JSON(), nullable=False),
    sa.Column('checked_at', essays.platform.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("level IN ('none', 'listed', 'suspect', 'severe')", name=op.f('ck_similarity_report_level_known')),
    sa.CheckConstraint('base_ratio >= 0 AND base_ratio <= 1', name=op.f('ck_similarity_report_base_ratio_share')),
    sa.CheckConstraint('total_ratio >= 0 AND total_ratio <= 1', name=op.f('ck_similarity_report_total_ratio_share')),
    sa.ForeignKeyConstraint(['version_id'], ['submission_version.id'], name=op.f('fk_similarity_report_version_id_submission_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_similarity_report'))
    )
    with op.batch_alter_table('competition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sim_list_from', sa.Float(), server_default=sa.text('0.05'), nullable=False))
        batch_op.add_column(sa.Column('sim_suspect_from', sa.Float(), server_default=sa.text('0.3'), nullable=False))
        batch_op.add_column(sa.Column('sim_severe_from', sa.Float(), server_default=sa.text('0.5'), nullable=False))
        batch_op.add_column(sa.Column('sim_notice_from', sa.Float(), server_default=sa.text('0.25'), nullable=False))
        batch_op.create_check_constraint(
            'similarity_thresholds_ordered',
            '0 < sim_list_from AND sim_list_from <= sim_suspect_from AND '
            'sim_suspect_from <= sim_severe_from AND sim_severe_from <= 1')
        batch_op.create_check_constraint('notice_threshold_share', '0 < sim_notice_from AND sim_notice_from <= 1')
    op.execute("INSERT INTO similarity_index (scope, generation) VALUES (0, 0)")



def downgrade() -> None:
    with op.batch_alter_table('competition', schema=None) as batch_op:
        batch_op.drop_constraint('ck_competition_notice_threshold_share', type_='check')
        batch_op.drop_constraint('ck_competition_similarity_thresholds_ordered', type_='check')
        batch_op.drop_column('sim_notice_from')
        batch_op.drop_column('sim_severe_from')
        batch_op.drop_column('sim_suspect_from')
        batch_op.drop_column('sim_list_from')

    op.drop_table('similarity_report')
    with op.batch_alter_table('similarity_print', schema=None) as batch_op:
        batch_op.drop_index('ix_similarity_print_scope_digest')
        batch_op.drop_index('ix_similarity_print_scope_generation')

    op.drop_table('similarity_print')
    op.drop_table('similarity_decision')
    op.drop_table('reference_text')
    op.drop_table('base_quotation')
    op.drop_table('similarity_index')
