"""A competition's copy-detection thresholds (查重阈值), entered as percentages.

Rules:
- 0 < 列出 ≤ 疑似 ≤ 严重 ≤ 100% on 总复制比, and 0 < 通知引用比 ≤ 100%; anything else
  (a missing or non-numeric value too) is refused with SIMILARITY_THRESHOLDS_INVALID and
  nothing changes;
- a change is audited ("similarity.settings", before and after, as shares);
- the stored reports of the competition get their level and notice flag again from the
  new thresholds (essays.similarity.service.level_for): no copy detection runs again.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.models import Competition, Submission, SubmissionVersion, User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.similarity.models import SimilarityReport
from essays.similarity.service import level_for

FIELDS = ("sim_list_from", "sim_suspect_from", "sim_severe_from", "sim_notice_from")


@dataclass(frozen=True)
class Thresholds:
    list_from: float  # shares, 0-1
    suspect_from: float
    severe_from: float
    notice_from: float

    def values(self) -> tuple[float, float, float, float]:
        return (self.list_from, self.suspect_from, self.severe_from, self.notice_from)


def of(competition: Competition) -> Thresholds:
    return Thresholds(*(getattr(competition, name) for name in FIELDS))


def percent_text(share: float) -> str:
    """0.05 -> "5", 0.125 -> "12.5": how the form shows a threshold."""
    return f"{round(share * 100, 2):g}"


def parse_percent(text: str | None) -> float:
    """"30", "30%", "30.5", "３０" -> 0.3, 0.305...; refuses what is no number."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip().rstrip("%").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise Refusal("SIMILARITY_THRESHOLDS_INVALID") from None
    if not math.isfinite(value):
        raise Refusal("SIMILARITY_THRESHOLDS_INVALID")
    return round(value / 100, 6)


def validate(t: Thresholds) -> None:
    if not (0 < t.list_from <= t.suspect_from <= t.severe_from <= 1 and 0 < t.notice_from <= 1):
        raise Refusal("SIMILARITY_THRESHOLDS_INVALID")


def relevel(session: Session, competition: Competition) -> int:
    """Levels and notice flags of the competition's stored reports, from its thresholds
    now; returns how many reports changed level."""
    reports = session.execute(
        select(SimilarityReport).join(SubmissionVersion, SubmissionVersion.id == SimilarityReport.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
        .where(Submission.competition_id == competition.id)).scalars()
    changed = 0
    for report in reports:
        level = level_for(competition, report.total_ratio, bool(report.duplicate_of))
        changed += level != report.level
        report.level = level
        report.notice_flag = report.base_ratio >= competition.sim_notice_from
    session.flush()
    return changed


def update(session: Session, actor: User, competition: Competition, new: Thresholds) -> int:
    """Sets the thresholds and re-levels the stored reports; returns the reports changed."""
    validate(new)
    before = of(competition)
    for name, value in zip(FIELDS, new.values(), strict=True):
        setattr(competition, name, value)
    session.flush()
    changed = relevel(session, competition)
    record(session, "similarity.settings", actor=actor, obj=competition,
           before=dict(zip(FIELDS, before.values(), strict=True)),
           after={**dict(zip(FIELDS, new.values(), strict=True)), "levels_changed": changed})
    return changed
