"""Benchmark: copy detection at bureau scale with several worker processes, the shared index
files (essays.similarity.shared) beside the current design measured in the same run.

Setup (not timed): bench/similarity_db.py's database, a competition of N generated essays
with their prints on PostgreSQL. Then, for each design:

- "memory" (the design before shared files, SIMILARITY_SHARED_INDEX = False): each worker
  reads the whole index from the database into its own memory at its first check;
- "shared": the task consumer's build of the files is timed (`index_build.refresh_all`, whole),
  then each worker maps them and reads only the delta; a consumer process runs beside the
  workers and publishes a new generation whenever MERGE_FROM uploads have come (lowered
  here to --merge-from so that workers switch generations during the run).

W worker processes are started fresh (multiprocessing "spawn": a new interpreter, as after
a restart), each builds the app and runs gunicorn.conf.py's post_worker_init as gunicorn's
workers do, and waits. The M new essays (some
copies, most original: bench.essaygen.extra_essays) are then uploaded one at a time (at
--rate per second: 5 by default, the deadline minute of bench/load.py), round
robin over the workers, each checked through the app's path (service.check_upload) and
committed. Per design it reports each worker's first check (the cold start), the median,
p95 and slowest check of the others, and each worker's memory before its first check
(idle: the app built, one query made) and after the run, from /proc/<pid>/smaps_rollup
while all workers are alive: RSS, PSS (shared pages divided among the processes mapping
them) and USS (private pages: Private_Clean + Private_Dirty). After each design the new
essays are deleted again, so both designs check the same essays against the same index.

    .venv/bin/python -m bench.similarity_workers --n 100000 --m 400 --workers 4
    .venv/bin/python -m bench.similarity_workers --n 300000 --designs shared
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import runpy
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, delete, insert, select, text, update
from sqlalchemy.orm import Session, undefer

from bench import essaygen
from bench.intake import machine
from bench.similarity_db import DEFAULT_URL, NOW, _version_row, fresh_database, p95, populate

MB = 2**20


def smaps(pid: int | str = "self") -> dict[str, float]:
    """RSS, PSS and USS of a process in MB (the kernel's smaps_rollup)."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) * 1024
    return {"rss": fields["Rss"] / MB, "pss": fields["Pss"] / MB,
            "uss": (fields["Private_Clean"] + fields["Private_Dirty"]) / MB, "anon": fields["Anonymous"] / MB}


# Where a check's time goes (--stages): these functions are wrapped in each worker, and each
# check reports the seconds spent in each (nested ones included in their callers'). A name
# is (module, attribute): the attribute is replaced there, so the module's callers see the wrapper.
STAGES = [("essays.similarity.service", "prepare"), ("essays.similarity.service", "index_version"),
          ("essays.similarity.service", "find_traces"), ("essays.similarity.service", "find"),
          ("essays.similarity.candidates", "postings_for"), ("essays.similarity.candidates", "_holders"),
          ("essays.similarity.index", "Postings.lookup"), ("essays.similarity.shared", "Generation.lookup"),
          ("essays.similarity.index", "_join"), ("essays.similarity.shared", "open_folder"),
          ("essays.similarity.service", "_verify"), ("essays.similarity.service", "store_report")]


def _wrap_stages(spent: dict[str, float]) -> None:
    import importlib

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
            if hasattr(result, "candidates"):  # find's Found: how many prints it verifies and read
                spent["candidates (count)"] = len(result.candidates)
                spent["holders (count)"] = len(result.holders)
            return result
        return wrapper

    for module_name, path in STAGES:
        owner = importlib.import_module(module_name)
        *within, name = path.split(".")
        for part in within:
            owner = getattr(owner, part)
        setattr(owner, name, timed(path, getattr(owner, name)))


def _worker(conn, url: str, design: str, index_dir: str, stages: bool = False) -> None:
    """One app worker: checks the essays it is sent, answers with the time each took (and,
    with `stages`, the time of each of STAGES)."""
    from app import create_app
    from essays.models import SubmissionVersion
    from essays.platform.db import make_engine
    from essays.similarity import service

    spent: dict[str, float] = {}
    if stages:
        _wrap_stages(spent)

    os.environ["ZHENGWEN_INSTANCE"] = tempfile.mkdtemp(prefix="zhengwen-bench-")
    app = create_app({"DATABASE_URL": url, "HUEY_IMMEDIATE": False, "SECRET_KEY": "bench",
                      "SIMILARITY_SHARED_INDEX": design == "shared", "SIMILARITY_INDEX_DIR": index_dir})
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))["post_worker_init"](None)
    engine = make_engine(url)
    with app.app_context():
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
        conn.send(("ready", smaps()))
        while True:
            message = conn.recv()
            if message == "memory":
                conn.send(("memory", smaps()))
                continue
            if message == "stop":
                break
            version_id = message
            spent.clear()
            with Session(engine) as session:
                version = session.get(SubmissionVersion, version_id, options=[undefer(SubmissionVersion.text)])
                assert version.submission.competition is not None  # loaded by the upload before it checks
                started = time.perf_counter()
                summary = service.check_upload(session, version, NOW)
                elapsed = time.perf_counter() - started
                session.commit()
            conn.send(("checked", elapsed, summary, dict(spent)))
    engine.dispose()


