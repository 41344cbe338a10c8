"""The demo builder (essays.demo.build): what it stores, the files it writes, and its refusals."""

from __future__ import annotations

import difflib
import io
import random
import re
import zipfile
from datetime import UTC, timedelta

import pytest
from docx import Document
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from essays.demo.build import DEMO_URL, DemoReport, build_demo
from essays.demo.text import (
    EssayPlan,
    EssayWriter,
    full_width,
    load_corpus,
    load_notice,
    parse_corpus,
)
from essays.intake.counting import count
from essays.intake.docx.reader import read_docx
from essays.intake.receive import EssayForm, receive
from essays.models import (
    Competition,
    Extension,
    Submission,
    SubmissionVersion,
    Unit,
    User,
)
from essays.platform.audit import verify_chain
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from essays.platform.timeutil import format_deadline, next_may_20
from tests.conftest import FIXED_NOW

PASSWORD = "demo-pass-2027"
TABLES = (User, Unit, Competition, Submission, SubmissionVersion, Extension, AuditLog)


def _build(session, files_dir, **kwargs):
    args = {"password": PASSWORD, "phase": "open", "now": FIXED_NOW, "files_dir": files_dir}
    args.update(kwargs)
    return build_demo(session, **args)


@pytest.fixture
def demo(session, tmp_path):
    report = _build(session, tmp_path / "demo-files")
    session.flush()
    return report


def _counts(session) -> dict:
    return {m.__name__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in TABLES}


def _versions(session) -> list[SubmissionVersion]:
    return list(session.execute(select(SubmissionVersion).order_by(SubmissionVersion.id))
                .scalars())


def _paragraphs(version: SubmissionVersion) -> list[str]:
    return [p for p in version.text.split("\n") if p.strip()]


def test_demo_competition_is_open_on_the_seed_notice(session, demo):
    competition = session.execute(select(Competition)).scalar_one()
    assert competition.phase == "open"
    assert competition.title == "解放思想大讨论征文活动"
    assert competition.notice_text == load_notice()
    assert "解放思想大讨论" in competition.notice_text
    assert competition.char_limit == 3000 and competition.limit_is_hard
    assert competition.deadline == next_may_20(FIXED_NOW)
    assert (competition.min_per_unit, competition.max_per_unit) == (1, 1)
    themes = [t.title for t in competition.themes]
    assert len(themes) == 3 and len(set(themes)) == 3
    assert themes[0] == "解放思想与城管工作改革创新"
    assert themes[0] in competition.notice_text


def test_demo_units_are_realistic_with_one_organiser(session, demo):
    units = list(session.execute(select(Unit)).scalars())
    assert len(units) == 9
    organisers = [u for u in units if u.is_organiser]
    assert len(organisers) == 1
    assert organisers[0].name.endswith("大队")
    names = {u.name for u in units}
    assert {"第一中队", "执法监察中队", "政工科"} <= names
    for unit in units:
        assert unit.short_name and unit.aliases and unit.contact_name
        assert re.fullmatch(r"0731-8\d{7}|1[3-9]\d{9}", unit.contact_phone), unit.contact_phone
        if not unit.is_organiser:
            assert unit.parent_id == organisers[0].id
    first = next(u for u in units if u.name == "第一中队")
    assert "一中队" in first.aliases and "我中队" not in first.aliases


def test_demo_accounts_use_the_given_password(session, demo):
    users = {u.username: u for u in session.execute(select(User)).scalars()}
    expected = {"admin"} | {f"judge{i}" for i in range(1, 6)} | {f"unit{i}" for i in range(1, 9)}
    assert set(users) == expected
    for user in users.values():
        assert check_password_hash(user.password_hash, PASSWORD), user.username
        assert user.must_change_password is False
        assert user.active
    assert users["admin"].role == "admin"
    judges = [users[f"judge{i}"] for i in range(1, 6)]
    assert all(j.role == "judge" for j in judges)
    assert judges[0].unit is not None and judges[1].unit is not None
    assert all(j.unit is None for j in judges[2:])
    unit_accounts = [users[f"unit{i}"] for i in range(1, 9)]
    assert all(u.role == "unit" and u.unit is not None for u in unit_accounts)
    assert len({u.unit_id for u in unit_accounts}) == 8
    assert not any(u.unit.is_organiser for u in unit_accounts)


