"""Forwarding the best essays to the bureau-level selection (报送局系统): which essays, and
the texts of their 推荐表.

Rules:
- forwarding opens once the ranking is frozen (排名已冻结, 公示中, 已结束); until the 公示
  is over the page says that the list may still change (an award can be withdrawn);
- the admin chooses either the top N places (N from 1 to 500) or every essay of the chosen
  award tiers; an essay without a place, or whose award was withdrawn, is never chosen;
- choosing again keeps what was written for the essays still chosen and drops the others;
- the page shows the last choice as it was made (`last_choice`: the mode, and N or the tiers),
  not as the list it gave (the top 4 and four essays of three tiers can be the same list);
- a newly chosen essay's 推荐理由 starts empty: the judges' comments on it (the counted
  sheets, in the judges' order, without their names, each once: `comments`) are shown beside
  it to pick from, since joining them all would put criticism ("结合城管工作不够紧密") into
  the 推荐表; its 单位意见 starts as 同意推荐。;
- the package is refused while a chosen essay has no 推荐理由 (FORWARD_REASON_MISSING);
- the admin edits each 推荐理由 (required) and 单位意见 (required), each at most
  MAX_TEXT characters;
- choosing and every edit are audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, User
from essays.platform.audit import last_entry, record
from review import freeze
from review.errors import Refusal
from review.models import Assignment, RankEntry, Recommendation, Score

PHASES = ("ranked", "published", "closed")
MAX_TOP = 500
MAX_TEXT = 1000
DEFAULT_OPINION = "同意推荐。"
_ENDS = ("。", "！", "？", "…", ".", "!", "?")


def distinct_comments(comments: list[str]) -> list[str]:
    """The judges' comments to pick from: spaces collapsed, blanks and repeats left out, each
    ending with a full stop."""
    seen: list[str] = []
    for comment in comments:
        text = " ".join(comment.split())
        text = text if not text or text.endswith(_ENDS) else text + "。"
        if text and text not in seen:
            seen.append(text)
    return seen


def chosen(entries: list[RankEntry], top: int | None, tiers: list[str]) -> list[RankEntry]:
    """The entries the choice selects (see the module docstring), in rank order."""
    eligible = [e for e in entries if e.rank is not None and not e.withdrawn_reason]
    if top is not None:
        return [e for e in eligible if e.rank <= top]
    return [e for e in eligible if e.award and e.award in tiers]


def _check_phase(competition: Competition) -> None:
    if competition.phase not in PHASES:
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])


def parse_choice(top: str, tiers: list[str], known_tiers: list[str]) -> tuple[int | None, list[str]]:
    """(N, []) or (None, tiers) from the form, or Refusal FORWARD_CHOICE."""
    top = (top or "").strip()
    tiers = [t for t in tiers if t]
    if bool(top) == bool(tiers):  # one of the two, not both
        raise Refusal("FORWARD_CHOICE")
    if top:
        if not top.isdigit() or not 1 <= int(top) <= MAX_TOP:
            raise Refusal("FORWARD_CHOICE")
        return int(top), []
    if any(t not in known_tiers for t in tiers):
        raise Refusal("FORWARD_CHOICE")
    return None, tiers


def comments(session: Session, entry: RankEntry) -> list[str]:
    """The judges' comments on the essay, to pick a 推荐理由 from (`distinct_comments`)."""
    rows = session.execute(select(Score.comment).join(Assignment, Score.assignment_id == Assignment.id)
                           .where(Assignment.code_id == entry.code_id, Score.status == "submitted",
                                  Score.void.is_(False)).order_by(Assignment.judge_id)).scalars()
    return distinct_comments(list(rows))


def recommendations(session: Session, competition: Competition) -> list[Recommendation]:
    """The essays chosen for forwarding, in rank order."""
    return list(session.execute(select(Recommendation).join(RankEntry, Recommendation.entry_id == RankEntry.id)
                                .where(Recommendation.competition_id == competition.id)
                                .order_by(RankEntry.rank, RankEntry.id)).scalars())


def last_choice(session: Session, competition: Competition) -> tuple[int | None, list[str]] | None:
    """(N, []) or (None, tiers) as last chosen, or None before any choice.

    Read back from the audit entry that `choose` writes in the same transaction as the list
    (`after`: top, tiers), so it is exactly as current as the list: storing it again in a
    column would need a schema change for what the log already holds."""
    entry = last_entry(session, "review.forward_choose", competition)
    if entry is None or not entry.after:
        return None
    return entry.after.get("top"), list(entry.after.get("tiers") or [])


def choose(session: Session, admin: User, competition: Competition, top: str, tiers: list[str],
           now: datetime) -> list[Recommendation]:
    """Sets which essays are forwarded; returns them in rank order."""
    session.refresh(competition, with_for_update=True)
    _check_phase(competition)
    entries = freeze.frozen(session, competition)
    known = sorted({e.award for e in entries if e.award})
    n, chosen_tiers = parse_choice(top, tiers, known)
    picked = chosen(entries, n, chosen_tiers)
    if not picked:
        raise Refusal("FORWARD_NONE")
    existing = {r.entry_id: r for r in recommendations(session, competition)}
    keep = {e.id for e in picked}
    for entry_id, rec in existing.items():
        if entry_id not in keep:
            session.delete(rec)
    for entry in picked:
        if entry.id not in existing:
            session.add(Recommendation(competition_id=competition.id, entry_id=entry.id, reason="",
                                       unit_opinion=DEFAULT_OPINION, updated_by_id=admin.id, updated_at=now))
    session.flush()
    record(session, "review.forward_choose", actor=admin, obj=competition,
           before={"codes": sorted(r.entry.code.code for r in existing.values())},
           after={"top": n, "tiers": chosen_tiers, "codes": [e.code.code for e in picked]})
    return recommendations(session, competition)


def save_texts(session: Session, admin: User, rec: Recommendation, reason: str, opinion: str,
               now: datetime) -> None:
    """Saves a 推荐表's 推荐理由 and 单位意见 (see the module docstring)."""
    competition = rec.entry.code.competition
    session.refresh(competition, with_for_update=True)
    _check_phase(competition)
    reason, opinion = (reason or "").strip(), (opinion or "").strip()
    if not reason or not opinion or len(reason) > MAX_TEXT or len(opinion) > MAX_TEXT:
        raise Refusal("FORWARD_TEXT", limit=MAX_TEXT)
    before = {"reason": rec.reason, "unit_opinion": rec.unit_opinion}
    rec.reason, rec.unit_opinion, rec.updated_by_id, rec.updated_at = reason, opinion, admin.id, now
    session.flush()
    record(session, "review.forward_text", actor=admin, obj=rec.entry.code.submission, before=before,
           after={"code": rec.entry.code.code, "reason": reason, "unit_opinion": opinion})