def _consumer(stop, url: str, index_dir: str, merge_from: int, published, top_share: int | None = None) -> None:
    """The task consumer's minute task, run every second: a new generation once `merge_from`
    uploads have come since the current one (a new top, or a new base: `top_share`)."""
    from essays.platform.db import make_engine
    from essays.similarity import index_build

    index_build.MERGE_FROM = merge_from
    if top_share is not None:
        index_build.TOP_SHARE = top_share
    engine = make_engine(url)
    while not stop.is_set():
        with Session(engine) as session:
            started = time.time()
            built = index_build.refresh_all(session, Path(index_dir), idle=True)  # as maintain_index
            if built:
                kind = "top" if any(g.after for g in built) else "base"
                published.put((f"{kind} g{max(g.generation for g in built)}", started, time.time()))
        stop.wait(1.0)
    engine.dispose()


def _store_new(url: str, comp_id: int, admin_id: int, unit_ids: dict[str, int],
               new: list[tuple[str, str, str]]) -> list[int]:
    from essays.models import Submission, SubmissionVersion

    engine = create_engine(url)
    with Session(engine) as session:
        ids = []
        for key, group, body in new:
            sid = session.scalar(insert(Submission).returning(Submission.id), {
                "competition_id": comp_id, "unit_id": unit_ids[group], "title": key, "authors": [],
                "contact_phone": "", "created_at": NOW, "updated_at": NOW})
            ids.append(session.scalar(insert(SubmissionVersion).returning(SubmissionVersion.id),
                                      _version_row(sid, admin_id, body)))
        session.commit()
    engine.dispose()
    return ids


def _forget_new(url: str, comp_id: int, version_ids: list[int], generation: int) -> None:
    """Deletes the new essays' prints and reports and resets the generation: the index is as
    populated again (the versions stay, unchecked, for the next design)."""
    from essays.similarity.models import SimilarityIndex, SimilarityPrint, SimilarityReport

    engine = create_engine(url)
    with Session(engine) as session:
        session.execute(delete(SimilarityReport).where(SimilarityReport.version_id.in_(version_ids)))
        session.execute(delete(SimilarityPrint).where(SimilarityPrint.version_id.in_(version_ids)))
        session.execute(update(SimilarityIndex).where(SimilarityIndex.scope == comp_id)
                        .values(generation=generation))
        session.commit()
    engine.dispose()