def test_demo_submissions_missing_units_and_extension(session, demo):
    competition = session.execute(select(Competition)).scalar_one()
    submissions = list(session.execute(select(Submission)).scalars())
    assert len(submissions) == 6
    for submission in submissions:
        version = submission.current
        assert 1500 <= version.char_count < 3000, (submission.unit.name, version.char_count)
        assert version.char_count == count(read_docx(version.file_bytes).counted()).words
        assert submission.title and submission.authors and submission.contact_phone
        assert submission.theme is not None
        assert version.original_filename.startswith(f"{submission.unit.name}-")
    submitted = {s.unit_id for s in submissions}
    missing = session.execute(select(Unit).where(Unit.is_organiser.is_(False),
                                                 Unit.id.not_in(submitted))).scalars().all()
    assert len(missing) == 2
    assert sorted(u.name for u in missing) == sorted(demo.missing)

    extension = session.execute(select(Extension)).scalar_one()
    assert extension.reason == "因执勤任务延期提交"
    assert extension.until == competition.deadline + timedelta(days=7)
    # The deadline is months away: every essay came before now, none late (the late one under
    # its extension is the later phases' example: tests/test_review_demo.py).
    assert competition.deadline > FIXED_NOW
    for submission in submissions:
        version = submission.current
        assert version.late is False and version.uploaded_at < FIXED_NOW, submission.unit.name
        created = Document(io.BytesIO(version.file_bytes)).core_properties.created.replace(tzinfo=UTC)
        assert created < version.uploaded_at
    uploads = sorted(s.current.uploaded_at for s in submissions)
    assert len(set(uploads)) == len(uploads)  # uploads spread over days and hours
    assert any(s.unit_id == extension.unit_id for s in submissions)


def test_demo_has_one_copied_pair_and_otherwise_different_essays(session, demo):
    versions = _versions(session)
    copied = []
    for i, a in enumerate(versions):
        for b in versions[i + 1:]:
            pa, pb = _paragraphs(a), _paragraphs(b)
            shared = len(set(pa) & set(pb)) / min(len(pa), len(pb))
            if shared >= 0.7:
                copied.append((a, b))
                matcher = difflib.SequenceMatcher(None, a.text, b.text, autojunk=False)
                longest = matcher.find_longest_match(0, len(a.text), 0, len(b.text))
                assert longest.size > 500
                assert a.text != b.text and a.sha256 != b.sha256
            else:
                # Apart from section headings, distinct essays share no paragraph.
                assert len([p for p in set(pa) & set(pb) if len(p) > 30]) == 0, (
                    a.submission.unit.name, b.submission.unit.name)
    assert len(copied) == 1
    names = {v.submission.unit.name for v in copied[0]}
    assert names == {"第二中队", "第三中队"}


def test_demo_texts_are_prose_not_random_characters(session, demo):
    notice = full_width(load_notice())
    for version in _versions(session):
        text = version.text
        chinese = [c for c in text if "\u4e00" <= c <= "\u9fff"]
        function_words = sum(text.count(w) for w in "的是在和了要")
        assert function_words / len(chinese) > 0.05, version.submission.unit.name
        assert text.count("。") > 40
        paragraphs = _paragraphs(version)
        assert paragraphs[0] == version.submission.title
        assert any(p.startswith("一、") for p in paragraphs)
        assert any(p.startswith("三、") for p in paragraphs)
        quotes = re.findall(r"“([^”]{8,})”", text)
        assert any(q in notice for q in quotes), "quotes the notice"


