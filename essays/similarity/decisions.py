"""The admin's decisions on flagged essays (查重处理): 排除（误报）, 原创（被他文抄袭）, 确认抄袭,
取消资格. 原创 is for the essay another one copied (in an exact-duplicate pair, the one
first received): flagged by the copy, not a false alarm, and the 汇总表 says so.

Rules:
- every decision names a reason; an empty one is refused (SIMILARITY_REASON_REQUIRED);
- a decision is taken on the version the admin looked at, which must still be the
  submission's newest: a unit that replaced its essay meanwhile has a new report to read
  first (SIMILARITY_DECISION_STALE);
- decisions are never edited or deleted: each one is a new row, the newest is in force,
  and the history shows them all. Each is audited ("similarity.decide") with the decision
  it replaced;
- a submission is disqualified while its decision in force is 取消资格; judging sends
  disqualified essays to no judge (`is_disqualified`);
- the reason is the admin's record and may name the essay copied from; what the unit is
  told once the results are published is `unit_reason`, written for it (optional: without
  one the unit reads UNIT_NOTICE, which names nobody).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from essays.models import Competition, Submission, SubmissionVersion, User
from essays.platform.audit import record
from essays.platform.errors import Refusal
from essays.similarity.models import DECISIONS, SimilarityDecision

REASON_MAX = 2000
DECISION_NAMES = {"dismissed": _l("排除（误报）"), "original": _l("原创（被他文抄袭）"), "confirmed": _l("确认抄袭"),
                  "disqualified": _l("取消资格")}
UNIT_NOTICE = _l("经政工科审核，本文被取消评选资格。如有疑问，请联系政工科。")
DECISION_CLASSES = {"dismissed": "status-submitted", "original": "status-submitted", "confirmed": "status-overdue",
                    "disqualified": "status-overdue"}


def _newest_first(query):
    return query.order_by(SimilarityDecision.decided_at.desc(), SimilarityDecision.id.desc())


def history(session: Session, submission: Submission) -> list[SimilarityDecision]:
    """Every decision on the submission, newest first (the first is in force)."""
    return list(session.execute(_newest_first(
        select(SimilarityDecision).where(SimilarityDecision.submission_id == submission.id)
        .options(selectinload(SimilarityDecision.decided_by)))).scalars())


def current_decision(session: Session, submission: Submission) -> SimilarityDecision | None:
    """The decision in force (the newest), or None when the admin has decided nothing."""
    return session.execute(_newest_first(
        select(SimilarityDecision).where(SimilarityDecision.submission_id == submission.id)).limit(1)
    ).scalar_one_or_none()


def is_disqualified(session: Session, submission: Submission) -> bool:
    decision = current_decision(session, submission)
    return decision is not None and decision.decision == "disqualified"


def decisions_in_force(session: Session, competition: Competition) -> dict[int, SimilarityDecision]:
    """The decision in force of each decided submission of the competition, by submission id."""
    rows = session.execute(_newest_first(
        select(SimilarityDecision).join(Submission, Submission.id == SimilarityDecision.submission_id)
        .where(Submission.competition_id == competition.id))).scalars()
    found: dict[int, SimilarityDecision] = {}
    for decision in rows:
        found.setdefault(decision.submission_id, decision)
    return found


def _snapshot(decision: SimilarityDecision | None) -> dict | None:
    if decision is None:
        return None
    return {"decision": decision.decision, "reason": decision.reason, "unit_reason": decision.unit_reason,
            "version_id": decision.version_id, "decided_by": decision.decided_by_id}


def decide(session: Session, actor: User, version: SubmissionVersion, decision: str, reason: str,
           now: datetime, unit_reason: str = "") -> SimilarityDecision:
    """Records the admin's decision on the essay of `version`, or refuses (nothing stored)."""
    if decision not in DECISIONS:
        raise Refusal("FORM_INVALID")
    reason, unit_reason = (reason or "").strip(), (unit_reason or "").strip() if decision == "disqualified" else ""
    if not reason:
        raise Refusal("SIMILARITY_REASON_REQUIRED")
    if len(reason) > REASON_MAX or len(unit_reason) > REASON_MAX:
        raise Refusal("FORM_INVALID")
    submission = version.submission
    newest = submission.current
    if newest is not None and newest.id != version.id:
        raise Refusal("SIMILARITY_DECISION_STALE", number=newest.number)
    before = current_decision(session, submission)
    row = SimilarityDecision(submission_id=submission.id, version_id=version.id, decision=decision,
                             reason=reason, unit_reason=unit_reason, decided_by_id=actor.id, decided_at=now)
    session.add(row)
    session.flush()
    record(session, "similarity.decide", actor=actor, obj=submission, before=_snapshot(before),
           after={**_snapshot(row), "version": version.number})
    return row


def unit_notice(decision: SimilarityDecision | None) -> str | None:
    """What the unit reads about its essay once the results are published: only a 取消资格."""
    if decision is None or decision.decision != "disqualified":
        return None
    return decision.unit_reason or str(UNIT_NOTICE)
