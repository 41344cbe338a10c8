"""`flask --app app essays similar` (files, no database) and `essays similar-run` (a competition)."""

from __future__ import annotations

import json

import opencc
from sqlalchemy import select

from essays.platform.models import AuditLog
from essays.similarity.models import SimilarityReport
from tests.factories import docx_bytes
from tests.test_similarity_engine import NOTICE, PARAS


def essay(first: int, count: int = 6) -> str:
    return "\n".join(PARAS[first:first + count])


def similar(runner, *args):
    result = runner.invoke(args=["essays", "similar", *map(str, args)])
    return result


def test_json_lists_pairs_with_passages_in_original_offsets(runner, tmp_path):
    folder = tmp_path / "essays"
    folder.mkdir()
    source = essay(0)
    copied = source[:400]
    (folder / "a.txt").write_text(source, encoding="utf-8")
    own = "开头是我们自己的话，说明本中队的情况。"
    (folder / "b.docx").write_bytes(docx_bytes([own, copied, essay(40, 2)], title="范文"))
    (folder / "c.txt").write_text(essay(60), encoding="gb18030")
    result = similar(runner, "--json", folder)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["pairs"]) == 1
    pair = data["pairs"][0]
    assert {pair["a"], pair["b"]} == {str(folder / "a.txt"), str(folder / "b.docx")}
    start, end = pair["passages"][0]["a" if pair["a"].endswith("a.txt") else "b"]
    assert source[start:end] in copied and end - start > 350
    assert 0.1 < pair["ratio_a"] < 1 and 0.1 < pair["ratio_b"] < 1
    assert {e["file"] for e in data["essays"]} == {str(folder / n) for n in ("a.txt", "b.docx", "c.txt")}


def test_min_ratio_hides_small_pairs(runner, tmp_path):
    (tmp_path / "a.txt").write_text(essay(0), encoding="utf-8")
    (tmp_path / "b.txt").write_text(essay(0)[:200] + "\n" + essay(40), encoding="utf-8")
    assert json.loads(similar(runner, "--json", tmp_path).output)["pairs"]
    assert json.loads(similar(runner, "--json", "--min-ratio", "0.9", tmp_path).output)["pairs"] == []


def test_base_files_give_a_notice_ratio_and_no_pair(runner, tmp_path):
    (tmp_path / "notice.txt").write_text(NOTICE, encoding="utf-8")
    (tmp_path / "a.txt").write_text(NOTICE + "\n" + essay(0, 2), encoding="utf-8")
    (tmp_path / "b.txt").write_text(NOTICE + "\n" + essay(30, 2), encoding="utf-8")
    data = json.loads(similar(runner, "--json", "--base", tmp_path / "notice.txt",
                              tmp_path / "a.txt", tmp_path / "b.txt").output)
    assert data["pairs"] == []
    assert all(e["base_ratio"] > 0.25 for e in data["essays"])


def test_references_pair_with_essays_only(runner, tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    (refs / "r1.txt").write_text(essay(80), encoding="utf-8")
    (refs / "r2.txt").write_text(essay(80), encoding="utf-8")
    (tmp_path / "e.txt").write_text(opencc.OpenCC("s2t").convert(essay(80, 3)) + "\n" + essay(10, 3), encoding="utf-8")
    data = json.loads(similar(runner, "--json", "--reference", refs, tmp_path / "e.txt").output)
    assert sorted(p["b"] for p in data["pairs"]) == [str(refs / "r1.txt"), str(refs / "r2.txt")]
    assert all(p["a"] == str(tmp_path / "e.txt") for p in data["pairs"])
    assert data["essays"][0]["traces"]  # Traditional script copied into a Simplified essay


def test_unreadable_files_are_reported_and_skipped(runner, tmp_path):
    (tmp_path / "a.txt").write_text(essay(0), encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    result = runner.invoke(args=["essays", "similar", str(tmp_path)])
    assert result.exit_code == 0
    assert "broken.docx" in result.output and "已跳过" in result.output


def test_nothing_to_compare_is_an_error(runner, tmp_path):
    (tmp_path / "notes.md").write_text("x")
    result = similar(runner, tmp_path)
    assert result.exit_code == 1
    assert "没有可比对的 .docx 或 .txt 文件" in result.output


def test_similar_run_checks_a_whole_competition(runner, session, make):
    competition = make.competition()
    make.submission(competition, paragraphs=PARAS[0:6])
    make.submission(competition, paragraphs=PARAS[0:3] + PARAS[40:43])
    make.admin()
    result = runner.invoke(args=["essays", "similar-run", "--competition", str(competition.id)])
    assert result.exit_code == 0, result.output
    assert "已查重 2 篇" in result.output
    assert session.execute(select(AuditLog).where(AuditLog.action == "similarity.run")).scalars().first()
    assert len(session.execute(select(SimilarityReport)).scalars().all()) == 2


def test_many_files_are_read_in_the_workers_with_the_same_answer(runner, tmp_path):
    """Over 200 files (more than one chunk), the command reads them in its workers: same
    JSON as one process, the same files skipped with the same message, in name order."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(230):
        body = essay(i % 60, 2) + f"\n第{i}篇自己的话，说明本中队第{i}项工作的情况。"
        (folder / f"e{i:03d}.txt").write_bytes(body.encode("gb18030" if i % 7 == 0 else "utf-8"))
    (folder / "e100.txt").write_bytes(b"\x00\x01binary")
    one = runner.invoke(args=["essays", "similar", "--json", "--workers", "1", str(folder)])
    two = runner.invoke(args=["essays", "similar", "--json", "--workers", "2", str(folder)])
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert "e100.txt" in two.stderr
    assert len(json.loads(two.stdout)["essays"]) == 229