def test_demo_files_carry_real_metadata(session, demo):
    files_dir = demo.files_dir
    assert files_dir.is_dir()
    units = {u.name: u for u in session.execute(select(Unit)).scalars()}
    with_comment, with_header, naming_itself = [], [], []
    for version in _versions(session):
        path = files_dir / version.original_filename
        assert path.read_bytes() == version.file_bytes
        with zipfile.ZipFile(io.BytesIO(version.file_bytes)) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8")
            app = archive.read("docProps/app.xml").decode("utf-8")
            names = archive.namelist()
            headers = "".join(archive.read(n).decode("utf-8") for n in names
                              if re.fullmatch(r"word/header\d*\.xml", n))
        assert re.search(r"<dc:creator>[^<]+</dc:creator>", core)
        assert re.search(r"<cp:lastModifiedBy>[^<]+</cp:lastModifiedBy>", core)
        assert re.search(r"<Company>[^<]+</Company>", app)
        unit = version.submission.unit
        if "word/comments.xml" in names:
            with_comment.append(unit.name)
        if unit.name in headers:
            with_header.append(unit.name)
        body = version.text
        if unit.name in body or any(alias in body for alias in unit.aliases):
            naming_itself.append(unit.name)
        others = [n for n, u in units.items() if u is not unit and not u.is_organiser]
        assert not any(n in body for n in others)
    assert len(with_comment) == 1
    assert len(with_header) == 1
    assert naming_itself == ["第一中队"]
    assert "我们第一中队" in next(v.text for v in _versions(session)
                                 if v.submission.unit.name == "第一中队")


def test_demo_over_limit_sample_is_refused_and_not_stored(session, demo):
    data = (demo.files_dir / "超字数示例.docx").read_bytes()
    words = count(read_docx(data).counted()).words
    assert 3200 < words < 3700
    readme = (demo.files_dir / "README.txt").read_text(encoding="utf-8")
    for name in demo.files:
        assert name in readme
    assert "超字数示例.docx" in demo.files and len(demo.files) == 7
    competition = session.execute(select(Competition)).scalar_one()
    unit = session.execute(select(Unit).where(Unit.name == demo.missing[0])).scalar_one()
    user = session.execute(select(User).where(User.unit_id == unit.id)).scalar_one()
    form = EssayForm(theme_id=None, title="超字数", authors=["某某"], contact_phone="")
    with pytest.raises(Refusal) as refused:
        receive(session, competition, unit, user, form, "超字数示例.docx", data, FIXED_NOW)
    assert refused.value.code == "OVER_LIMIT"


def test_demo_audit_chain_is_intact(session, demo):
    assert verify_chain(session) == (True, None)
    actions = list(session.execute(select(AuditLog.action)).scalars())
    assert actions.count("user.create") == 14
    assert actions.count("unit.create") == 9
    assert actions.count("submission.create") == 6
    assert actions.count("extension.grant") == 1
    assert "competition.phase" in actions


def test_demo_report_lines(demo):
    assert isinstance(demo, DemoReport)
    lines = demo.lines()
    text = "\n".join(lines)
    assert DEMO_URL == "http://127.0.0.1:5000" and DEMO_URL in text
    assert PASSWORD in text
    assert format_deadline(next_may_20(FIXED_NOW)) in text
    assert str(demo.files_dir) in text
    for username in ["admin", "judge1", "judge5", "unit1", "unit8"]:
        assert any(line.startswith(f"{username}\t") for line in lines)
    assert any(line.startswith("judge1\t评委\t第一中队") for line in lines)
    assert "延期：机动中队，至 " in text and "截止后" not in text and "延期提交" in text  # the reason only
    readme = (demo.files_dir / "README.txt").read_text(encoding="utf-8")
    assert "机动中队获准延期（因执勤任务延期提交），来稿在截止前提交。" in readme and "截止时间后" not in readme


def test_second_demo_is_refused_and_changes_nothing(session, demo, tmp_path):
    before = _counts(session)
    with pytest.raises(ValueError, match="已有数据"):
        _build(session, tmp_path / "again")
    assert _counts(session) == before
    assert not (tmp_path / "again").exists()