def _resident(root: Path) -> str:
    """How much of the postings files the page cache holds (util-linux's fincore), e.g.
    "2.5G of 2.5G"; "?" without fincore."""
    import shutil
    import subprocess

    files = [str(p) for p in sorted(root.rglob("postings.npy"))]
    if not files or shutil.which("fincore") is None:
        return "?"
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES,SIZE", *files],
                         capture_output=True, text=True).stdout.split()
    held, size = sum(map(int, out[0::2])), sum(map(int, out[1::2]))
    return f"{held / MB:.0f} of {size / MB:.0f} MB"


def run_design(design: str, url: str, version_ids: list[int], workers: int, index_dir: str,
               merge_from: int, rate: float, stages: bool = False, top_share: int | None = None) -> dict:
    from essays.platform.db import make_engine
    from essays.similarity import index_build

    result: dict = {"design": design}
    if design == "shared":
        engine = make_engine(url)
        with Session(engine) as session:
            started = time.perf_counter()
            built = index_build.refresh_all(session, Path(index_dir), whole=True)
            result["build"] = time.perf_counter() - started
            result["postings"] = sum(g.count for g in built)
        engine.dispose()
        # The files just written (2.7 GB at 300,000 essays) are written back to disk in the next
        # seconds; the run would otherwise begin inside that writeback (which init-db or a
        # restore causes, not the deadline hour). A base merge during the run is measured
        # with --top-share.
        started = time.perf_counter()
        os.sync()
        result["sync"] = time.perf_counter() - started
        result["resident"] = _resident(Path(index_dir))
        result["disk"] = index_build.disk_bytes(Path(index_dir)) / MB
    spawn = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for _ in range(workers):
        mine, theirs = spawn.Pipe()
        # daemon: should this process fail, its workers end with it (a failed run once left
        # four idle workers and a 3.4 GB parent behind, waiting on each other)
        proc = spawn.Process(target=_worker, args=(theirs, url, design, index_dir, stages), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    idle = [pipe.recv()[1] for pipe in pipes]
    stop, published = spawn.Event(), spawn.Queue()
    consumer = None
    if design == "shared":
        consumer = spawn.Process(target=_consumer, args=(stop, url, index_dir, merge_from, published, top_share),
                                   daemon=True)
        consumer.start()
    first, times, sent, spent = [], [], [], []
    began = time.time()
    for number, version_id in enumerate(version_ids):
        if rate:  # uploads arrive at `rate` per second, as in the deadline minute of bench/load.py
            time.sleep(max(0.0, began + number / rate - time.time()))
        pipe, proc = pipes[number % workers], procs[number % workers]
        sent.append(time.time())
        pipe.send(version_id)
        while not pipe.poll(1.0):
            if not proc.is_alive():  # the kernel's OOM killer, typically: the design does not fit
                for other in procs:
                    other.kill()
                if consumer is not None:
                    consumer.kill()
                return {**result, "workers": workers, "killed": f"worker died (exit code {proc.exitcode}) at "
                        f"check {number + 1}", "first": first}
        _, elapsed, _summary, stage_times = pipe.recv()
        (first if number < workers else times).append(elapsed)
        if number >= workers:
            spent.append(stage_times)
    if design == "shared":
        result["resident_after"] = _resident(Path(index_dir))
    after = []
    for pipe in pipes:
        pipe.send("memory")
        after.append(pipe.recv()[1])
    for pipe in pipes:
        pipe.send("stop")
    for proc in procs:
        proc.join()
    if consumer is not None:
        stop.set()
        consumer.join()
    merges = []
    while not published.empty():
        merges.append(published.get())
    during = [t for t, at in zip(times, sent[workers:], strict=True)
              if any(start <= at <= end for _, start, end in merges)]
    result.update(during=during, workers=workers, first=first, median=statistics.median(times), p95=p95(times),
                  max=max(times), idle=idle, after=after, merges=merges, checks=len(version_ids),
                  times=times, stages=spent if stages else None, sent=sent[workers:])
    return result


def _slowest(r: dict, count: int = 8) -> str:
    """The slowest checks: when each was sent relative to the consumer's builds (during one,
    or seconds after the last generation was published), and its three longest stages."""
    lines = []
    for i in sorted(range(len(r["times"])), key=lambda i: -r["times"][i])[:count]:
        at = r["sent"][i]
        when = next((f"during the build of {g}" for g, start, end in r["merges"] if start <= at <= end), None)
        if when is None:
            ends = [end for _, _, end in r["merges"] if end < at]
            when = (f"{at - max(ends):.1f} s after a generation was published" if ends
                    else "before any build" if r["design"] == "shared" else "")
        stages = ""
        if r.get("stages"):
            top = sorted(((v, k) for k, v in r["stages"][i].items() if "count" not in k), reverse=True)[:3]
            stages = "; " + ", ".join(f"{k} {v * 1000:.1f} ms" for v, k in top)
        lines.append(f"- {r['times'][i] * 1000:.1f} ms" + (f", {when}" if when else "") + stages)
    return "\n".join(lines)


def _row(r: dict) -> str:
    if "killed" in r:
        return f"| {r['design']} ({r['workers']} worker) | {r['killed']} | | | | | |"
    grow = {k: max(a[k] - i[k] for a, i in zip(r["after"], r["idle"], strict=True)) for k in ("uss", "pss", "rss")}
    return (f"| {r['design']} | {max(r['first']):.2f} s | {r['median'] * 1000:.1f} ms | {r['p95'] * 1000:.1f} ms | "
            f"{r['max'] * 1000:.0f} ms | {grow['uss']:.0f} / {grow['pss']:.0f} / {grow['rss']:.0f} MB | "
            f"{max(a['uss'] for a in r['after']):.0f} / {max(a['pss'] for a in r['after']):.0f} / "
            f"{max(a['rss'] for a in r['after']):.0f} MB |")


def _stage_table(r: dict) -> str:
    """Mean milliseconds per stage for the checks around the median and for those above the
    p95 (counts: mean per check)."""
    order = sorted(range(len(r["stages"])), key=lambda i: r["times"][i])
    n = len(order)
    groups = {"middle (40-60%)": order[int(n * 0.4):int(n * 0.6)], "above p95": order[int(n * 0.95):]}
    names = [path for _, path in STAGES] + ["candidates (count)", "holders (count)"]
    lines = ["| stage | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    for name in ["whole check", *names]:
        cells = []
        for members in groups.values():
            if name == "whole check":
                values = [r["times"][i] for i in members]
            else:
                values = [r["stages"][i].get(name, 0.0) for i in members]
            mean = statistics.fmean(values) if values else 0.0
            cells.append(f"{mean:.1f}" if "count" in name else f"{mean * 1000:.1f} ms")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _give_back_memory() -> None:
    """Frees the generated corpus and returns the freed heap to the system (glibc keeps it
    otherwise): at 300,000 essays this process held 9 GB, and the worker beside it was
    killed by the OOM killer."""
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--m", type=int, default=400)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--designs", default="memory,shared")
    parser.add_argument("--memory-workers", type=int, default=0,
                        help="workers for the memory design (default --workers; 1 at 300,000 essays, "
                             "where four copies of the index would not fit in 24 GB)")
    parser.add_argument("--merge-from", type=int, default=200, help="the consumer's MERGE_FROM")
    parser.add_argument("--top-share", type=int, default=None,
                        help="the consumer's TOP_SHARE (default the app's; 1000000: every build after the "
                             "first top merges base and top, to measure the checks beside a base merge)")
    parser.add_argument("--rate", type=float, default=5.0,
                        help="uploads per second (0: back to back); 5 is the deadline minute of bench/load.py")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true", help="reuse the populated database (same --n)")
    parser.add_argument("--stages", action="store_true",
                        help="time each stage of every check (STAGES) and report where the slow checks' time goes")
    args = parser.parse_args()
    t0 = time.perf_counter()
    corpus = essaygen.generate(args.n, per_cell=max(1, min(20, args.n // 1000)))
    new, _planted = essaygen.extra_essays(corpus, args.m)
    print(f"generated {len(corpus.essays):,} essays + {len(new)} new in {time.perf_counter() - t0:.1f} s", flush=True)
    if args.keep:
        del corpus
        _give_back_memory()
    engine = create_engine(args.url)
    if not args.keep:
        fresh_database(args.url)
        t0 = time.perf_counter()
        comp_id, admin_id, unit_ids = populate(args.url, corpus)
        print(f"populated PostgreSQL in {time.perf_counter() - t0:.1f} s", flush=True)
        del corpus
        _give_back_memory()  # the workers are measured beside this process: it must not hold the corpus
    else:
        with engine.connect() as conn:
            comp_id = conn.execute(text("SELECT id FROM competition")).scalar_one()
            admin_id = conn.execute(text("SELECT id FROM user_account")).scalar_one()
            unit_ids = dict(conn.execute(text("SELECT short_name, id FROM unit")).tuples().all())
    with engine.connect() as conn:
        generation = conn.execute(text("SELECT generation FROM similarity_index WHERE scope = :s"),
                                  {"s": comp_id}).scalar_one()
        conn.execute(text("DELETE FROM similarity_report"))
        conn.execute(text("DELETE FROM similarity_print WHERE scope = :s AND generation > :g"),
                     {"s": comp_id, "g": generation})
        conn.commit()
        stored = conn.execute(select(text("count(*)")).select_from(text("similarity_print"))).scalar_one()
    engine.dispose()
    version_ids = _store_new(args.url, comp_id, admin_id, unit_ids, new)
    index_dir = tempfile.mkdtemp(prefix="zhengwen-index-")
    results = []
    for design in args.designs.split(","):
        print(f"design {design} ...", flush=True)
        workers = (args.memory_workers or args.workers) if design == "memory" else args.workers
        results.append(run_design(design, args.url, version_ids, workers, index_dir, args.merge_from, args.rate,
                                  args.stages, args.top_share))
        _forget_new(args.url, comp_id, version_ids, generation)
    facts = machine()
    print(f"\n{facts['date']} · {facts['cpu']} · {facts['uname']}")
    print(f"{args.n:,} essays indexed ({stored:,} prints with the references), {args.m} uploads checked one at a "
          f"time ({args.rate or 'back to back'}/s), round robin over fresh worker processes (memory design: "
          f"{args.memory_workers or args.workers}, shared: {args.workers}):\n")
    print("| design | slowest first check | median | p95 | slowest check | worker growth USS / PSS / RSS | "
          "largest worker USS / PSS / RSS |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(_row(r))
    for r in results:
        if "killed" in r:
            print(f"\n{r['design']}: {r['killed']}")
            continue
        if r["design"] == "shared":
            merges = ", ".join(f"{g} in {end - start:.1f} s" for g, start, end in r["merges"])
            print(f"\nshared: files built by the consumer in {r['build']:.1f} s ({r['postings']:,} postings, "
                  f"written back to disk {r['sync']:.1f} s later, before the run; postings in the page cache "
                  f"before the run {r['resident']}, after it {r['resident_after']}; "
                  f"{r['disk']:.0f} MB on disk); generations published during the run: {merges or 'none'}; "
                  f"{len(r['during'])} checks ran while the consumer was building"
                  + (f" (median {statistics.median(r['during']) * 1000:.1f} ms, slowest "
                     f"{max(r['during']) * 1000:.0f} ms)" if r["during"] else ""))
        if r.get("stages"):
            print(f"\n{r['design']}: where the checks' time went (mean per check)\n\n{_stage_table(r)}\n")
        print(f"{r['design']}: the slowest checks\n{_slowest(r)}\n")
        firsts = ", ".join(f"{s:.2f} s" for s in r["first"])
        idle = ", ".join("{uss:.0f}/{pss:.0f}/{rss:.0f}".format(**i) for i in r["idle"])
        print(f"{r['design']}: first checks {firsts}; idle workers USS/PSS/RSS {idle} MB")


if __name__ == "__main__":
    main()
