"""essays.package.importing and `flask essays import-package`: a brigade's package imported into
the bureau's competition, all or nothing, with the same files, texts and hashes."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select

from essays.intake.docx.reader import read_docx
from essays.intake.inspection import inspect_file
from essays.intake.receive import rules_for
from essays.models import Submission, SubmissionVersion
from essays.package import format as package
from essays.package.format import Package, PackageEntry, PackageFile, safe_name
from essays.package.importing import import_package, organisation_unit
from essays.platform.audit import ACTION_NAMES
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from tests.factories import docx_bytes

ORGANISER = "某某区城管执法大队"
ESSAYS = [  # (sending unit, title, paragraphs)
    ("城管执法第一中队", "浅谈“放管服”改革：城管执法如何转变作风？",
     ["深化“放管服”改革，是城管执法队伍转变作风的重要抓手。", "我们坚持问题导向，把群众满意作为标准。"]),
    ("市容环卫科", "解放思想/推动市容环境卫生管理创新",
     ["市容环境卫生管理要在解放思想中找到新路子。", "环卫工人是城市美容师，要关心他们的冷暖。"]),
    ("城管执法第十一中队", "执法为民，我们准备好了吗？",
     ["执法为民不是一句口号，而是每一次执法中的细节。", "文明执法、规范执法，才能赢得群众信任。"]),
]


def brigade_package(make, essays=ESSAYS, organiser=ORGANISER) -> tuple[Package, list[SubmissionVersion]]:
    """The brigade's own competition with one submission per unit, and the package of them
    as review would build it (the originals are the stored versions, byte for byte)."""
    first = make.competition(title="解放思想大讨论征文（大队）")
    versions, entries = [], []
    for rank, (unit_name, title, paragraphs) in enumerate(essays, 1):
        submission = make.submission(first, unit=make.unit(unit_name), title=title,
                                     data=docx_bytes(paragraphs, title=title))
        version = submission.current
        versions.append(version)
        stem = f"{rank}-{safe_name(unit_name, 20)}-{safe_name(title)}"
        entries.append(PackageEntry(
            rank=rank, code=f"A{rank:03d}", unit=unit_name, authors=["张三", "李四"], title=title,
            words=version.char_count, score=96.5 - rank, award="一等奖" if rank == 1 else "二等奖",
            files=[PackageFile(f"原件/{stem}.docx", "original", version.file_bytes),
                   PackageFile(f"评审稿/A{rank:03d}.docx", "clean", docx_bytes(paragraphs, title="")),
                   PackageFile(f"推荐表/推荐表-{rank}-{safe_name(title)}.docx", "recommendation",
                               docx_bytes(["推荐理由：观点鲜明。"], title="推荐表"))]))
    built = Package(competition={"title": "解放思想大讨论征文（大队）", "organiser": organiser,
                                 "exported_at": "2027-06-01T02:00:00+00:00", "char_limit": 3000},
                    entries=entries, extras=[("汇总表.xlsx", b"xlsx")])
    return package.read(package.write(built)), versions


@pytest.fixture
def bureau(make):
    """The bureau's competition (a second competition) and the unit standing for the brigade."""
    competition = make.competition(title="全局征文评比", max_per_unit=3)
    unit = make.unit("城管执法局某某区大队", short_name="某某区大队", aliases=[ORGANISER])
    return competition, unit


def counts(session) -> tuple[int, int]:
    return (session.execute(select(func.count(Submission.id))).scalar_one(),
            session.execute(select(func.count(SubmissionVersion.id))).scalar_one())


def test_import_keeps_files_texts_and_hashes(session, make, bureau, clock):
    competition, unit = bureau
    p, versions = brigade_package(make)
    before = counts(session)
    imported = import_package(session, competition, unit, make.admin(), p, clock())
    assert counts(session) == (before[0] + 3, before[1] + 3)
    for item, entry, source in zip(imported, p.entries, versions, strict=True):
        version = item.version
        assert item.new and item.entry is entry
        assert version.file_bytes == entry.original.data == source.file_bytes
        assert version.sha256 == entry.original.sha256 == source.sha256
        assert version.text == read_docx(entry.original.data).text == source.text
        assert version.char_count == inspect_file(entry.original.data, rules_for(competition)).counts.words
        assert version.char_count == entry.words  # both competitions count the title
        assert version.original_filename == entry.original.name.removeprefix("原件/")
        assert version.checks["by_admin"] is True and version.uploader == make.admin()
        submission = item.submission
        assert (submission.competition, submission.unit, submission.title, submission.authors) == \
            (competition, unit, entry.title, ["张三", "李四"])


