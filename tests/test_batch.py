"""Batch import: file names, unit matching, reading zips and folders (pure), and the import
itself at the domain level (savepoints, duplicates, quota, the deadline)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from essays.intake import batch, batch_files
from essays.intake.batch_files import (
    BatchFile,
    NotAZip,
    match_unit,
    parse_filename,
    read_folder,
    read_zip,
    split_authors,
)
from essays.models import Submission, SubmissionVersion
from essays.platform.audit import verify_chain
from essays.platform.errors import Refusal
from essays.platform.models import AuditLog
from tests.factories import DEADLINE, docx_bytes

# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("城管执法一中队-张三-解放思想 推动改革.docx", ("城管执法一中队", ["张三"], "解放思想 推动改革")),
    ("一中队－张三、李四－改革创新.DOCX", ("一中队", ["张三", "李四"], "改革创新")),
    ("一中队—张三,李四—改革创新.docx", ("一中队", ["张三", "李四"], "改革创新")),
    ("一中队_张三，李四_改革创新.docx", ("一中队", ["张三", "李四"], "改革创新")),
    ("一中队 - 张三 - 改革创新.docx", ("一中队", ["张三"], "改革创新")),
    ("一中队-张三 李四-改革创新.docx", ("一中队", ["张三", "李四"], "改革创新")),
    ("一中队-张 三-改革创新.docx", ("一中队", ["张三"], "改革创新")),
    # Two parts: unit and title.
    ("一中队-解放思想推动城管改革.docx", ("一中队", [], "解放思想推动城管改革")),
    # Title and author the other way round: the names are recognised.
    ("一中队-解放思想推动城管改革-张三.docx", ("一中队", ["张三"], "解放思想推动城管改革")),
    # The title keeps its own separators.
    ("一中队-张三-解放思想——城管改革-创新.docx", ("一中队", ["张三"], "解放思想——城管改革-创新")),
    # Numbering in front, folders, Windows paths.
    ("01-一中队-张三-改革创新.docx", ("一中队", ["张三"], "改革创新")),
    ("3.一中队-张三-改革创新.docx", ("一中队", ["张三"], "改革创新")),
    ("（2）一中队-张三-改革创新.docx", ("一中队", ["张三"], "改革创新")),
    ("征文/一中队-张三-改革创新.docx", ("一中队", ["张三"], "改革创新")),
    ("征文\\一中队-张三-改革创新.docx", ("一中队", ["张三"], "改革创新")),
    # One part: the unit only.
    ("一中队.docx", ("一中队", [], "")),
    ("一中队-张三-改革创新.doc", ("一中队", ["张三"], "改革创新")),
])
def test_parse_filename(name, expected):
    assert parse_filename(name) == expected


@pytest.mark.parametrize(("text", "names"), [
    ("张三", ["张三"]), ("张三、李四", ["张三", "李四"]), ("张三,李四；王五", ["张三", "李四", "王五"]),
    ("张三 李四", ["张三", "李四"]), ("张 三", ["张三"]), ("欧阳·娜娜", ["欧阳·娜娜"]), ("", []),
])
def test_split_authors(text, names):
    assert split_authors(text) == names


# --- unit matching -------------------------------------------------------------------------

UNITS = [SimpleNamespace(name="城管执法一中队", short_name="一中队", aliases=["执法一中队"]),
         SimpleNamespace(name="城管执法二中队", short_name="二中队", aliases=[]),
         SimpleNamespace(name="城管执法十一中队", short_name="十一中队", aliases=[]),
         SimpleNamespace(name="政策法规科", short_name="法规科", aliases=["法制科"]),
         SimpleNamespace(name="综合办公室", short_name="办公室", aliases=[])]


@pytest.mark.parametrize(("text", "unit", "confident"), [
    ("城管执法一中队", "城管执法一中队", True),  # the name
    ("一中队", "城管执法一中队", True),  # the short name, although 十一中队 contains it
    ("十一中队", "城管执法十一中队", True),
    ("法制科", "政策法规科", True),  # an alias
    ("一 中 队", "城管执法一中队", True),  # spaces do not count
    ("执法二中队", "城管执法二中队", True),  # contained in the name, far ahead of the next
    ("城管二中队", "城管执法二中队", True),
    ("城管执法大队一中队", "城管执法一中队", True),
    ("综合办", "综合办公室", True),
    ("城管执法中队", "城管执法一中队", False),  # one, two or eleven? a tie
    ("执法十一中队", "城管执法一中队", False),  # close to both 一中队 and 十一中队
    ("规划科", "政策法规科", False),  # a weak guess
    ("二大队", "城管执法二中队", False),
])
def test_match_unit(text, unit, confident):
    result = match_unit(text, UNITS)
    assert (result.unit.name, result.confident) == (unit, confident)
    assert result.candidates[0][0] is result.unit


def test_match_unit_confident_means_far_ahead():
    result = match_unit("城管执法中队", UNITS)
    scores = [s for _, s in result.candidates]
    assert scores == sorted(scores, reverse=True) and scores[0] - scores[1] < 10


def test_match_unit_nothing_near():
    assert match_unit("", UNITS).unit is None
    assert match_unit("一中队", []).unit is None
    result = match_unit("ABCDEFG", UNITS)
    assert result.unit is None and not result.confident


def test_an_alias_shared_by_two_units_is_doubtful():
    units = [SimpleNamespace(name="甲", short_name="", aliases=["城东中队"]),
             SimpleNamespace(name="乙", short_name="", aliases=["城东中队"])]
    assert not match_unit("城东中队", units).confident


# --- zips and folders ----------------------------------------------------------------------


def make_zip(entries: dict[str, bytes], gbk: bool = False) -> bytes:
    """A zip; with gbk=True the names are stored in GBK without the UTF-8 flag, as on
    Chinese Windows (written under ASCII placeholders, then patched in place)."""
    buffer = io.BytesIO()
    placeholders = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (name, data) in enumerate(entries.items()):
            if gbk:
                raw = name.encode("gbk")
                stand_in = f"{i:03d}".encode() + b"~" * (len(raw) - 3)
                placeholders[stand_in] = raw
                name = stand_in.decode()
            archive.writestr(name, data)
    out = buffer.getvalue()
    for stand_in, raw in placeholders.items():
        assert out.count(stand_in) == 2
        out = out.replace(stand_in, raw)
    return out


def test_read_zip_with_gbk_names():
    data = make_zip({"一中队-张三-改革.docx": b"essay", "说明.txt": b"x"}, gbk=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not archive.infolist()[0].flag_bits & 0x800
    files = read_zip(data, 1000)
    assert [f.name for f in files] == ["一中队-张三-改革.docx", "说明.txt"]
    assert files[0].data == b"essay" and not files[0].skipped
    assert files[1].data is None and files[1].skipped


def test_read_zip_with_utf8_names_and_skips():
    data = make_zip({"征文/": b"", "征文/一中队-张三-改革.docx": b"essay",
                     "__MACOSX/征文/._一中队-张三-改革.docx": b"x", "征文/~$中队-张三-改革.docx": b"lock",
                     "征文/.DS_Store": b"x", "征文/Thumbs.db": b"x",
                     "征文/照片.jpg": b"x", "征文/二中队-李四-老文件.doc": b"old"})
    files = {f.name: f for f in read_zip(data, 1000)}
    assert "征文/" not in files  # directories are no files
    assert files["征文/一中队-张三-改革.docx"].data == b"essay"
    for name in ("__MACOSX/征文/._一中队-张三-改革.docx", "征文/~$中队-张三-改革.docx", "征文/.DS_Store",
                 "征文/Thumbs.db"):
        assert "系统或临时文件" in files[name].skipped, name
    assert "不是 Word 文档" in files["征文/照片.jpg"].skipped
    # An old .doc is read: its content, not its name, decides (it is refused as UPLOAD_OLD_DOC).
    assert files["征文/二中队-李四-老文件.doc"].data == b"old"


def test_read_zip_refuses_oversize_members_one_by_one():
    files = read_zip(make_zip({"a-张三-甲.docx": b"x" * 2000, "b-李四-乙.docx": b"y" * 10}), max_file_bytes=1000)
    assert files[0].refusal.code == "UPLOAD_TOO_LARGE" and files[0].data is None
    assert files[1].data == b"y" * 10


def test_read_zip_limits_members_and_total_size(monkeypatch):
    data = make_zip({f"{i}.docx": b"x" for i in range(5)})
    monkeypatch.setattr(batch_files, "MAX_ENTRIES", 4)
    with pytest.raises(Refusal) as e:
        read_zip(data, 1000)
    assert e.value.code == "BATCH_TOO_LARGE"
    monkeypatch.setattr(batch_files, "MAX_ENTRIES", 100)
    monkeypatch.setattr(batch_files, "MAX_TOTAL_BYTES", 4)
    with pytest.raises(Refusal) as e:
        read_zip(data, 1000)
    assert e.value.code == "BATCH_TOO_LARGE"


def test_read_zip_broken_member_and_not_a_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("a-张三-甲.docx", b"essay " * 100)
    data = bytearray(buffer.getvalue())
    data[data.index(b"essay essay")] ^= 0xFF  # the CRC no longer matches
    files = read_zip(bytes(data), 100_000)
    assert files[0].refusal is not None and files[0].refusal.code == "UPLOAD_BROKEN"
    with pytest.raises(NotAZip):
        read_zip(b"not a zip at all", 1000)
    with pytest.raises(NotAZip):
        read_zip(b"", 1000)


def test_read_folder(tmp_path):
    (tmp_path / "征文").mkdir()
    (tmp_path / "征文" / "一中队-张三-改革.docx").write_bytes(b"essay")
    (tmp_path / "~$中队-张三-改革.docx").write_bytes(b"lock")
    (tmp_path / "说明.txt").write_text("x")
    (tmp_path / "big-李四-长.docx").write_bytes(b"x" * 2000)
    (tmp_path / "链接.docx").symlink_to(tmp_path / "征文" / "一中队-张三-改革.docx")
    files = {f.name: f for f in read_folder(tmp_path, 1000)}
    assert set(files) == {"征文/一中队-张三-改革.docx", "~$中队-张三-改革.docx", "说明.txt", "big-李四-长.docx",
                          "链接.docx"}
    assert files["征文/一中队-张三-改革.docx"].data == b"essay"
    assert files["~$中队-张三-改革.docx"].skipped and files["说明.txt"].skipped
    assert files["big-李四-长.docx"].refusal.code == "UPLOAD_TOO_LARGE"
    assert files["链接.docx"].skipped and files["链接.docx"].data is None  # links are not followed


# --- planning and importing (database) -----------------------------------------------------


@pytest.fixture
def world(make):
    competition = make.competition(phase="open")
    units = [make.unit("城管执法一中队", short_name="一中队"), make.unit("城管执法二中队", short_name="二中队"),
             make.unit("城管执法十一中队", short_name="十一中队")]
    return SimpleNamespace(competition=competition, units=units, admin=make.admin())


def essay(text="城管工作要坚持以人民为中心。", title="解放思想推动改革") -> bytes:
    return docx_bytes([text], title=title)


def run(session, world, files, choose=None, now=None):
    planned = batch.plan(files, world.units, world.competition, batch.known_hashes(session, world.competition))
    choices = choose(planned) if choose else {p.index: p.match.unit for p in planned
                                              if p.importable and p.match.confident}
    return batch.import_planned(session, world.competition, world.admin, planned, choices,
                                now or DEADLINE - timedelta(days=1))


def versions(session) -> int:
    return session.execute(select(func.count(SubmissionVersion.id))).scalar_one()


def test_import_reports_every_file(session, world):
    files = [BatchFile("一中队-张三、李四-改革创新.docx", essay("一中队的文章。")),
             BatchFile("城管执法二中队-王五-解放思想.docx", essay("二中队的文章。")),
             BatchFile("说明.txt", skipped="不是 Word 文档，已跳过"),
             BatchFile("坏-赵六-坏文件.docx", b"PK\x03\x04 broken"),
             BatchFile("执法中队-钱七-题目.docx", essay("不知哪个中队的文章。"))]
    outcomes = run(session, world, files)
    assert [o.status for o in outcomes] == ["imported", "imported", "skipped", "refused", "doubtful"]
    first = outcomes[0]
    assert (first.unit, first.title, first.words > 0) == ("城管执法一中队", "改革创新", True)
    assert outcomes[3].code == "UPLOAD_BROKEN" and outcomes[3].message
    assert outcomes[4].candidates and "城管执法" in outcomes[4].candidates[0]
    stored = session.execute(select(Submission).order_by(Submission.id)).scalars().all()
    assert [(s.unit.name, s.authors) for s in stored] == [("城管执法一中队", ["张三", "李四"]),
                                                          ("城管执法二中队", ["王五"])]
    assert stored[0].current.uploader is world.admin and stored[0].current.original_filename.startswith("一中队")
    assert batch.tally(outcomes) == {"imported": 2, "refused": 1, "skipped": 1, "doubtful": 1}


def test_one_refused_file_does_not_undo_the_others(session, world, make):
    make.submission(world.competition, world.units[0])  # 一中队 has used its quota (1)
    files = [BatchFile("一中队-张三-改革.docx", essay("又一篇。")),
             BatchFile("二中队-李四-创新.docx", essay("二中队。"))]
    outcomes = run(session, world, files)
    assert [(o.status, o.code) for o in outcomes] == [("refused", "QUOTA_FULL"), ("imported", "")]
    assert versions(session) == 2
    actions = session.execute(select(AuditLog.action).order_by(AuditLog.seq)).scalars().all()
    assert actions.count("submission.create") == 2  # the refused file left no audit entry


def test_same_file_twice_is_imported_once(session, world):
    data = essay("同一个文件。")
    files = [BatchFile("一中队-张三-改革.docx", data), BatchFile("副本/一中队-张三-改革.docx", data)]
    assert [o.status for o in run(session, world, files)] == ["imported", "skipped"]
    again = run(session, world, [BatchFile("一中队-张三-改革（重发）.docx", data)])
    assert again[0].status == "skipped" and "相同" in again[0].message
    # The same bytes from another unit are a copy for the copy check to see, not a retry.
    other = run(session, world, [BatchFile("二中队-张三-改革.docx", data)])
    assert other[0].status == "imported"
    assert versions(session) == 2


def test_over_limit_is_refused_before_import(session, world):
    world.competition.char_limit = 5
    outcomes = run(session, world, [BatchFile("一中队-张三-改革.docx", essay("这篇文章显然超过了五个字的上限。"))])
    assert outcomes[0].status == "refused" and outcomes[0].code == "OVER_LIMIT"
    assert versions(session) == 0


def test_admin_import_after_the_deadline_and_after_intake_closed(session, world):
    world.competition.phase = "intake_closed"
    outcomes = run(session, world, [BatchFile("一中队-张三-改革.docx", essay())], now=DEADLINE + timedelta(days=3))
    assert outcomes[0].status == "imported"
    world.competition.phase = "review"
    outcomes = run(session, world, [BatchFile("二中队-李四-改革.docx", essay("另一篇。"))])
    assert outcomes[0].code == "NOT_OPEN"


def test_choices_decide_and_an_empty_choice_imports_nothing(session, world):
    files = [BatchFile("执法中队-张三-改革.docx", essay("甲。")), BatchFile("一中队-李四-创新.docx", essay("乙。"))]
    outcomes = run(session, world, files, choose=lambda planned: {0: world.units[2], 1: None})
    assert [(o.status, o.unit) for o in outcomes] == [("imported", "城管执法十一中队"), ("skipped", "")]


def test_each_file_has_its_own_savepoint(session, world, monkeypatch):
    """A refusal raised after receive() has written (stored, audited) undoes that file only."""
    real = batch.receive

    def receive_then_refuse(session, competition, unit, user, form, filename, data, now, **kwargs):
        result = real(session, competition, unit, user, form, filename, data, now, **kwargs)
        if filename.startswith("二中队"):
            raise Refusal("UPLOAD_BROKEN")
        return result

    monkeypatch.setattr(batch, "receive", receive_then_refuse)
    files = [BatchFile("一中队-张三-改革.docx", essay("甲。")), BatchFile("二中队-李四-创新.docx", essay("乙。")),
             BatchFile("十一中队-王五-实干.docx", essay("丙。"))]
    outcomes = run(session, world, files)
    assert [o.status for o in outcomes] == ["imported", "refused", "imported"]
    units = session.execute(select(Submission.unit_id).order_by(Submission.id)).scalars().all()
    assert units == [world.units[0].id, world.units[2].id]
    assert verify_chain(session) == (True, None)
    created = select(func.count(AuditLog.id)).where(AuditLog.action == "submission.create")
    assert session.execute(created).scalar_one() == 2


def test_confirming_after_the_phase_moved_on_keeps_the_batch(session, world):
    data = make_zip({"一中队-张三-改革.docx": essay("一中队的文章。")})
    pending = batch.upload(session, world.admin, world.competition, "来稿.zip", data, 10_000_000)
    world.competition.phase = "review"
    session.flush()
    with pytest.raises(Refusal) as e:
        batch.confirm(session, world.admin, pending, {}, world.units, DEADLINE, 10_000_000)
    assert e.value.code == "NOT_OPEN"
    assert pending.status == "pending" and pending.data == data


def test_confirm_reports_progress_file_by_file(session, world):
    """The confirmation runs as a job (kind "batch.confirm", see tests/test_jobs.py); its
    progress callback hears before each file."""
    data = make_zip({"一中队-张三-改革.docx": essay("甲。"), "二中队-李四-创新.docx": essay("乙。")})
    pending = batch.upload(session, world.admin, world.competition, "来稿.zip", data, 10_000_000)
    heard = []
    outcomes = batch.confirm(session, world.admin, pending, {0: world.units[0], 1: world.units[1]}, world.units,
                             DEADLINE - timedelta(days=1), 10_000_000,
                             progress=lambda done, total, message: heard.append((done, total, str(message))))
    assert [o.status for o in outcomes] == ["imported", "imported"]
    assert heard == [(0, 0, "正在读取和检查压缩包中的文件"),
                     (0, 2, "正在导入第 1 个文件（共 2 个）：一中队-张三-改革.docx"),
                     (1, 2, "正在导入第 2 个文件（共 2 个）：二中队-李四-创新.docx")]
