"""Preparing the review (phase intake_closed): anonymous codes, the identity scan and the
admin's redactions.

Rules:
- codes are made once intake is closed, for every submission with a version, except those
  the admin disqualified for copying (essays.similarity.decisions); making them again only
  adds codes for submissions that have none, so a code never changes;
- a code is a letter and three digits drawn at random (`new_codes`), so neither the order
  of the codes nor their values say anything about the units or the upload order;
- every new code's text is scanned (review.identity) for the unit's names and aliases,
  other units' names, the authors given at upload, the unit's contacts, telephone and ID
  numbers, e-mail addresses, self-references and signature or date lines; each hit waits for
  the admin, who redacts it (×× in what judges read) or keeps it. The text judges read is
  always the version's text with the redacted hits replaced and every invisible character
  dropped, recomputed from the hits, so a decision can be changed until review opens;
- the review cannot open while a hit is undecided (a phase check, see review.checks);
- a version read again with a different text (essays.intake.reread) while intake is closed is
  scanned again: its code's hits are replaced and wait for the admin again.

The identity findings of a code as the admin's identity page shows them (its hits, and the
findings in the parts of the original file judges never receive: review.identity_places)
have one JSON shape, `hit_json` and identity_places.finding_json, for every command that
prints them (README, 命令行: `review prepare --json`, `review identity-scan`).
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.competitions.phases import PHASE_NAMES
from essays.models import Competition, Submission, SubmissionVersion, Unit, User
from essays.platform.audit import record
from essays.similarity.decisions import decisions_in_force
from review import clean_copy, identity, identity_places
from review.errors import Refusal
from review.models import IdentityHit, ReviewCode

LETTERS = "ACDEFHJKLMNPRTUVWXY"  # no B/8, G/6, I/1, O/0, Q, S/5, Z/2: read out on the phone
HIT_NAMES = identity_places.KIND_WORDS


def new_codes(count: int, taken: set[str], rng: random.Random) -> list[str]:
    """`count` codes not in `taken`, each a letter and three digits (17,100 possible)."""
    room = len(LETTERS) * 900 - len(taken)
    if count > room:
        raise ValueError("not enough codes left")
    made: list[str] = []
    seen = set(taken)
    while len(made) < count:
        code = f"{rng.choice(LETTERS)}{rng.randrange(100, 1000)}"
        if code not in seen:
            seen.add(code)
            made.append(code)
    return made


def _require_phase(competition: Competition, *phases: str) -> None:
    if competition.phase not in phases:
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[competition.phase])


def unit_names(unit: Unit) -> list[str]:
    return [n for n in dict.fromkeys([unit.name, unit.short_name, *(unit.aliases or [])]) if n and n.strip()]


def make_codes(session: Session, admin: User, competition: Competition, now: datetime,
               rng: random.Random | None = None) -> list[ReviewCode]:
    """Codes for the submissions that have none yet, each scanned; returns the new codes.
    A code whose submission has since got a newer version (an upload by the admin after
    intake closed) takes that version: its text is scanned again and its hits replaced.

    The competition's row is locked first: a double click waits, then finds the codes made."""
    session.refresh(competition, with_for_update=True)
    _require_phase(competition, "intake_closed")
    units = list(session.execute(select(Unit)).scalars())
    for code in outdated(session, competition):
        before = {"version_id": code.version_id, "hits": len(code.hits)}
        code.version = code.submission.current
        code.hits.clear()
        session.flush()
        _scan(session, code, code.submission, code.version, units)
        code.text = identity.redact(code.version.text, [])
        session.flush()
        record(session, "review.rescan", actor=admin, obj=code, before=before,
               after={"version_id": code.version_id, "hits": len(code.hits)})
    rng = rng or random.Random(secrets.randbits(64))
    has_code = set(session.execute(select(ReviewCode.submission_id)
                                   .where(ReviewCode.competition_id == competition.id)).scalars())
    disqualified = {sid for sid, d in decisions_in_force(session, competition).items()
                    if d.decision == "disqualified"}
    submissions = [s for s in session.execute(
        select(Submission).where(Submission.competition_id == competition.id).order_by(Submission.id)).scalars()
        if s.current is not None and s.id not in has_code and s.id not in disqualified]
    rng.shuffle(submissions)  # rows are inserted in no telling order either
    taken = set(session.execute(select(ReviewCode.code).where(ReviewCode.competition_id == competition.id)).scalars())
    made = []
    for submission, code in zip(submissions, new_codes(len(submissions), taken, rng), strict=True):
        version = submission.current
        row = ReviewCode(competition=competition, submission=submission, version=version, code=code,
                         text=identity.redact(version.text, []), created_at=now)
        session.add(row)
        _scan(session, row, submission, version, units)
        made.append(row)
    session.flush()
    if made:
        record(session, "review.codes", actor=admin, obj=competition,
               after={"codes": len(made), "hits": sum(len(c.hits) for c in made)})
    return made