def test_the_audit_entry(session, make, bureau, clock):
    competition, unit = bureau
    p, _ = brigade_package(make)
    imported = import_package(session, competition, unit, make.admin(), p, clock())
    log = session.execute(select(AuditLog).where(AuditLog.action == "package.import")).scalar_one()
    assert str(ACTION_NAMES["package.import"]) == "导入报送材料包"
    assert (log.object_type, log.object_id, log.actor_id) == ("competition", str(competition.id), make.admin().id)
    assert log.after["organiser"] == ORGANISER and log.after["competition"] == "解放思想大讨论征文（大队）"
    assert log.after["unit"] == unit.name
    assert log.after["entries"] == [
        {"rank": i.entry.rank, "code": i.entry.code, "award": i.entry.award, "score": i.entry.score,
         "sha256": i.entry.original.sha256, "received_sha256": i.entry.original.sha256,
         "submission_id": i.submission.id, "version": 1, "new": True}
        for i in imported]


def test_importing_again_stores_nothing(session, make, bureau, clock):
    competition, unit = bureau  # max_per_unit 3: a second import counted again would be refused
    p, _ = brigade_package(make)
    first = import_package(session, competition, unit, make.admin(), p, clock())
    stored = counts(session)
    again = import_package(session, competition, unit, make.admin(), p, clock())
    assert counts(session) == stored
    assert [i.new for i in again] == [False] * 3
    assert [i.submission.id for i in again] == [i.submission.id for i in first]
    logs = session.execute(select(func.count(AuditLog.id)).where(AuditLog.action == "package.import")).scalar_one()
    assert logs == 1


def test_the_unit_by_name_short_name_alias_or_choice(session, make):
    p, _ = brigade_package(make)
    alias = make.unit("城管执法局某某区大队", short_name="区大队", aliases=[ORGANISER])
    assert organisation_unit(session, p) == alias
    by_short = make.unit("另一个单位", short_name="某某区城管执法 大队")  # spaces do not count
    with pytest.raises(Refusal) as caught:  # two units now answer to the organiser's name
        organisation_unit(session, p)
    assert caught.value.code == "PACKAGE_UNIT" and ORGANISER in caught.value.message
    by_name = make.unit(ORGANISER)
    assert organisation_unit(session, p) == by_name  # a unit's own name comes first
    assert organisation_unit(session, p, unit_name="另一个单位") == by_short
    assert organisation_unit(session, p, unit_name="区大队") == alias


def test_no_unit_matches(session, make):
    p, _ = brigade_package(make, organiser="外区城管执法大队")
    with pytest.raises(Refusal) as caught:
        organisation_unit(session, p)
    assert caught.value.code == "PACKAGE_UNIT" and "外区城管执法大队" in caught.value.message
    with pytest.raises(Refusal) as caught:
        organisation_unit(session, p, unit_name="没有这个单位")
    assert caught.value.code == "PACKAGE_UNIT"
    organiser = make.unit("外区城管执法大队", is_organiser=True)  # the roster's organiser does not submit
    assert organiser.is_organiser
    with pytest.raises(Refusal):
        organisation_unit(session, p)


def refused_import(session, make, competition, unit, p, clock) -> Refusal:
    """Imports with the fixtures committed to the test's savepoint, then rolls back as the
    caller does: the refusal, after checking that nothing of the import remains."""
    session.commit()
    before = counts(session)
    with pytest.raises(Refusal) as caught:
        import_package(session, competition, unit, make.admin(), p, clock())
    session.rollback()
    assert counts(session) == before
    assert session.execute(select(func.count(AuditLog.id)).where(AuditLog.action == "package.import")).scalar_one() == 0
    return caught.value


def test_an_entry_over_the_limit_refuses_the_whole_package(session, make, clock):
    long_essay = ("城管执法第二中队", "一篇太长的论文", ["解放思想，实事求是，与时俱进。" * 20])
    p, _ = brigade_package(make, essays=[*ESSAYS[:2], long_essay])
    competition = make.competition(title="全局征文评比", max_per_unit=5, char_limit=200)
    unit = make.unit("城管执法局某某区大队", aliases=[ORGANISER])
    e = refused_import(session, make, competition, unit, p, clock)
    assert e.code == "PACKAGE_ENTRY" and e.params["inner"] == "OVER_LIMIT"
    assert "第 3 名《一篇太长的论文》" in e.message and "OVER_LIMIT" in e.message and "整个材料包均未导入" in e.message


def test_a_full_quota_refuses_the_whole_package(session, make, clock):
    p, _ = brigade_package(make)
    competition = make.competition(title="全局征文评比", max_per_unit=2)
    unit = make.unit("城管执法局某某区大队", aliases=[ORGANISER])
    e = refused_import(session, make, competition, unit, p, clock)
    assert e.code == "PACKAGE_ENTRY" and e.params["inner"] == "QUOTA_FULL" and "第 3 名" in e.message


