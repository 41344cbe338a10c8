"""The copy-detection job kinds (essays.jobs), run by the task queue:

- "similarity.run": the whole-competition run (essays.similarity.runs.run_competition),
  audited as "similarity.run"; its result (counts of essays, pairs, levels, seconds) is
  shown by admin/_similarity_run_result.html;
- "references.load": loads a stored reference upload (essays.similarity.references); its
  result holds the outcome of every file, shown by admin/_references_job_result.html.

And two minute tasks, in this order: bringing this machine's shared index files up to date
(essays.similarity.index_build.refresh_all: a new generation when enough uploads came since,
built at the lowest CPU priority),
then re-checking the reports a later upload made stale, or that an upload left pending
for want of those files (essays.similarity.service.refresh_stale).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.jobs.models import Job
from essays.jobs.registry import JobKind
from essays.jobs.runner import Progress
from essays.models import Competition
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.similarity import index_build, pointer, references, service
from essays.similarity.models import ReferenceUpload
from essays.similarity.runs import run_competition

RUN = "similarity.run"
LOAD = "references.load"


def _now():
    from essays.platform.web import now  # the app's clock (tests set CLOCK)

    return now()


def active_run(session: Session, competition: Competition) -> Job | None:
    """A whole run of the competition that is queued or running, if any."""
    return session.execute(select(Job).where(Job.kind == RUN, Job.competition_id == competition.id,
                                             Job.status.in_(("queued", "running"))).order_by(Job.id)
                           ).scalars().first()


def run_job(session: Session, job: Job, progress: Progress) -> dict:
    competition = session.get(Competition, job.competition_id) if job.competition_id else None
    if competition is None:
        raise Refusal("NOT_FOUND")
    result = run_competition(session, competition, _now(), progress)
    record(session, "similarity.run", actor=job.created_by, obj=competition, after=result)
    return {**result, "competition_id": competition.id}


def maintain_index(session: Session, now) -> None:
    from flask import current_app

    root = pointer.index_root(current_app)
    if root is not None:
        index_build.refresh_all(session, root, idle=True)


def refresh_stale_reports(session: Session, now) -> None:
    service.refresh_stale(session, now)


def load_job(session: Session, job: Job, progress: Progress) -> dict:
    """Params: upload_id, max_file_bytes."""
    upload = session.get(ReferenceUpload, job.params["upload_id"])
    if upload is None:
        raise Refusal("NOT_FOUND")
    outcomes = references.load_upload(session, upload, job.created_by, _now(), job.params["max_file_bytes"],
                                      progress)
    summary = {"upload_id": upload.id, "filename": upload.filename}
    if outcomes is None:
        return {**summary, "already_done": True}
    return {**summary, "files": len(outcomes), **references.tally(outcomes), "outcomes": references.as_dicts(outcomes)}


KINDS = (JobKind(RUN, _l("全活动查重"), run_job, template="admin/_similarity_run_result.html"),
         JobKind(LOAD, _l("导入比对文献"), load_job, template="admin/_references_job_result.html"))
MINUTE_TASKS = (maintain_index, refresh_stale_reports)