def outdated(session: Session, competition: Competition) -> list[ReviewCode]:
    """Codes whose submission's newest version is not the one they were made from."""
    codes = session.execute(select(ReviewCode).where(ReviewCode.competition_id == competition.id)
                            .order_by(ReviewCode.code)).scalars()
    return [c for c in codes if c.submission.current is not None and c.submission.current.id != c.version_id]


def names_for(session: Session, submission: Submission, units: list[Unit] | None = None) -> identity_places.Names:
    """Whom the submission's file must not reveal: its unit's names, the other units' (not the
    organiser's), its authors, its unit's contact person and numbers and its accounts' names."""
    units = units if units is not None else list(session.execute(select(Unit)).scalars())
    unit = submission.unit
    others = [n for u in units if u.id != submission.unit_id and not u.is_organiser for n in unit_names(u)]
    contacts = [unit.contact_name, unit.contact_phone, submission.contact_phone,
                *session.execute(select(User.display_name).where(User.unit_id == unit.id,
                                                                 User.role == "unit")).scalars()]
    return identity_places.Names(tuple(unit_names(unit)), tuple(others), tuple(submission.authors or []),
                                 tuple(c for c in contacts if c and len(c.strip()) >= 2),
                                 tuple(n for u in units if u.is_organiser for n in unit_names(u)))


def _scan(session: Session, row: ReviewCode, submission: Submission, version: SubmissionVersion,
          units: list[Unit]) -> None:
    names = names_for(session, submission, units)
    for hit in identity.scan(version.text, list(names.own), list(names.others), list(names.authors),
                             list(names.contacts)):
        row.hits.append(IdentityHit(kind=hit.kind, start=hit.start, end=hit.end, text=hit.text,
                                    label=hit.label, context=hit.context))
    row.scanned = True


def version_reread(session: Session, version: SubmissionVersion, now: datetime) -> None:
    """A version's text changed when it was read again (essays.intake.reread): a code made from
    it while intake is closed is scanned again (its hits replaced, waiting for the admin), as a
    new version would be. Once the review has opened the judges' text stays as they read it."""
    codes = session.execute(select(ReviewCode).where(ReviewCode.version_id == version.id)).scalars().all()
    for code in codes:
        if code.competition.phase != "intake_closed":
            continue
        before = {"version_id": code.version_id, "hits": len(code.hits)}
        code.hits.clear()
        session.flush()
        _scan(session, code, code.submission, version, list(session.execute(select(Unit)).scalars()))
        code.text = identity.redact(version.text, [])
        session.flush()
        record(session, "review.rescan", obj=code, before=before,
               after={"version_id": code.version_id, "hits": len(code.hits), "reread": True})


def judge_text(session: Session, code: ReviewCode) -> str:
    """The version's text with the redacted hits replaced: what judges read."""
    text = session.execute(select(SubmissionVersion.text).where(SubmissionVersion.id == code.version_id)).scalar_one()
    spans = [h for h in code.hits if h.status == "redacted"]
    return identity.redact(text, [identity.Hit(h.kind, h.start, h.end, h.text, h.label, h.context) for h in spans])


