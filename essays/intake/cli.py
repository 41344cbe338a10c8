"""`flask --app app essays inspect|import`: check essays before uploading; batch-import a
folder or zip.

`inspect` needs no database (it works with DATABASE_URL pointing nowhere): it reads and
counts each file as the upload would. `import` is the command-line form of the admin's
batch import (essays.intake.batch). `import-package` reads a package (essays.package.format) and imports
it all or nothing (essays.package.importing).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from essays.intake import batch as batches
from essays.intake import batch_files
from essays.intake.inspection import Inspection, IntakeRules, inspect_file
from essays.intake.titles import book_title
from essays.platform.cli import competition_and_admin, fail
from essays.platform.errors import Refusal

# --- inspect ---------------------------------------------------------------------------


def _inspect_one(path: Path, rules: IntakeRules) -> Inspection:
    limit = current_app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    if path.stat().st_size > limit:
        raise Refusal("UPLOAD_TOO_LARGE", limit=f"{limit // (1024 * 1024)} MB")
    return inspect_file(path.read_bytes(), rules)


def inspection_json(file: str, limit: int, result: Inspection | None = None,
                    refusal: Refusal | None = None) -> dict:
    """One file's result in the documented JSON shape (README, 命令行)."""
    if result is None:
        return {"file": file, "ok": False, "error": {"code": refusal.code, "message": refusal.message},
                "title": "", "counts": None, "limit": limit, "within_limit": None, "warnings": []}
    c = result.counts
    return {"file": file, "ok": True, "error": None, "title": result.title,
            "counts": {"words": c.words, "cjk": c.east_asian, "non_cjk_words": c.non_east_asian_words,
                       "chars_no_spaces": c.chars_no_spaces, "chars_with_spaces": c.chars_with_spaces,
                       "words_range": [c.words_min, c.words_max]},
            "limit": limit, "within_limit": result.verdict.within, "warnings": list(result.warnings)}


def _verdict_text(result: Inspection, hard: bool) -> str:
    v = result.verdict
    if v.refuse:
        return f"超过 {result.limit} 字的上限，上传时会被拒收：请至少删减 {v.cut} 字。"
    if v.straddles:
        return f"字数范围跨越 {result.limit} 字的上限，可以上传，但会提请政工科复核。"
    if not v.within:
        return f"超过 {result.limit} 字的参考值，可以上传，但会被标记。"
    return f"未超过 {result.limit} 字的{'上限' if hard else '参考值'}。"


def _report(file: str, result: Inspection | None, refusal: Refusal | None, hard: bool) -> list[str]:
    if result is None:
        return [f"文件：{file}", f"  ✗ 无法读取：{refusal.message}（错误代码 {refusal.code}）"]
    c = result.counts
    words = f"{c.words}" + (f"（可能为 {c.words_min}–{c.words_max}）" if c.words_min != c.words_max else "")
    lines = [f"文件：{file}", f"  题目：{result.title or '（未识别）'}", f"  字数：{words}",
             f"  中文字符：{c.east_asian}；非中文单词：{c.non_east_asian_words}；"
             f"字符数（不计空格）：{c.chars_no_spaces}；字符数（计空格）：{c.chars_with_spaces}",
             f"  {'✓' if result.verdict.within else '!'} {_verdict_text(result, hard)}"]
    lines += [f"  提示：{w}" for w in result.warnings]
    return lines


@click.command("inspect")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 数组，每个文件一项")
@click.option("--limit", type=click.IntRange(min=1), default=3000, show_default=True, help="字数上限")
@click.option("--soft", is_flag=True, help="上限为参考值（“左右”“为宜”）：超出只标记，不拒收")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def inspect_command(as_json: bool, limit: int, soft: bool, files: tuple[Path, ...]) -> None:
    """Checks .docx files as the upload would, without the database.

    Exit status 0 when every file could be read (an over-limit file was read), 1 otherwise."""
    rules = IntakeRules(char_limit=limit, limit_is_hard=not soft)
    results, lines, failed = [], [], False
    for path in files:
        result = refusal = None
        try:
            result = _inspect_one(path, rules)
        except Refusal as e:
            refusal, failed = e, True
        results.append(inspection_json(str(path), limit, result, refusal))
        lines += [*_report(str(path), result, refusal, not soft), ""]
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(lines).rstrip())
    sys.exit(1 if failed else 0)


