"""Benchmark of the two whole-competition commands, end to end, each in a fresh process
timed by `/usr/bin/time -v` (wall time, and the largest peak resident set of the command
and of each pool worker it waited for: the kernel's figure, no sampler stealing CPU):

- `flask --app app essays similar --json --base … --reference refs/ essays/` over N
  generated essays written as .txt files (bench/essaygen.py; every tenth in GB18030, as a
  Chinese Windows saves them), from raw bytes to the JSON on stdout;
- `flask --app app essays similar-run --competition ID` on PostgreSQL: the competition of
  N essays inserted in bulk (bench/similarity_db.populate, prints included), every report
  deleted before each run so that each run writes them all and computes every trace.

`--tree` names the code trees to time, each a checkout of the repository (the current one
by default; a `git worktree` of main gives the current design's figures in the same run).
Each command runs `--repeat` rounds, the trees interleaved in each round (the machine's load
changes from minute to minute); the answers of every tree must be the same (the JSON of
`similar`, the reports' rows of `similar-run`), or the run says so.

    .venv/bin/python -m bench.similarity_run --n 20000 --tree ../wt-main --tree .

It drops and creates the database named by --url (default `zhengwen_bench_run`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench import essaygen
from bench.baselines import machine

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/zhengwen_bench_run"
FLASK = Path(sys.executable).with_name("flask")


def write_files(corpus: essaygen.Corpus, folder: Path) -> None:
    for sub in ("essays", "refs", "base"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for i, (key, _group, body) in enumerate(corpus.essays):
        encoding = "gb18030" if i % 10 == 9 else "utf-8"
        (folder / "essays" / f"{key}.txt").write_bytes(body.encode(encoding, "replace"))
    for key, body in corpus.references:
        (folder / "refs" / f"{key}.txt").write_bytes(body.encode())
    for i, body in enumerate(corpus.bases):
        (folder / "base" / f"base{i:03d}.txt").write_bytes(body.encode())


def timed(command: list[str], cwd: Path, env: dict[str, str], stdout) -> dict:
    """Runs `command` under /usr/bin/time -v: wall seconds, peak RSS (KiB), user and system CPU."""
    load_before = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-v", "-o", report.name, *command], cwd=cwd, env=env,
                              stdout=stdout, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - started
        info = report.read()
    if done.returncode != 0:
        raise RuntimeError(f"{command} in {cwd} exited {done.returncode}: {done.stderr[-2000:]}")

    def field(name: str) -> float:
        return float(re.search(rf"{re.escape(name)}: ([\d.]+)", info).group(1))

    return {"seconds": wall, "max_rss_kib": field("Maximum resident set size (kbytes)"),
            "user": field("User time (seconds)"), "system": field("System time (seconds)"),
            "load_before": load_before, "load": os.getloadavg()[0], "stderr": done.stderr}


def similar_once(tree: Path, folder: Path, out: Path) -> dict:
    bases = sorted(str(p) for p in (folder / "base").iterdir())
    command = [str(FLASK), "--app", "app", "essays", "similar", "--json", "--workers", "2",
               *(x for b in bases for x in ("--base", b)), "--reference", str(folder / "refs"), str(folder / "essays")]
    env = {**os.environ, "ZHENGWEN_INSTANCE": tempfile.mkdtemp(prefix="zhengwen-bench-run-")}
    with out.open("w") as stdout:
        return timed(command, tree, env, stdout)


def similar_run_once(tree: Path, url: str, competition: int) -> dict:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM similarity_report"))
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": url, "ZHENGWEN_INSTANCE": tempfile.mkdtemp(prefix="zhengwen-bench-run-")}
    return timed([str(FLASK), "--app", "app", "essays", "similar-run", "--competition", str(competition),
                  "--by", "admin"], tree, env, subprocess.DEVNULL)


def reports_digest(url: str) -> tuple[str, int]:
    """A digest of every report's row (the clock column left out), and how many there are."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT version_id, total_ratio, base_ratio, max_ratio, level, notice_flag, stale, "
            "sources::text, duplicate_of::text, hot::text, traces::text FROM similarity_report ORDER BY version_id"
        )).all()
    engine.dispose()
    digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return digest, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tree", action="append", type=Path, help="a checkout to time (repeat); default: this one")
    parser.add_argument("--folder", type=Path, help="where the .txt files go (default: a temporary folder)")
    parser.add_argument("--skip", choices=("similar", "similar-run"), action="append", default=[])
    parser.add_argument("--repeat", type=int, default=1, help="rounds, the trees interleaved in each")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the files in --folder and the database of an earlier run with the same --n")
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [Path(__file__).resolve().parent.parent])]
    t0 = time.perf_counter()
    corpus = essaygen.generate(args.n, per_cell=max(1, args.n // 1000))
    print(f"generated {len(corpus.essays)} essays in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    reuse = args.reuse and args.folder is not None and (args.folder / "essays").is_dir()
    results: dict[str, dict[str, dict]] = {str(t): {} for t in trees}
    answers: dict[str, set[str]] = {"similar": set(), "similar-run": set()}
    if "similar" not in args.skip:
        folder = args.folder or Path(tempfile.mkdtemp(prefix="zhengwen-similar-"))
        if not reuse:
            write_files(corpus, folder)
        for _ in range(args.repeat):
            for tree in trees:
                out = folder / f"answer-{tree.name}.json"
                r = similar_once(tree, folder, out)
                results[str(tree)].setdefault("similar", []).append(r)
                answers["similar"].add(hashlib.sha256(out.read_bytes()).hexdigest())
                print(f"{tree}: essays similar {r['seconds']:.1f} s", file=sys.stderr)
    if "similar-run" not in args.skip:
        from bench.similarity_db import fresh_database, populate

        if reuse:
            engine = create_engine(args.url)
            with engine.connect() as conn:
                competition = conn.execute(text("SELECT max(id) FROM competition")).scalar_one()
            engine.dispose()
        else:
            fresh_database(args.url)
            t0 = time.perf_counter()
            competition, _, _ = populate(args.url, corpus)
            print(f"populated PostgreSQL in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for _ in range(args.repeat):
            for tree in trees:
                r = similar_run_once(tree, args.url, competition)
                results[str(tree)].setdefault("similar-run", []).append(r)
                digest, count = reports_digest(args.url)
                answers["similar-run"].add(digest)
                print(f"{tree}: essays similar-run {r['seconds']:.1f} s, {count} reports", file=sys.stderr)
    facts = machine()
    print(f"{facts['date']} · {facts['cpu']}, {facts['cores']} logical CPUs · Python {facts['python']}")
    print(f"N = {args.n:,} essays, {len(corpus.references)} references\n")
    print("| tree | command | wall | user + sys CPU | peak RSS (largest process) | load (1 min) before / after |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for tree, measured in results.items():
        for command, rounds in measured.items():
            for i, r in enumerate(rounds, 1):
                print(f"| {Path(tree).name} | `essays {command}` #{i} | {r['seconds']:.1f} s | "
                      f"{r['user'] + r['system']:.1f} s | {r['max_rss_kib'] / 1024:.0f} MiB | "
                      f"{r['load_before']:.2f} / {r['load']:.2f} |")
            if len(rounds) > 1:
                print(f"| {Path(tree).name} | `essays {command}`, median | "
                      f"{statistics.median(r['seconds'] for r in rounds):.1f} s | "
                      f"{statistics.median(r['user'] + r['system'] for r in rounds):.1f} s | "
                      f"{max(r['max_rss_kib'] for r in rounds) / 1024:.0f} MiB (largest) | |")
    for command, digests in answers.items():
        if digests:
            print(f"\n{command}: the answers of the trees are " + ("the same" if len(digests) == 1 else
                                                                   f"DIFFERENT ({len(digests)} distinct)"))
    print(json.dumps({t: {c: [{k: v for k, v in r.items() if k != "stderr"} for r in rounds]
                          for c, rounds in m.items()} for t, m in results.items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
