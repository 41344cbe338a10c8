"""`flask essays inspect` (no database, JSON schema, exit codes) and `flask essays import`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from essays.intake.inspection import IntakeRules, inspect_file
from essays.models import Submission, SubmissionVersion
from essays.platform.models import AuditLog
from tests.factories import docx_bytes
from tests.test_batch import make_zip

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"file", "ok", "error", "title", "counts", "limit", "within_limit", "warnings"}
COUNT_KEYS = {"words", "cjk", "non_cjk_words", "chars_no_spaces", "chars_with_spaces", "words_range"}
LONG = ["城管执法要坚持以人民为中心的发展思想，在改革创新中解放思想、实事求是。" * 3]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    paths = {"good": tmp_path / "一中队-张三-短文.docx", "long": tmp_path / "长文.docx",
             "broken": tmp_path / "坏文件.docx", "doc": tmp_path / "旧版.doc"}
    paths["good"].write_bytes(docx_bytes(["城管工作要解放思想。"], title="短文"))
    paths["long"].write_bytes(docx_bytes(LONG, title="长文"))
    paths["broken"].write_bytes(b"PK\x03\x04 not really a zip")
    paths["doc"].write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    return paths


def inspect_json(runner, *args):
    result = runner.invoke(args=["essays", "inspect", "--json", *map(str, args)])
    return result, json.loads(result.stdout)


def test_inspect_json_schema_and_counts(runner, files):
    result, items = inspect_json(runner, files["good"], files["long"])
    assert result.exit_code == 0, result.output
    assert [set(item) for item in items] == [KEYS, KEYS]
    good, long = items
    assert good["file"] == str(files["good"]) and good["ok"] is True and good["error"] is None
    assert set(good["counts"]) == COUNT_KEYS and good["limit"] == 3000 and good["within_limit"] is True
    expected = inspect_file(files["good"].read_bytes(), IntakeRules()).counts
    assert good["counts"] == {"words": expected.words, "cjk": expected.east_asian,
                              "non_cjk_words": expected.non_east_asian_words,
                              "chars_no_spaces": expected.chars_no_spaces,
                              "chars_with_spaces": expected.chars_with_spaces,
                              "words_range": [expected.words_min, expected.words_max]}
    assert good["title"] == "短文" and isinstance(good["warnings"], list)
    assert long["counts"]["words"] > good["counts"]["words"]


def test_inspect_over_limit_is_read(runner, files):
    result, [item] = inspect_json(runner, "--limit", 20, files["long"])
    assert result.exit_code == 0
    assert (item["ok"], item["within_limit"], item["limit"], item["error"]) == (True, False, 20, None)
    soft_result, [soft] = inspect_json(runner, "--limit", 20, "--soft", files["long"])
    assert soft_result.exit_code == 0 and soft["within_limit"] is False
    assert any("参考值" in w for w in soft["warnings"]) and not any("参考值" in w for w in item["warnings"])


def test_inspect_refused_files_exit_1(runner, files):
    result, items = inspect_json(runner, files["good"], files["broken"], files["doc"])
    assert result.exit_code == 1
    assert [i["ok"] for i in items] == [True, False, False]
    assert [i["error"]["code"] for i in items[1:]] == ["UPLOAD_BROKEN", "UPLOAD_OLD_DOC"]
    assert all(set(i) == KEYS and i["error"]["message"] for i in items[1:])
    assert items[1]["counts"] is None and items[1]["within_limit"] is None


def test_inspect_readable_report(runner, files):
    result = runner.invoke(args=["essays", "inspect", "--limit", "20", str(files["long"]), str(files["broken"])])
    assert result.exit_code == 1
    assert "文件：" in result.output and "字数：" in result.output and "上传时会被拒收" in result.output
    assert "无法读取" in result.output and "UPLOAD_BROKEN" in result.output
    assert not result.output.lstrip().startswith("[")


def test_inspect_needs_no_database(files, tmp_path):
    env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME")},
           "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
           "ZHENGWEN_INSTANCE": str(tmp_path / "inst")}
    run = [sys.executable, "-m", "flask", "--app", "app", "essays", "inspect", "--json"]
    result = subprocess.run([*run, str(files["good"]), str(files["long"])], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [i["ok"] for i in json.loads(result.stdout)] == [True, True]
    result = subprocess.run([*run, str(files["broken"])], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and json.loads(result.stdout)[0]["error"]["code"] == "UPLOAD_BROKEN"


# --- import ----------------------------------------------------------------------------------


@pytest.fixture
def world(make):
    competition = make.competition(phase="open")  # also makes the only admin
    units = [make.unit("城管执法一中队", short_name="一中队"), make.unit("城管执法二中队", short_name="二中队"),
             make.unit("城管执法十一中队", short_name="十一中队")]
    return competition, units


def essay(text: str) -> bytes:
    return docx_bytes([text], title="解放思想")


def submissions(session) -> int:
    return session.execute(select(func.count(Submission.id))).scalar_one()


def folder(tmp_path, names: dict[str, bytes]) -> Path:
    root = tmp_path / "来稿"
    root.mkdir()
    for name, data in names.items():
        (root / name).write_bytes(data)
    return root


def test_import_a_folder(runner, world, session, tmp_path):
    competition, _units = world
    root = folder(tmp_path, {"一中队-张三-改革.docx": essay("甲。"),
                             "城管执法二中队-李四、王五-创新.docx": essay("乙。"),
                             "说明.txt": b"x", "十一中队-赵六-坏.docx": b"PK\x03\x04 broken"})
    result = runner.invoke(args=["essays", "import", str(root), "--competition", str(competition.id)])
    assert result.exit_code == 1, result.output  # one file was refused
    assert "[已导入] 一中队-张三-改革.docx → 城管执法一中队" in result.output
    assert "[跳过] 说明.txt" in result.output and "UPLOAD_BROKEN" in result.output
    assert "已导入 2，拒收 1，跳过 1，待确认 0" in result.output
    assert submissions(session) == 2
    entry = session.execute(select(AuditLog).where(AuditLog.action == "batch.import")).scalar_one()
    assert (entry.after["imported"], entry.after["source"]) == (2, "来稿")


def test_doubtful_names_import_nothing_without_yes(runner, world, session, tmp_path):
    competition, _units = world
    root = folder(tmp_path, {"一中队-张三-改革.docx": essay("甲。"), "二大队-李四-创新.docx": essay("乙。")})
    args = ["essays", "import", str(root), "--competition", str(competition.id)]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "[待确认] 二大队-李四-创新.docx" in result.output and "可能的单位：城管执法二中队" in result.output
    assert "[可导入] 一中队-张三-改革.docx → 城管执法一中队" in result.output
    assert "未导入任何文件" in result.output and "--yes" in result.output
    assert submissions(session) == 0
    result = runner.invoke(args=[*args, "--yes"])
    assert result.exit_code == 0, result.output
    assert submissions(session) == 2 and "二大队-李四-创新.docx → 城管执法二中队" in result.output


def test_import_a_zip_and_who_imports(runner, world, make, session, tmp_path):
    competition, _units = world
    path = tmp_path / "来稿.zip"
    path.write_bytes(make_zip({"一中队-张三-改革.docx": essay("甲。")}, gbk=True))
    make.user("admin", username="second")
    args = ["essays", "import", str(path), "--competition", str(competition.id)]
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "--by" in result.output and submissions(session) == 0
    result = runner.invoke(args=[*args, "--by", "second"])
    assert result.exit_code == 0, result.output
    version = session.execute(select(SubmissionVersion)).scalar_one()
    assert version.uploader.username == "second" and version.original_filename == "一中队-张三-改革.docx"


def test_import_refuses_what_it_cannot_read(runner, world, tmp_path):
    competition, _units = world
    path = tmp_path / "来稿.zip"
    path.write_bytes(b"no zip")
    result = runner.invoke(args=["essays", "import", str(path), "--competition", str(competition.id)])
    assert result.exit_code == 1 and "不是有效的 .zip" in result.output
    result = runner.invoke(args=["essays", "import", str(path), "--competition", "999999"])
    assert result.exit_code == 1 and "999999" in result.output
