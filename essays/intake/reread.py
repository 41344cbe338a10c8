"""Reading stored versions again after the reader changed what it reads
(essays.intake.docx.reader.READER_VERSION; each version records the reader that read it).

The minute upkeep (`reread_versions`, a minute task of the task queue) takes up to
REREAD_AT_ONCE versions read by an older reader, oldest first, and reads their stored bytes
again with the competition's rules:
- when the text is the same, only the version's reader is updated;
- when it changed (a file whose text sat in an altChunk, say), the version's text, 字数, counts
  and the checks derived from reading (count range, detected title, outside references) are
  updated; its copy-check report is marked stale and its print dropped
  (essays.similarity.service.text_changed), so the copy check runs again on the new text; and
  every listener registered by a later package (`register_listener`, from its init_app) is
  told, e.g. the review scans again a code made from that version while intake is closed;
- a file the new reader refuses keeps its text (it was accepted when it came);
- one audit entry "version.reread" per run that read anything: the versions read, and for
  each one changed its 字数 before and after.
Versions are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, as the stale reports are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.intake.docx.reader import READER_VERSION
from essays.intake.inspection import inspect_file
from essays.intake.receive import checks_of, rules_for
from essays.models import SubmissionVersion
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.similarity.service import text_changed

REREAD_AT_ONCE = 20
# fn(session, version, now), called for each version whose text changed.
LISTENERS: dict[str, Callable[[Session, SubmissionVersion, datetime], object]] = {}


def register_listener(fn: Callable[[Session, SubmissionVersion, datetime], object]) -> None:
    LISTENERS[f"{fn.__module__}.{fn.__qualname__}"] = fn


def reread_versions(session: Session, now: datetime, limit: int = REREAD_AT_ONCE) -> list[int]:
    """Reads again up to `limit` versions read by an older reader (rules in the docstring);
    returns the ids of those whose text changed."""
    rows = session.execute(select(SubmissionVersion).where(SubmissionVersion.reader < READER_VERSION)
                           .order_by(SubmissionVersion.id).limit(limit).with_for_update(skip_locked=True)
                           ).scalars().all()
    changed: dict[str, dict] = {}
    for version in rows:
        version.reader = READER_VERSION
        try:
            inspection = inspect_file(version.file_bytes, rules_for(version.submission.competition))
        except Refusal:
            continue
        if inspection.content.text == version.text:
            continue
        changed[str(version.id)] = {"words_before": version.char_count, "words": inspection.counts.words}
        version.text, version.char_count = inspection.content.text, inspection.counts.words
        version.counts = inspection.counts.as_dict()
        version.checks = {**(version.checks or {}), **checks_of(inspection)}
        session.flush()
        text_changed(session, version)
        for listener in LISTENERS.values():
            listener(session, version, now)
    if rows:
        session.flush()
        record(session, "version.reread", object_type="submission_version",
               after={"versions": [v.id for v in rows], "changed": changed})
    return [int(i) for i in changed]
