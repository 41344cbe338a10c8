"""The package for the bureau-level selection, built from the essays chosen for forwarding
(review.forward); its format (manifest.json, names, the .zip) is essays.package.format's.

What goes in:
- 汇总表.xlsx: the forwarded essays as rows of the 汇总表 (review.export), 序号 from 1;
- 获奖名单.docx: every award of the frozen ranking not withdrawn, and the units granted the
  优秀组织奖, for publication;
- per essay, in rank order: the original file that was judged (the version the review code
  was made from) as 原件/名次-单位-题目.docx: byte for byte, or the defused copy when the file
  reaches outside or embeds objects (essays.intake.docx.outside; the manifest records the
  SHA-256 of both, the received file staying here as evidence), the clean copy the judges read
  as 评审稿/作品编号.docx, and its 推荐表 as 推荐表/推荐表-名次-题目.docx;
- manifest.json (essays.package.format.manifest): the competition (title, organiser: the
  unit marked 主办单位, without which the package is refused; when exported, the character
  limit, the units granted the 优秀组织奖 as organisation_awards) and every essay with its
  files' SHA-256.

Two essays sharing a place, unit and title would get the same name: the second and later
ones carry their code as well, so no name repeats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from essays.intake.docx.outside import defuse
from essays.models import Competition, Unit
from essays.package import format as package
from essays.platform.timeutil import local
from review import export, forward, forward_docs, freeze, organisation, prepare
from review.clean_copy import clean_docx
from review.errors import Refusal


def organiser(session: Session) -> Unit | None:
    """The unit marked 主办单位: it sends the package and signs the 获奖名单 and the 推荐表."""
    return session.execute(select(Unit).where(Unit.is_organiser.is_(True))).scalar_one_or_none()


def winners(session: Session, competition: Competition) -> list[forward_docs.Winner]:
    return [forward_docs.Winner(e.award, e.code.submission.unit.name, list(e.code.submission.authors or []),
                                e.code.submission.title)
            for e in freeze.frozen(session, competition) if e.award and not e.withdrawn_reason]


def build(session: Session, competition: Competition, now: datetime) -> package.Package:
    """The package of the essays chosen for forwarding: refused when none is chosen
    (FORWARD_NONE), when no unit is marked 主办单位 (FORWARD_ORGANISER: the manifest would
    name no sender and the 获奖名单 would go unsigned), and while a 推荐理由 is empty
    (FORWARD_REASON_MISSING)."""
    recs = forward.recommendations(session, competition)
    if not recs:
        raise Refusal("FORWARD_NONE")
    sender = organiser(session)
    if sender is None:
        raise Refusal("FORWARD_ORGANISER")
    unwritten = [r.entry for r in recs if not r.reason.strip()]
    if unwritten:
        raise Refusal("FORWARD_REASON_MISSING", places="、".join(f"第 {e.rank} 名" for e in unwritten))
    when = local(now)
    _method, _keep, tiers, _cap = freeze.rule_for(session, competition)
    headers, rows = export.summary(session, competition, only={r.entry_id for r in recs})
    units = organisation.granted_names(session, competition)
    entries, used = [], set()
    for rec in recs:
        entry, code = rec.entry, rec.entry.code
        sub = code.submission
        unit, title = package.safe_name(sub.unit.name), package.safe_name(sub.title)
        keys = {f"{entry.rank}-{unit}-{title}".casefold(), f"{entry.rank}-{title}".casefold()}
        suffix = f"-{code.code}" if keys & used else ""
        used |= keys
        form = forward_docs.Recommended(sub.unit.name, list(sub.authors or []), sub.title, code.version.char_count,
                                        entry.rank, entry.award, rec.reason, rec.unit_opinion)
        files = [
            package.PackageFile(f"原件/{entry.rank}-{unit}-{title}{suffix}.docx", "original",
                                defuse(code.version.file_bytes), code.version.sha256),
            package.PackageFile(f"评审稿/{code.code}.docx", "clean",
                                clean_docx(code.code, code.code, prepare.judge_blocks(code))),
            package.PackageFile(f"推荐表/推荐表-{entry.rank}-{title}{suffix}.docx", "recommendation",
                                forward_docs.recommendation_docx(competition.title, sender.name, form, when)),
        ]
        entries.append(package.PackageEntry(rank=entry.rank, code=code.code, unit=sub.unit.name,
                                            authors=list(sub.authors or []), title=sub.title,
                                            words=code.version.char_count, score=float(entry.score),
                                            award=entry.award, files=files))
    extras = [("汇总表.xlsx", export.to_xlsx(headers, rows, f"{competition.title} 汇总表")),
              ("获奖名单.docx", forward_docs.winners_docx(competition.title, sender.name, [t.name for t in tiers],
                                                      winners(session, competition), when, units))]
    return package.Package(competition={"title": competition.title, "organiser": sender.name,
                                        "exported_at": now.isoformat(), "char_limit": competition.char_limit,
                                        "organisation_awards": units},
                           entries=entries, extras=extras)


def download_name(competition: Competition) -> str:
    return f"{package.safe_name(competition.title, 60)}-报送材料.zip"
