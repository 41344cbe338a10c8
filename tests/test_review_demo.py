"""The demo in phase 评审中 (review.demo), and the proof that a judge learns nobody's
identity: every page and file each demo judge can reach, following every link and every
download, carries none of the units' names and aliases, the authors' names or the unit
accounts' display names, although the demo's files carry them in their metadata, a
comment, a header and the body."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from essays.demo.build import ORGANISER, UNITS, build_demo
from essays.intake.docx.reader import read_docx
from essays.models import Competition, Submission, SubmissionVersion, User
from essays.platform.audit import verify_chain
from essays.platform.models import AuditLog
from review.models import Assignment, IdentityHit, ReviewCode, Score
from tests.conftest import FIXED_NOW

ROOT = Path(__file__).resolve().parent.parent

PASSWORD = "demo-pass-2027"


@pytest.fixture
def demo(app, session, tmp_path, clock):  # app: its init_app registers the demo's later phases
    clock.set(FIXED_NOW)
    report = build_demo(session, password=PASSWORD, phase="review", now=FIXED_NOW, files_dir=tmp_path / "files")
    session.flush()
    return report


def test_the_demo_is_in_review_with_codes_redactions_and_scores(session, demo):
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.phase == "review" and competition.deadline < FIXED_NOW
    codes = session.execute(select(ReviewCode)).scalars().all()
    assert len(codes) == session.execute(select(func.count()).select_from(Submission)).scalar_one() == 6
    hits = session.execute(select(IdentityHit)).scalars().all()
    assert hits and all(h.status != "open" for h in hits)
    redacted = [h for h in hits if h.status == "redacted"]
    assert len({h.code_id for h in redacted}) == 1 and "第一中队" in {h.text for h in redacted}
    assert session.execute(select(AuditLog).where(AuditLog.action == "review.redact")).first() is not None
    statuses = [s.status for s in session.execute(select(Score)).scalars()]
    assert statuses.count("submitted") >= 4 and "draft" in statuses
    per_code = dict(session.execute(select(Assignment.code_id, func.count()).group_by(Assignment.code_id))
                    .tuples().all())
    assert set(per_code.values()) == {3}
    drafts = statuses.count("draft")
    assert f"已提交评分 {statuses.count('submitted')} 份，草稿 {drafts} 份。评委账号 judge3 的评分已全部提交" in (
        "\n".join(demo.lines()))
    assert verify_chain(session) == (True, None)


def test_the_late_essay_under_an_extension_came_in_the_past(session, demo):
    from essays.models import Extension

    competition = session.execute(select(Competition)).scalar_one()
    extension = session.execute(select(Extension)).scalar_one()
    assert extension.unit.name == "机动中队" and competition.deadline < extension.until < FIXED_NOW
    versions = session.execute(select(SubmissionVersion)).scalars().all()
    late = [v for v in versions if v.late]
    assert [v.submission.unit_id for v in late] == [extension.unit_id]
    assert late[0].uploaded_at == competition.deadline + timedelta(days=2)
    assert all(v.uploaded_at < FIXED_NOW for v in versions)
    text = "\n".join(demo.lines())
    assert "截止后 2 天、延期期限内提交" in text
    readme = (demo.files_dir / "README.txt").read_text(encoding="utf-8")
    assert "在截止时间后 2 天、延期期限内提交" in readme


def _identities(session) -> list[str]:
    """What would identify an essay's unit or author, from the database and the demo's own tables."""
    names = set()
    for name, short, aliases, contact, _phone in UNITS:
        names |= {name, short, *aliases, contact}
    for submission in session.execute(select(Submission)).scalars():
        names |= set(submission.authors)
    names |= {u.display_name for u in session.execute(select(User).where(User.role == "unit")).scalars()}
    names -= {ORGANISER[1]}  # 大队, the organiser every unit belongs to, says nothing
    # A name the app's own wording uses (政工科: the section that runs the competition, and
    # also a unit of the demo) is on every page for every user, so it identifies nobody.
    wording = (ROOT / "translations" / "messages.pot").read_text(encoding="utf-8")
    return sorted(n for n in names if len(n) >= 2 and n not in wording)


def _visible_text(body: bytes, mimetype: str) -> str:
    if mimetype == "text/html":
        return unescape(body.decode("utf-8"))
    with zipfile.ZipFile(io.BytesIO(body)) as z:  # a .docx: every part, metadata included
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_no_page_or_file_a_judge_can_reach_names_a_unit_or_an_author(client, auth, session, demo):
    names = _identities(session)
    # The originals do carry them (else this test would prove nothing).
    originals = "".join(_visible_text(v.file_bytes, "docx") for v in session.execute(select(SubmissionVersion))
                        .scalars())
    assert sum(n in originals for n in names) >= 10
    assert any("第一中队" in read_docx(v.file_bytes).text for v in session.execute(select(SubmissionVersion)).scalars())
    for judge in session.execute(select(User).where(User.role == "judge")).scalars():
        auth.login(judge.username, PASSWORD)
        seen, to_visit, downloads = set(), ["/judge/"], 0
        while to_visit:
            url = to_visit.pop()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            assert response.status_code == 200, (judge.username, url)
            text = _visible_text(response.get_data(), response.mimetype)
            if response.mimetype == "text/html":
                to_visit += re.findall(r'href="(/judge/[^"#?]*)"', text)
            else:
                downloads += 1
            leaked = [n for n in names if n in text]
            assert not leaked, (judge.username, url, leaked)
        mine = session.execute(select(func.count()).select_from(Assignment).where(Assignment.judge_id == judge.id)
                               ).scalar_one()
        assert downloads == mine and len(seen) >= 2 * mine + 2
        auth.logout()


def test_the_demo_in_phase_ranked_is_frozen_with_its_seed(app, session, tmp_path, clock):
    from review.models import RankEntry

    clock.set(FIXED_NOW)
    report = build_demo(session, password=PASSWORD, phase="ranked", now=FIXED_NOW, files_dir=tmp_path / "files")
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.phase == "ranked"
    entries = session.execute(select(RankEntry).order_by(RankEntry.rank)).scalars().all()
    assert len(entries) == 6 and [e.rank for e in entries] == sorted(e.rank for e in entries)
    assert [e.award for e in entries if e.award][:2] == ["一等奖", "二等奖"]
    assert session.execute(select(func.count()).select_from(Score).where(Score.status != "submitted")).scalar() == 0
    freeze_entry = session.execute(select(AuditLog).where(AuditLog.action == "review.freeze")).scalar_one()
    assert freeze_entry.after["seed"] == 2027
    assert "排名已冻结：6 篇" in "\n".join(report.lines())
    assert verify_chain(session) == (True, None)


def test_the_ranked_demo_says_what_it_leaves(app, session, tmp_path, clock):
    """Its notes describe the ranked state (every sheet submitted), not the review's on the way."""
    from review.models import RankEntry, Recommendation

    clock.set(FIXED_NOW)
    report = build_demo(session, password=PASSWORD, phase="ranked", now=FIXED_NOW, files_dir=tmp_path / "files")
    sheets = session.execute(select(func.count()).select_from(Score).where(Score.status == "submitted")).scalar()
    redacted = session.execute(select(func.count()).select_from(IdentityHit)
                               .where(IdentityHit.status == "redacted")).scalar()
    assert sheets == 18 and redacted >= 1
    awarded = session.execute(select(RankEntry).where(RankEntry.award != "").order_by(RankEntry.rank)).scalars()
    assert session.execute(select(func.count()).select_from(Recommendation)).scalar() == 3
    assert report.notes == [
        f"评审：已生成 6 个作品编号，遮盖身份信息 {redacted} 处；每篇 3 位评委；评分 18 份已全部提交。"
        "judge1、judge2 各属一个中队，不会分到本单位的作品。",
        "排名已冻结：6 篇，获奖 4 篇（" + "、".join(f"{e.code.code} {e.award}" for e in awarded) + "）。",
        "报送局系统：已选定前 3 名，推荐理由已从评委评语中选写；在“排名预览”页点“报送局系统”即可下载报送材料包。"]
    assert all(r.reason for r in session.execute(select(Recommendation)).scalars())  # the package can be made
    assert not any("草稿" in line for line in report.lines())
