"""What a judge's pages are given: frozen views built from the judge's own assignments,
never a model instance.

Blindness must not rest on templates staying careful: a `ReviewCode` reaches its
submission, unit and authors in one attribute (`code.submission.unit`), so one template
edit would name the unit. The views below hold only what a judge may see, copied out of
the models here: the code, the redacted blocks and the title taken from them
(review.prepare.judge_blocks), the theme and the count, the rubric, the judge's own sheet
and their queue. tests/test_review_blind.py renders every judge page and fails on any
model instance in its context other than `current_user`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Competition, Submission, SubmissionVersion, Theme
from review import prepare, scoring
from review.clean_copy import Block
from review.models import Assignment, Reminder, Score
from review.rubric import Rubric


@dataclass(frozen=True)
class BlindCompetition:
    id: int
    title: str


@dataclass(frozen=True)
class Sheet:
    """The judge's own sheet for one essay, as saved (or empty: `status` None)."""

    status: str | None = None  # None | "draft" | "submitted"
    points: tuple[tuple[str, str], ...] = ()
    gates: tuple[tuple[str, bool], ...] = ()
    comment: str = ""
    total: Decimal | None = None
    saved_at: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.status == "submitted"

    def values(self) -> dict:
        """The sheet as the form shows it."""
        return {"points": dict(self.points), "gates": dict(self.gates), "comment": self.comment}


@dataclass(frozen=True)
class QueueItem:
    code: str
    second_round: bool
    sheet: Sheet


@dataclass(frozen=True)
class BlindQueue:
    """A judge's essays in one competition, in code order, with their progress."""

    competition: BlindCompetition
    items: tuple[QueueItem, ...]

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.sheet.locked)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def progress(self) -> tuple[int, int]:
        return self.done, self.total

    def after(self, code: str) -> str | None:
        """The code after `code` in the queue (None after the last)."""
        codes = [item.code for item in self.items]
        at = codes.index(code) if code in codes else 0
        return codes[at + 1] if at + 1 < len(codes) else None


@dataclass(frozen=True)
class BlindEssay:
    """One essay as its judge reads and scores it."""

    competition: BlindCompetition
    code: str
    second_round: bool
    title: str
    blocks: tuple[Block, ...]
    theme: str
    words: int
    rubric: Rubric
    sheet: Sheet
    progress: tuple[int, int]
    next_code: str | None


@dataclass(frozen=True)
class BlindReminder:
    id: int
    sent_at: datetime
    text: str
    competition_title: str
    progress: tuple[int, int] | None


def competition_view(competition: Competition) -> BlindCompetition:
    return BlindCompetition(competition.id, competition.title)


def sheet_view(score: Score | None) -> Sheet:
    if score is None:
        return Sheet()
    return Sheet(status=score.status, points=tuple(sorted((score.points or {}).items())),
                 gates=tuple(sorted((score.gates or {}).items())), comment=score.comment or "",
                 total=score.total, saved_at=score.saved_at)


def queue_view(competition: Competition, mine: list[Assignment]) -> BlindQueue:
    """`mine`: the judge's live assignments in code order, with their codes and sheets."""
    return BlindQueue(competition_view(competition),
                      tuple(QueueItem(a.code.code, a.round == 2, sheet_view(a.score)) for a in mine))


def essay_view(session: Session, assignment: Assignment, queue: BlindQueue) -> BlindEssay:
    """The essay of `assignment` (one of the judge's own), with the judge's sheet."""
    code = assignment.code
    blocks = tuple(prepare.judge_blocks(code))
    theme, words = session.execute(
        select(Theme.title, SubmissionVersion.char_count)
        .select_from(SubmissionVersion).join(Submission, Submission.id == SubmissionVersion.submission_id)
        .outerjoin(Theme, Theme.id == Submission.theme_id).where(SubmissionVersion.id == code.version_id)).one()
    title = next((b.text for b in blocks if b.kind == "title"), code.code)
    return BlindEssay(competition=queue.competition, code=code.code, second_round=assignment.round == 2,
                      title=title, blocks=blocks, theme=theme or "", words=words,
                      rubric=scoring.rubric_for(session, code.competition), sheet=sheet_view(assignment.score),
                      progress=queue.progress, next_code=queue.after(code.code))


def reminder_view(reminder: Reminder, competition: Competition, progress: tuple[int, int] | None) -> BlindReminder:
    return BlindReminder(reminder.id, reminder.sent_at, reminder.text or "", competition.title, progress)
