"""Batch import of essays that units e-mailed, named like 单位-作者-题目.docx (a folder or a .zip).

Steps: read the entries → plan each file (parse its name, match the unit, inspect the file)
→ the admin confirms the doubtful matches → each file goes through `intake.receive` as if
its unit had uploaded it, in its own SAVEPOINT, and every file gets an outcome: imported,
refused (code and message), skipped (why) or doubtful (its unit needs confirming).
The web import keeps the uploaded zip in `batch_import` between the preview and the
confirmation (workers share no memory); the CLI reads and imports in one go.
Nothing from a zip is ever written to disk: its paths are only shown.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from essays.competitions.operations import participating_units
from essays.intake.batch_files import (
    BatchFile,
    MatchResult,
    basename,
    match_unit,
    parse_filename,
    read_zip,
)
from essays.intake.inspection import Inspection, inspect_file
from essays.intake.models import BatchImport
from essays.intake.receive import EssayForm, receive, rules_for
from essays.jobs.models import Job
from essays.jobs.registry import JobKind
from essays.jobs.runner import Progress
from essays.models import Competition, Submission, SubmissionVersion, Unit, User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.platform.filenames import clean_filename

IMPORT_PHASES = ("open", "intake_closed")  # where intake.receive(by_admin=True) accepts files
SKIP_DUPLICATE = _l("与该单位已收到的文件完全相同，未重复导入")
SKIP_NO_UNIT = _l("选择了不导入")
DOUBTFUL = _l("无法确定是哪个单位，未导入")


# --- planning and importing --------------------------------------------------------------


@dataclass
class Planned:
    index: int
    file: BatchFile
    skipped: str = ""
    refusal: Refusal | None = None
    unit_text: str = ""
    authors: list[str] = field(default_factory=list)
    title: str = ""
    match: MatchResult | None = None
    inspection: Inspection | None = None

    @property
    def importable(self) -> bool:
        return not self.skipped and self.refusal is None


@dataclass
class Outcome:
    file: str
    status: str  # imported | refused | skipped | doubtful
    unit: str = ""
    title: str = ""
    words: int | None = None
    code: str = ""
    message: str = ""
    candidates: list[str] = field(default_factory=list)


def known_hashes(session: Session, competition: Competition) -> set[tuple[str, int]]:
    """(SHA-256, unit id) of every version received: a unit that both uploaded and e-mailed
    its essay is not imported twice. The same file from another unit is imported, so that
    copy detection sees it, rather than skipped."""
    return set(session.execute(select(SubmissionVersion.sha256, Submission.unit_id).join(Submission)
                               .where(Submission.competition_id == competition.id)).tuples())


def plan(files: list[BatchFile], units: list[Unit], competition: Competition,
         known: set[tuple[str, int]]) -> list[Planned]:
    """What would happen to each file: parsed name, unit match, inspection, duplicates."""
    seen, planned = set(known), []
    for index, f in enumerate(files):
        p = Planned(index, f, skipped=f.skipped, refusal=f.refusal)
        planned.append(p)
        if f.data is None:
            continue
        p.unit_text, p.authors, p.title = parse_filename(f.name)
        p.match = match_unit(p.unit_text, units)
        key = (hashlib.sha256(f.data).hexdigest(), p.match.unit.id if p.match.unit else None)
        if key in seen:
            p.skipped = str(SKIP_DUPLICATE)
            continue
        seen.add(key)
        try:
            p.inspection = inspect_file(f.data, rules_for(competition))
        except Refusal as e:
            p.refusal = e
            continue
        if p.inspection.verdict.refuse:
            p.refusal = Refusal("OVER_LIMIT", count=p.inspection.counts.words, limit=competition.char_limit,
                                cut=p.inspection.verdict.cut)
    return planned


def candidate_names(match: MatchResult | None) -> list[str]:
    return [f"{u.name}（{s:g}）" for u, s in match.candidates] if match else []


def doubtful_outcome(p: Planned) -> Outcome:
    return Outcome(p.file.name, "doubtful", message=str(DOUBTFUL), candidates=candidate_names(p.match))


def not_importable(p: Planned) -> Outcome:
    if p.skipped:
        return Outcome(p.file.name, "skipped", message=p.skipped)
    return Outcome(p.file.name, "refused", code=p.refusal.code, message=p.refusal.message)


def import_planned(session: Session, competition: Competition, user: User, planned: list[Planned],
                   choices: dict[int, Unit | None], now: datetime,
                   progress: Callable[[int, int, str], None] | None = None) -> list[Outcome]:
    """Imports each importable file for the unit chosen for it (`choices` by index).
    `progress(done, total, message)` hears before each file (a job's Progress)."""
    theme_id = competition.themes[0].id if len(competition.themes) == 1 else None
    outcomes = []
    for done, p in enumerate(planned):
        if progress is not None:
            progress(done, len(planned), _l("正在导入第 %(n)s 个文件（共 %(total)s 个）：%(name)s", n=done + 1,
                                            total=len(planned), name=basename(p.file.name)))
        unit = choices.get(p.index)
        if not p.importable:
            outcomes.append(not_importable(p))
            continue
        if unit is None:
            doubtful = p.match is None or not p.match.confident
            outcomes.append(doubtful_outcome(p) if doubtful else Outcome(p.file.name, "skipped",
                                                                       message=str(SKIP_NO_UNIT)))
            continue
        form = EssayForm(theme_id=theme_id, title=p.title, authors=p.authors, contact_phone=unit.contact_phone or "")
        try:
            with session.begin_nested():
                _, version, _ = receive(session, competition, unit, user, form, basename(p.file.name),
                                        p.file.data, now, by_admin=True)
        except Refusal as e:
            outcomes.append(Outcome(p.file.name, "refused", unit=unit.name, code=e.code, message=e.message))
            continue
        outcomes.append(Outcome(p.file.name, "imported", unit=unit.name, title=version.submission.title,
                                words=version.char_count))
    return outcomes


def tally(outcomes: list[Outcome]) -> dict[str, int]:
    counts = Counter(o.status for o in outcomes)
    return {s: counts.get(s, 0) for s in ("imported", "refused", "skipped", "doubtful")}


def record_import(session: Session, user: User, competition: Competition, outcomes: list[Outcome],
                  batch: BatchImport | None = None, source: str = "") -> None:
    record(session, "batch.import", actor=user, obj=batch or competition,
           after={"competition_id": competition.id, "source": source, **tally(outcomes)})


# --- the web import's stored batch ---------------------------------------------------------


def upload(session: Session, user: User, competition: Competition, filename: str, data: bytes,
           max_file_bytes: int) -> BatchImport:
    """Checks the zip can be read and keeps it for the preview. Raises NotAZip or Refusal."""
    if competition.phase not in IMPORT_PHASES:
        raise Refusal("NOT_OPEN")
    files = read_zip(data, max_file_bytes)
    batch = BatchImport(competition=competition, uploaded_by=user, filename=clean_filename(basename(filename)),
                        data=data, sha256=hashlib.sha256(data).hexdigest(), status="pending")
    session.add(batch)
    session.flush()
    record(session, "batch.upload", actor=user, obj=batch,
           after={"competition_id": competition.id, "filename": batch.filename, "sha256": batch.sha256,
                  "size": len(data), "entries": len(files)})
    return batch


def _claim(session: Session, batch: BatchImport, status: str) -> bool:
    """Moves a pending batch on, atomically: of two confirmations only one gets True."""
    moved = session.execute(update(BatchImport).where(BatchImport.id == batch.id, BatchImport.status == "pending")
                            .values(status=status)).rowcount
    session.refresh(batch)
    return moved == 1


def confirm(session: Session, user: User, batch: BatchImport, choices: dict[int, Unit | None], units: list[Unit],
            now: datetime, max_file_bytes: int,
            progress: Callable[[int, int, str], None] | None = None) -> list[Outcome] | None:
    """Imports a pending batch with the admin's choices; None when it was not pending.
    Refused (and the batch kept) when the competition no longer takes essays."""
    if batch.competition.phase not in IMPORT_PHASES:
        raise Refusal("NOT_OPEN")
    if not _claim(session, batch, "done"):
        return None
    competition = batch.competition
    if progress is not None:
        progress(0, 0, _l("正在读取和检查压缩包中的文件"))
    planned = plan(read_zip(batch.data, max_file_bytes), units, competition, known_hashes(session, competition))
    outcomes = import_planned(session, competition, user, planned, choices, now, progress)
    batch.report, batch.data = [asdict(o) for o in outcomes], b""
    session.flush()
    record_import(session, user, competition, outcomes, batch=batch, source=batch.filename)
    return outcomes


def cancel(session: Session, user: User, batch: BatchImport) -> bool:
    if not _claim(session, batch, "cancelled"):
        return False
    batch.data = b""
    session.flush()
    record(session, "batch.cancel", actor=user, obj=batch, after={"filename": batch.filename})
    return True


def confirm_job(session: Session, job: Job, progress: Progress) -> dict:
    """The web confirmation, run by the task queue (essays.jobs). Params: batch_id, choices
    ({file index: unit id, or None for do not import}) and max_file_bytes. The result is the
    outcome tally; the report itself is kept in the batch as before."""
    from essays.platform.web import now  # the app's clock

    batch = session.get(BatchImport, job.params["batch_id"])
    if batch is None:
        raise Refusal("NOT_FOUND")
    units = participating_units(session)
    by_id = {u.id: u for u in units}
    # A unit deactivated since the confirmation is not imported to (the file shows as skipped).
    choices = {int(index): by_id.get(unit_id) for index, unit_id in job.params["choices"].items()}
    outcomes = confirm(session, job.created_by, batch, choices, units, now(), job.params["max_file_bytes"], progress)
    summary = {"batch_id": batch.id, "filename": batch.filename}
    if outcomes is None:
        return {**summary, "already_done": True}
    progress(len(outcomes), len(outcomes), _l("导入完成"))
    return {**summary, "files": len(outcomes), **tally(outcomes)}


KINDS = (JobKind("batch.confirm", _l("批量导入"), confirm_job, template="admin/_batch_job_result.html"),)
