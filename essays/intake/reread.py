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
- a file the new reader refuses keeps its text (it was accepted when it came), and so does
  one it fails on in any other way (logged, in a SAVEPOINT of its own: the others go on);
- once a competition's review has opened (评审中 and later), what was judged stays as it was:
  the version's text and 字数 are not changed, only the difference is recorded;
- one audit entry "version.reread" per run that read anything: the versions read, and for
  each one changed its 字数 before and after.
Versions are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, as the stale reports are.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)

REREAD_AT_ONCE = 20
# fn(session, version, now), called for each version whose text changed.
LISTENERS: dict[str, Callable[[Session, SubmissionVersion, datetime], object]] = {}


def register_listener(fn: Callable[[Session, SubmissionVersion, datetime], object]) -> None:
    LISTENERS[f"{fn.__module__}.{fn.__qualname__}"] = fn


OPEN_PHASES = ("draft", "open", "intake_closed")  # before judging: what is read may still change


def _reread(session: Session, version: SubmissionVersion, now: datetime) -> dict | None:
    """Reads one version again; the difference when its text changed, else None."""
    competition = version.submission.competition
    try:
        inspection = inspect_file(version.file_bytes, rules_for(competition))
    except Refusal:
        return None
    if inspection.content.text == version.text:
        return None
    difference = {"words_before": version.char_count, "words": inspection.counts.words}
    if competition.phase not in OPEN_PHASES:
        return {**difference, "kept": True}  # judged as it was read: recorded, not changed
    version.text, version.char_count = inspection.content.text, inspection.counts.words
    version.counts = inspection.counts.as_dict()
    version.checks = {**(version.checks or {}), **checks_of(inspection)}
    session.flush()
    text_changed(session, version)
    for listener in LISTENERS.values():
        listener(session, version, now)
    return difference


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
            with session.begin_nested():
                difference = _reread(session, version, now)
        except Exception:  # one bad file must not stop the upkeep for every later version
            log.exception("version %s could not be read again", version.id)
            continue
        if difference is not None:
            changed[str(version.id)] = difference
    if rows:
        session.flush()
        record(session, "version.reread", object_type="submission_version",
               after={"versions": [v.id for v in rows], "changed": changed})
    return [int(i) for i, difference in changed.items() if not difference.get("kept")]