def decide_hits(session: Session, admin: User, code: ReviewCode, hit_ids: list[int] | None, status: str,
                now: datetime) -> int:
    """Redacts or keeps the code's hits (`hit_ids`, or all still open when None); returns how
    many changed. Audited with the texts concerned, so what was redacted stays on record."""
    # Locked like a phase move (essays.competitions.operations.move_phase), so the review cannot open
    # between a hit being set back to open and the check that counts open hits.
    session.refresh(code.competition, with_for_update=True)
    _require_phase(code.competition, "intake_closed")
    if status not in ("redacted", "kept", "open"):
        raise Refusal("FORM_INVALID")
    if hit_ids is None:
        chosen = [h for h in code.hits if h.status == "open"]
    else:
        wanted = set(hit_ids)
        chosen = [h for h in code.hits if h.id in wanted]
        if len(chosen) != len(wanted):
            raise Refusal("NOT_FOUND")
    changed = [h for h in chosen if h.status != status]
    if not changed:
        return 0
    before = {str(h.id): h.status for h in changed}
    for h in changed:
        h.status, h.resolved_by_id, h.resolved_at = status, admin.id, now
    session.flush()
    code.text = judge_text(session, code)
    session.flush()
    record(session, "review.redact", actor=admin, obj=code, before=before,
           after={"status": status, "hits": [{"id": h.id, "kind": h.kind, "text": h.text, "start": h.start}
                                              for h in changed]})
    return len(changed)


def codes_of(session: Session, competition: Competition) -> list[ReviewCode]:
    """Every code of the competition, excluded ones too, in code order (the identity page's list)."""
    return list(session.execute(select(ReviewCode).where(ReviewCode.competition_id == competition.id)
                                .order_by(ReviewCode.code)).scalars())


def hidden_findings(session: Session, code: ReviewCode) -> list[identity_places.Finding]:
    """The findings in the parts of the code's original file judges never receive (headers,
    footers, notes, comments, text boxes, properties)."""
    return identity_places.hidden_findings(code.version.file_bytes, names_for(session, code.submission))


def hit_finding(hit: IdentityHit, body: str) -> identity_places.Finding:
    """A stored hit as a finding of the body (`body`: the version's text)."""
    return identity_places.Finding("body", identity_places.body_where(body, hit.start), hit.kind, hit.text,
                                   hit.label, hit.start, hit.end)


def hit_json(hit: IdentityHit, body: str | None = None) -> dict:
    """One identity hit as every command prints it (README, 命令行): the fields of every finding
    (identity_places.finding_json: text, kind, identity, part, where, start, end), with the
    stored hit's id, the admin's `decision` ("open": undecided, "redacted" or "kept"), its label
    and context. `part` is always "body": hits are looked for in the text judges read, which is
    rebuilt from the body alone, and `start`/`end` are offsets in that text (`body`, read from
    the version when not given). Findings elsewhere in the file are listed apart."""
    if body is None:
        body = hit.code.version.text
    return {"id": hit.id, **identity_places.finding_json(hit_finding(hit, body)), "decision": hit.status,
            "label": hit.label, "context": hit.context}


def open_hits(session: Session, competition: Competition) -> int:
    return len(session.execute(select(IdentityHit.id).join(ReviewCode).where(
        ReviewCode.competition_id == competition.id, IdentityHit.status == "open")).all())


def exclude(session: Session, admin: User, code: ReviewCode, reason: str, now: datetime,
            unit_reason: str = "") -> None:
    """Takes an essay out of the review (disqualified: copying, a failed gate confirmed on
    review), with the reason. Only the admin does this; judges' sheets stay on record.
    `unit_reason` is what the unit is told once the results are published (review.results
    .unit_notice): the reason is the admin's own note."""
    if code.competition.phase not in ("intake_closed", "review"):
        raise Refusal("REVIEW_PHASE", phase=PHASE_NAMES[code.competition.phase])
    if not reason.strip():
        raise Refusal("REASON_REQUIRED")
    if code.excluded_reason:
        return
    code.excluded_reason, code.excluded_unit_reason = reason.strip(), (unit_reason or "").strip()[:2000]
    session.flush()
    record(session, "review.exclude", actor=admin, obj=code,
           after={"code": code.code, "reason": code.excluded_reason, "unit_reason": code.excluded_unit_reason})


def judge_blocks(code: ReviewCode) -> list[clean_copy.Block]:
    """The judge's text as blocks, its first line as the title when it looks like one (short,
    no final 。！？). That line comes from the scanned, redacted text; the title the unit typed
    at upload was never scanned, so it is never shown. Otherwise the code stands as title."""
    lines = [line.strip() for line in code.text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    looks_like_title = 0 < len(first) <= 40 and not first.endswith(("。", "！", "？", "；"))
    return clean_copy.blocks(code.text, first if looks_like_title else code.code)
