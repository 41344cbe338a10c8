"""`flask --app app essays similar` (no database) and `essays similar-run` (a competition).

`similar` compares files on disk the way the app compares essays:
    flask --app app essays similar [--json] [--min-ratio 0.05] [--base FILE]... [--reference PATH]... PATH...
A PATH is a .docx or .txt file or a folder of them. Base files (the notice, common
quotations) never make two essays similar; they give each essay its 通知引用比. References
are compared with every essay but not with each other. With --json it prints
{"pairs": [{"a", "b", "ratio_a", "ratio_b", "passages": [{"a": [start, end], "b": [start, end]}]}],
 "essays": [{"file", "total_ratio", "base_ratio", "traces": [...]}]},
listing each pair where either ratio reaches --min-ratio; passages are [start, end) offsets
in each file's text as read (the body of a .docx, a .txt as decoded).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from essays.platform.errors import Refusal
from essays.similarity.corpus import Document, compare_corpus
from essays.similarity.files import collect, read_text
from essays.similarity.normalize import Normalized, normalize
from essays.similarity.traces import find_traces, trace_summary

READ_CHUNK = 200  # files a worker reads and decodes at once


def _read_files(files: list[Path]) -> list[tuple[str | None, str | None]]:
    """(text, None) or (None, the message saying why it was skipped), per file."""
    out: list[tuple[str | None, str | None]] = []
    for path in files:
        try:
            out.append((read_text(path.name, path.read_bytes()), None))
        except Refusal as refusal:
            out.append((None, f"{path}: {refusal.message}（已跳过）"))
    return out


def _read_all(paths: list[Path], workers: int = 1) -> dict[str, str]:
    """The texts of the files, in name order; reading and decoding 20,000 files is work per
    file like the rest, so it runs in `workers` processes when there are many."""
    files = collect(paths)
    chunks = [files[start:start + READ_CHUNK] for start in range(0, len(files), READ_CHUNK)]
    if workers > 1 and len(chunks) > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_read_files, chunks, chunksize=1)
    else:
        parts = [_read_files(chunk) for chunk in chunks]
    texts: dict[str, str] = {}
    for path, (text, skipped) in zip(files, (item for part in parts for item in part), strict=True):
        if skipped is not None:
            click.echo(skipped, err=True)
        else:
            texts[str(path)] = text
    return texts


@click.command("similar")
@with_appcontext
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--min-ratio", type=click.FloatRange(0, 1), default=0.05, show_default=True,
              help="列出一对文件的最低复制比（任一方达到即列出）")
@click.option("--base", "bases", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="基础文本（通知、常用引语），可多次给出")
@click.option("--reference", "references", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="比对文献（往年论文、范文），文件或文件夹，可多次给出")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True, help="并行进程数")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def similar_command(as_json: bool, min_ratio: float, bases: tuple[Path, ...], references: tuple[Path, ...],
                    workers: int, paths: tuple[Path, ...]) -> None:
    """查重：比对文件之间、文件与比对文献之间的相同段落（不需要数据库）。"""
    essays = _read_all(list(paths), workers)
    refs = {k: v for k, v in _read_all(list(references), workers).items() if k not in essays}
    base_texts = list(_read_all(list(bases)).values())
    if not essays:
        click.echo("没有可比对的 .docx 或 .txt 文件。", err=True)
        sys.exit(1)
    result = compare_corpus([Document(k, t) for k, t in essays.items()], [Document(k, t) for k, t in refs.items()],
                            base_texts, min_ratio=min_ratio, workers=workers if len(essays) > 50 else 1,
                            per_text=find_traces)  # the traces are found in the run's workers
    texts = {**essays, **refs}
    norms: dict[str, Normalized] = {}  # the run keeps no offsets: the few files in pairs are normalised again

    def norm(key: str) -> Normalized:
        if key not in norms:
            norms[key] = normalize(texts[key])
        return norms[key]

    pairs = []
    for p in result.pairs:
        a, b = norm(p.a), norm(p.b)
        pairs.append({"a": p.a, "b": p.b, "ratio_a": round(p.ratio_a, 4), "ratio_b": round(p.ratio_b, 4),
                      "passages": [{"a": list(a.span(*x.a)), "b": list(b.span(*x.b))} for x in p.passages]})
    rows = []
    for key in essays:
        r = result.essays[key]
        rows.append({"file": key, "total_ratio": round(r.total_ratio, 4), "base_ratio": round(r.base_ratio, 4),
                     "traces": trace_summary(result.per_text[key])})
    if as_json:
        click.echo(json.dumps({"pairs": pairs, "essays": rows}, ensure_ascii=False, indent=1))
        return
    click.echo(f"{len(essays)} 篇论文，{len(refs)} 篇比对文献；列出复制比达到 {min_ratio:.0%} 的 {len(pairs)} 对。")
    for p in pairs:
        click.echo(f"  {p['a']}  ↔  {p['b']}：{p['ratio_a']:.1%} / {p['ratio_b']:.1%}，{len(p['passages'])} 段")
    for h in result.hot:
        click.echo(f"  多篇共有段落（{len(h.members)} 篇）：{h.text[:40]}……")
    for row in rows:
        traces = "；".join(row["traces"])
        click.echo(f"  {row['file']}：总复制比 {row['total_ratio']:.1%}，通知引用比 {row['base_ratio']:.1%}"
                   + (f"；网络痕迹：{traces}" if traces else ""))


@click.command("similar-run")
@with_appcontext
@click.option("--competition", "competition_id", type=int, required=True, help="征文活动的编号")
@click.option("--by", "username", default="", help="以哪个管理员账号记录（只有一个管理员时可省略）")
def similar_run_command(competition_id: int, username: str) -> None:
    """全活动查重：用数据库中每篇论文的最新版本和比对文献重新生成查重报告。"""
    from essays.models import Competition
    from essays.platform.audit import record
    from essays.platform.cli import admin_account
    from essays.platform.db import db
    from essays.platform.web import now
    from essays.similarity.runs import run_competition

    session = db()
    competition = session.get(Competition, competition_id)
    if competition is None:
        click.echo(f"没有编号为 {competition_id} 的征文活动。", err=True)
        sys.exit(1)
    user = admin_account(session, username, "重新查重")

    def progress(done: int, total: int, message: str) -> None:
        click.echo(f"[{done}/{total}] {message}", err=True)

    summary = run_competition(session, competition, now(), progress)
    record(session, "similarity.run", actor=user, obj=competition, after=summary)
    session.commit()
    click.echo(f"已查重 {summary['essays']} 篇（比对文献 {summary['references']} 篇）：严重 {summary['severe']} 篇，"
               f"疑似 {summary['suspect']} 篇，列出 {summary['listed']} 篇；用时 {summary['seconds']} 秒。")


COMMANDS = (similar_command, similar_run_command)
