"""The models and the Alembic migrations agree: autogenerate finds nothing to do."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import essays.intake.batch
import essays.jobs.models
import essays.models  # (tables)
import essays.platform.audit
import essays.similarity.models  # (tables)
import essays.similarity.references  # noqa: F401  (tables)
import review.models  # noqa: F401  (tables)
from essays.platform.db import Base


def test_no_pending_autogenerate_diff(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_schema_is_at_head(engine):
    from alembic.script import ScriptDirectory

    from essays.platform.migrate import alembic_config

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert current == head