def test_demo_refuses_non_empty_database(session, make, tmp_path):
    make.unit("某中队")
    with pytest.raises(ValueError, match="空数据库"):
        _build(session, tmp_path / "files")
    assert session.execute(select(func.count()).select_from(User)).scalar_one() == 0


@pytest.mark.parametrize("phase", ["intake_closed", "nonsense"])
def test_phases_nobody_registered_are_refused_before_writing(session, tmp_path, phase):
    with pytest.raises(ValueError, match=f"演示阶段[ ：]{phase}"):
        _build(session, tmp_path / "files", phase=phase)
    assert all(n == 0 for n in _counts(session).values())
    assert not (tmp_path / "files").exists()


def test_weak_password_is_refused(session, tmp_path):
    with pytest.raises(ValueError, match="密码"):
        _build(session, tmp_path / "files", password="short")
    assert _counts(session)["User"] == 0


def test_essay_writer_is_deterministic_and_deals_without_repeats():
    corpus = load_corpus()
    assert sum(len(v) for v in corpus.paragraphs.values()) >= 120
    plan = EssayPlan("标题", ["解放思想", "队伍建设"], "引文一", "引文二", target=1800)
    first = EssayWriter(corpus, "seed").write(plan, random.Random(1))
    again = EssayWriter(corpus, "seed").write(plan, random.Random(1))
    assert first == again
    writer = EssayWriter(corpus, "seed")
    a, b = writer.write(plan, random.Random(1)), writer.write(plan, random.Random(2))
    assert not {p for p in a.paragraphs if len(p) > 30} & set(b.paragraphs)
    assert 1800 <= a.words < 2000


def test_corpus_names_no_unit():
    text = "".join(p for ps in load_corpus().paragraphs.values() for p in ps)
    for name in ["一中队", "二中队", "三中队", "监察中队", "机动中队", "渣土中队", "政工科",
                 "法制科"]:
        assert name not in text
    with pytest.raises(ValueError):
        parse_corpus("没有话题的文字")


def test_demo_command(runner, app, session, tmp_path):
    app.instance_path = str(tmp_path / "instance")
    result = runner.invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert DEMO_URL in result.output and "unit8" in result.output
    assert (tmp_path / "instance" / "demo-files" / "README.txt").exists()  # in the instance, not the checkout
    assert session.execute(select(func.count()).select_from(Submission)).scalar_one() == 6
    again = runner.invoke(args=["demo", "--password", PASSWORD])
    assert again.exit_code == 1
    assert "已有数据" in again.output
    kept = runner.invoke(args=["demo", "--keep-existing"])  # `make run` on an existing database
    assert kept.exit_code == 0 and "保留现有数据" in kept.output
    assert "账号\t角色\t单位\t姓名" in kept.output and "unit8\t单位账号\t法制科" in kept.output
    assert "默认 zhengwen2027" in kept.output and str(tmp_path / "instance" / "demo-files") in kept.output
    later = runner.invoke(args=["demo", "--phase", "ranked"])  # a later phase: an empty database still
    assert later.exit_code == 1 and "已有数据" in later.output


def test_demo_copy_detection_flags_the_copies_the_readme_describes(session, demo):
    from essays.similarity.models import BaseQuotation, ReferenceText, SimilarityReport

    reports = {v.submission.unit.name: session.get(SimilarityReport, v.id) for v in _versions(session)}
    assert reports["第三中队"].level == "severe" and reports["第二中队"].level == "severe"
    fanwen = session.execute(select(ReferenceText)).scalar_one()
    copier = reports["执法监察中队"]
    assert copier.sources[0]["kind"] == "reference" and copier.sources[0]["id"] == fanwen.id
    assert copier.level == "listed"
    assert {"pinyin_gloss", "site_boilerplate"} <= {t["kind"] for t in copier.traces}
    clean = [name for name, r in reports.items() if name not in ("第二中队", "第三中队", "执法监察中队")]
    assert all(reports[name].level == "none" and not reports[name].traces for name in clean)
    assert len(session.execute(select(BaseQuotation)).scalars().all()) == 6
