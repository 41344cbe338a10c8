"""The models and the Alembic migrations agree: autogenerate finds nothing to do."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import models_metadata


def test_no_pending_autogenerate_diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, models_metadata())
    assert diff == []


def test_schema_is_at_head(engine):
    from alembic.script import ScriptDirectory

    from essays.platform.migrate import alembic_config

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current == head