@pytest.mark.parametrize(("phase", "allowed"), [("open", True), ("intake_closed", True), ("review", False)])
def test_phases(session, make, clock, phase, allowed):
    p, _ = brigade_package(make)
    competition = make.competition(title="全局征文评比", max_per_unit=3, phase=phase)
    unit = make.unit("城管执法局某某区大队", aliases=[ORGANISER])
    if allowed:
        assert len(import_package(session, competition, unit, make.admin(), p, clock())) == 3
    else:
        assert refused_import(session, make, competition, unit, p, clock).code == "NOT_OPEN"


def test_two_entries_with_one_original_are_refused(session, make, bureau, clock):
    competition, unit = bureau
    p, _ = brigade_package(make)
    twin = PackageEntry(**{**p.entries[1].__dict__, "rank": 4, "files": [p.entries[1].original]})
    e = refused_import(session, make, competition, unit, Package(p.competition, [*p.entries, twin], []), clock)
    assert e.code == "PACKAGE_MANIFEST" and "第 4 名与第 2 名的原件完全相同" in e.message


# --- the command ------------------------------------------------------------------------


def zip_path(tmp_path, p: Package, name: str = "报送材料.zip"):
    path = tmp_path / name
    path.write_bytes(package.write(p))
    return path


def test_cli_imports_and_reports(runner, session, make, bureau, tmp_path):
    competition, unit = bureau
    p, _ = brigade_package(make)
    args = ["essays", "import-package", str(zip_path(tmp_path, p)), "--competition", str(competition.id)]
    before = counts(session)
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{ORGANISER}报送的《解放思想大讨论征文（大队）》材料包 → {unit.name}："
    words = p.entries[0].words
    assert lines[1] == f"[已导入] 第 1 名 城管执法第一中队《浅谈“放管服”改革：城管执法如何转变作风？》{words} 字"
    assert "共 3 篇：新导入 3，已存在 0。" in result.output
    assert counts(session) == (before[0] + 3, before[1] + 3)
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "[已存在，未重复导入] 第 2 名 市容环卫科" in result.output
    assert "新导入 0，已存在 3" in result.output and counts(session) == (before[0] + 3, before[1] + 3)


def test_cli_unit_option(runner, session, make, tmp_path):
    p, _ = brigade_package(make, organiser="外区城管执法大队")
    competition = make.competition(title="全局征文评比", max_per_unit=3)
    unit = make.unit("城管执法局外区大队")
    args = ["essays", "import-package", str(zip_path(tmp_path, p)), "--competition", str(competition.id)]
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "PACKAGE_UNIT" in result.output and "外区城管执法大队" in result.output
    result = runner.invoke(args=[*args, "--unit", "城管执法局外区大队"])
    assert result.exit_code == 0, result.output
    assert session.execute(select(func.count(Submission.id)).where(Submission.unit_id == unit.id)).scalar_one() == 3


def test_cli_refuses_a_tampered_zip_and_stores_nothing(runner, session, make, bureau, tmp_path):
    competition, _unit = bureau
    p, _ = brigade_package(make)
    name = p.entries[1].original.name
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package.write(p))) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, b"changed" if info.filename == name else source.read(info))
    path = tmp_path / "报送材料.zip"
    path.write_bytes(out.getvalue())
    before = counts(session)
    result = runner.invoke(args=["essays", "import-package", str(path), "--competition", str(competition.id)])
    assert result.exit_code == 1
    assert f"报送材料包中的文件“{name}”与清单记录的校验值（SHA-256）不符" in result.output
    assert "错误代码 PACKAGE_FILE" in result.output and counts(session) == before


def test_cli_refuses_an_entry_and_rolls_back(runner, session, make, tmp_path):
    p, _ = brigade_package(make)
    competition = make.competition(title="全局征文评比", max_per_unit=2)
    make.unit("城管执法局某某区大队", aliases=[ORGANISER])
    before = counts(session)
    result = runner.invoke(args=["essays", "import-package", str(zip_path(tmp_path, p)),
                                 "--competition", str(competition.id)])
    assert result.exit_code == 1 and "错误代码 PACKAGE_ENTRY" in result.output and "QUOTA_FULL" in result.output
    assert counts(session) == before


def test_cli_not_a_zip_and_no_competition(runner, bureau, tmp_path):
    competition, _unit = bureau
    path = tmp_path / "报送材料.zip"
    path.write_bytes(b"no zip")
    result = runner.invoke(args=["essays", "import-package", str(path), "--competition", str(competition.id)])
    assert result.exit_code == 1 and "PACKAGE_NOT_ZIP" in result.output and "不是有效的报送材料包" in result.output
    result = runner.invoke(args=["essays", "import-package", str(path), "--competition", "999999"])
    assert result.exit_code == 1 and "999999" in result.output