# --- import ----------------------------------------------------------------------------

STATUS_WORDS = {"imported": "已导入", "refused": "拒收", "skipped": "跳过", "doubtful": "待确认"}


def outcome_line(o: batches.Outcome) -> str:
    head = f"[{STATUS_WORDS[o.status]}] {o.file}"
    if o.status == "imported":
        return f"{head} → {o.unit}{book_title(o.title)}{o.words} 字"
    if o.status == "refused":
        return f"{head}{f'（{o.unit}）' if o.unit else ''}：{o.message}（错误代码 {o.code}）"
    if o.status == "doubtful":
        guesses = "、".join(o.candidates) or "无"
        return f"{head}：{o.message}；可能的单位：{guesses}"
    return f"{head}：{o.message}"


def _read_source(source: Path) -> list[batch_files.BatchFile]:
    max_file = current_app.config.get("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    if source.is_dir():
        return batch_files.read_folder(source, max_file)
    if source.stat().st_size > current_app.config.get("BATCH_MAX_BYTES", 50 * 1024 * 1024):
        fail("压缩包太大，请分批导入。")
    try:
        return batch_files.read_zip(source.read_bytes(), max_file)
    except batch_files.NotAZip:
        fail(f"{source} 不是有效的 .zip 压缩包，也不是文件夹。")


@click.command("import")
@with_appcontext
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--competition", "competition_id", type=int, required=True, help="征文活动的编号")
@click.option("--yes", is_flag=True, help="单位不确定时接受最佳猜测（否则一个也不导入）")
@click.option("--by", "username", default="", help="以哪个管理员账号导入（只有一个管理员时可省略）")
def import_command(source: Path, competition_id: int, yes: bool, username: str) -> None:
    """Imports a folder or .zip of files named 单位-作者-题目.docx into a competition.

    Exit status 0 when every essay was imported, 1 when any was refused or needs confirming."""
    from essays.competitions.operations import participating_units
    from essays.platform.db import db
    from essays.platform.web import now

    competition, user = competition_and_admin(competition_id, username)
    session = db()
    try:
        files = _read_source(source)
        planned = batches.plan(files, participating_units(session), competition,
                               batches.known_hashes(session, competition))
    except Refusal as e:
        fail(f"{e.message}（错误代码 {e.code}）")
    doubtful = [p for p in planned if p.importable and not p.match.confident]
    if doubtful and not yes:
        for p in planned:
            if not p.importable:
                click.echo(outcome_line(batches.not_importable(p)))
            elif p.match.confident:
                click.echo(f"[可导入] {p.file.name} → {p.match.unit.name}")
            else:
                click.echo(outcome_line(batches.doubtful_outcome(p)))
        fail(f"有 {len(doubtful)} 个文件的单位无法确定，未导入任何文件。"
              "请把文件名改为“单位-作者-题目.docx”后重试，或加 --yes 接受最佳猜测。")
    choices = {p.index: p.match.unit for p in planned if p.importable and (p.match.confident or yes)}
    outcomes = batches.import_planned(session, competition, user, planned, choices, now())
    batches.record_import(session, user, competition, outcomes, source=source.name)
    session.commit()
    for o in outcomes:
        click.echo(outcome_line(o))
    counts = batches.tally(outcomes)
    click.echo(f"共 {len(outcomes)} 个文件：已导入 {counts['imported']}，拒收 {counts['refused']}，"
               f"跳过 {counts['skipped']}，待确认 {counts['doubtful']}。")
    sys.exit(1 if counts["refused"] or counts["doubtful"] else 0)


COMMANDS = (inspect_command, import_command)
