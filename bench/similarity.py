"""Benchmark of the whole-competition copy detection (`essays.similarity.corpus.compare_corpus`).

For each size N it generates a corpus (bench/essaygen.py: N essays, 200 references, the
notice and the curated quotations as base text, a grid of planted copies), runs
`compare_corpus(essays, references, bases, workers=2)` in a fresh subprocess and reports
its wall time and peak memory, both peaks kept by the kernel, so that measuring costs
nothing: the peak resident memory of that process (VmHWM; not ru_maxrss, which Linux
carries over from the parent that started the child) and the largest peak resident memory
of its pool workers (getrusage(RUSAGE_CHILDREN) once they are reaped; a forked worker's
figure counts the pages it shares with the main process, so it is an upper bound of what
it adds). Both include the loaded corpus and the imports (`after loading`: VmHWM just
before the call). The earlier version sampled the proportional set sizes of the process
tree from /proc every 50 ms: walking the page tables of three 1 GB processes 20 times a
second added 15-20% to the time it reported.

At N=1,000 and at the largest N it scores the result against the ground truth:
- recall of the planted pairs per cell (fraction x obfuscation, from_reference x
  fraction); a pair is detected when it is in `result.pairs` or both essays are members of
  one hot passage;
- precision: a reported pair (`result.pairs`) is a true positive when it is a planted
  pair or both its documents are in the model group (the model essay and its copies);
  precision = TP / reported pairs;
- the mean absolute error of the copy side's ratio for planted pairs in `result.pairs`,
  against `true_ratio_copy` and against the same without the base text the copied passages
  carried (`true_ratio_copy - base_ratio_copy`, what an engine that leaves base text out
  of a pair's ratio should give);
- notice-only essays: their base_ratio (should be high) and the pairs they are in (none);
- then the baselines (bench/baselines.py) beside it: rapidfuzz all pairs and MinHash LSH.

    .venv/bin/python -m bench.similarity --quick              # N=1,000 only, for development
    .venv/bin/python -m bench.similarity --json out.json      # N=1,000, 10,000, 20,000
    .venv/bin/python -m bench.similarity --sizes 20000 --no-baselines --baseline ../wt-main
        # and the compare_corpus of another checkout (a `git worktree` of main), just before
        # this one's, on the same corpus: the current design's figures in the same run

The single-essay check against a database index (p95 against 20,000 on PostgreSQL) is in
bench/similarity_db.py; `essaygen.generate` and `essaygen.extra_essays` serve it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import baselines
from bench.baselines import ROOT, Truth, dump_corpus, load_corpus, machine, maxrss_kib, score_pairs
from bench.essaygen import Corpus, generate

BASELINE_MINHASH_SIZES = (1000, 10000, 20000)
MINHASH_BUDGET = 200  # seconds: a size whose MinHash run is predicted (linearly) to take longer is skipped


# ---------------------------------------------------------------------------- the child


def engine_child(data: str, out: str, workers: int, min_ratio: float) -> None:
    from essays.similarity.corpus import Document, compare_corpus

    docs = load_corpus(data)
    essays = [Document(key, text, group) for key, group, text in docs["essays"]]
    references = [Document(key, text) for key, text in docs["references"]]
    rss_loaded = maxrss_kib()
    start = time.perf_counter()
    result = compare_corpus(essays, references, docs["bases"], min_ratio=min_ratio, workers=workers)
    seconds = time.perf_counter() - start
    rss_peak = maxrss_kib()
    multiprocessing.active_children()  # reaps the finished pool workers, so that RUSAGE_CHILDREN counts them
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(out).write_text(json.dumps({
        "seconds": seconds, "rss_loaded_kib": rss_loaded, "rss_peak_kib": rss_peak, "workers_peak_kib": workers_peak,
        "pairs": [(p.a, p.b, p.ratio_a, p.ratio_b) for p in result.pairs],
        "essays": {key: (r.total_ratio, r.base_ratio, r.max_ratio, r.max_source) for key, r in result.essays.items()},
        "hot": [(len(h.text), h.members, h.text[:40]) for h in result.hot],
    }, ensure_ascii=False))


def run_child(args: list[str], tree: Path = ROOT, timeout: float = 3600) -> dict:
    """This file's child in a fresh process, nothing else running beside it, on the code of
    `tree` (a checkout: this one, or a `git worktree` of main for the current design's
    figures); its JSON answer (the child writes it to the file given as --out)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    try:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), *args, "--out", str(out)], cwd=tree,
                       env=env, check=True, timeout=timeout)
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


# ---------------------------------------------------------------------------- scoring


def evaluate(corpus: Corpus, answer: dict) -> dict:
    truth = Truth(corpus)
    reported = {frozenset((a, b)): (a, ratio_a, ratio_b) for a, b, ratio_a, ratio_b, in answer["pairs"]}
    hot_sets = [set(members) for _, members, _ in answer["hot"]]

    def in_hot(a: str, b: str) -> bool:
        return any(a in members and b in members for members in hot_sets)

    detected = set(reported)
    for planted in corpus.planted:
        if in_hot(planted.copy, planted.source):
            detected.add(frozenset((planted.copy, planted.source)))
    scores = score_pairs(truth, set(reported))  # precision over the reported pairs
    with_hot = score_pairs(truth, detected)  # recall counts hot passages too
    model_found = sum(1 for i, a in enumerate(corpus.model_group) for b in corpus.model_group[i + 1:]
                      if frozenset((a, b)) in reported or in_hot(a, b))
    errors: dict[str, list[tuple[float, float]]] = {}
    for name, planted in truth.cells():
        for p in planted:
            hit = reported.get(frozenset((p.copy, p.source)))
            if hit is None:
                continue
            a, ratio_a, ratio_b = hit
            ratio = ratio_a if a == p.copy else ratio_b
            errors.setdefault(name, []).append((abs(ratio - p.true_ratio_copy),
                                                abs(ratio - (p.true_ratio_copy - p.base_ratio_copy))))
    all_errors = [e for values in errors.values() for e in values]
    false = [(a, b, max(ra, rb)) for a, b, ra, rb in answer["pairs"] if not truth.is_true(a, b)]
    notice_only = set(corpus.notice_only)
    notice_base = [answer["essays"][key][1] for key in corpus.notice_only if key in answer["essays"]]
    other_base = [r[1] for key, r in answer["essays"].items() if key not in notice_only]
    stray_hot = [(length, len(members), text) for length, members, text in answer["hot"]
                 if not set(members) <= truth.model]
    return {
        "recall": with_hot["recall"], "cells": with_hot["cells"], "precision": scores["precision"],
        "reported": scores["reported"], "true_positives": scores["true_positives"],
        "model_pairs": (model_found, truth.model_pairs()),
        "mae": statistics.fmean(e for e, _ in all_errors) if all_errors else None,
        "mae_without_base": statistics.fmean(e for _, e in all_errors) if all_errors else None,
        "cell_mae": {name: (statistics.fmean(e for e, _ in values), statistics.fmean(e for _, e in values))
                     for name, values in errors.items()},
        "false_pairs": sorted(false, key=lambda f: -f[2])[:10], "false_count": len(false),
        "notice_only_base": (min(notice_base), statistics.fmean(notice_base)) if notice_base else None,
        "other_base_mean": statistics.fmean(other_base) if other_base else None,
        "notice_only_pairs": sum(1 for a, b, _, _ in answer["pairs"] if a in notice_only or b in notice_only),
        "hot": len(answer["hot"]), "stray_hot": stray_hot[:10], "stray_hot_count": len(stray_hot),
    }


# ---------------------------------------------------------------------------- the report


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


def cell_table(corpus: Corpus, engine: dict, fuzz: dict | None, minhash: dict | None) -> list[str]:
    head = "| cell | planted | engine recall | engine ratio MAE | MAE against the raw planted share |"
    rule = "| --- | ---: | ---: | ---: | ---: |"
    if fuzz:
        head += " rapidfuzz ratio recall |"
        rule += " ---: |"
    if minhash:
        head += f" MinHash LSH J≥{minhash['threshold']} recall |"
        rule += " ---: |"
    lines = [head, rule]
    for name, _planted in Truth(corpus).cells():
        found, total = engine["cells"][name]
        mae = engine["cell_mae"].get(name)
        row = f"| {name} | {total} | {found}/{total} | {fmt(mae and mae[1])} | {fmt(mae and mae[0])} |"
        if fuzz:
            row += f" {fuzz['cells'][name][0]}/{total} |"
        if minhash:
            row += f" {minhash['cells'][name][0]}/{total} |"
        lines.append(row)
    return lines


def report(facts: dict, runs: dict[int, dict], scored: dict[int, dict], base: dict) -> list[str]:
    lines = [f"- date: {facts['date']}", f"- CPU: {facts['cpu']}, {facts['cores']} logical CPUs",
             f"- Python {facts['python']}, {facts['platform']}", "",
             "| N essays | references | planted pairs | compare_corpus wall | peak RSS, main process | "
             "peak RSS, largest worker | RSS before the call |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n, run in runs.items():
        lines.append(f"| {n} | {run['references']} | {run['planted']} | {run['seconds']:.1f} s | "
                     f"{mib(run['rss_peak_kib'])} | {mib(run['workers_peak_kib'])} | {mib(run['rss_loaded_kib'])} |")
        for tree, other in run.get("baselines", {}).items():
            lines.append(f"| {n}, code of {tree} (same run, just before; answers "
                         f"{'the same' if other['same'] else 'DIFFERENT'}) | | | {other['seconds']:.1f} s | "
                         f"{mib(other['rss_peak_kib'])} | {mib(other['workers_peak_kib'])} | "
                         f"{mib(other['rss_loaded_kib'])} |")
    for n, s in scored.items():
        e = s["engine"]
        lines += ["", f"### N = {n}", "",
                  f"engine: recall {e['recall']:.1%} of {len(s['corpus'].planted)} planted pairs; "
                  f"precision {e['precision']:.1%} ({e['true_positives']} true of {e['reported']} reported pairs); "
                  f"model group {e['model_pairs'][0]}/{e['model_pairs'][1]} pairs found; "
                  f"copy-ratio MAE {fmt(e['mae_without_base'])} (the copy ratio as defined: base text copied "
                  f"along is not copying; against the raw planted share, base text included: {fmt(e['mae'])})",
                  f"notice-only essays ({len(s['corpus'].notice_only)}): base_ratio min {fmt(e['notice_only_base'][0])}"
                  f" mean {fmt(e['notice_only_base'][1])} (other essays: mean {fmt(e['other_base_mean'])}); "
                  f"pairs involving them: {e['notice_only_pairs']}",
                  f"hot passages: {e['hot']}, of which not within the model group: {e['stray_hot_count']}"
                  + (f" e.g. {e['stray_hot'][:3]}" if e["stray_hot"] else ""),
                  f"false pairs: {e['false_count']}" + (f", the largest: {e['false_pairs'][:5]}" if e["false_pairs"]
                                                        else ""),
                  ""]
        fuzz, minhash = s.get("rapidfuzz"), s.get("minhash")
        lines += cell_table(s["corpus"], e, fuzz, minhash)
    lines += ["", "Baselines:", ""]
    if "rapidfuzz_timing" in base:
        for scorer, (per_pair, hours) in base["rapidfuzz_timing"].items():
            lines.append(f"- rapidfuzz `fuzz.{scorer}` all pairs: {per_pair * 1e6:.0f} µs a pair (one core, normalised "
                         "essays); N(N-1)/2 pairs on 2 cores: "
                         + ", ".join(f"N={n:,}: {fmt_hours(h)}" for n, h in hours.items()))
    if "rapidfuzz" in base:
        f = base["rapidfuzz"]
        lines.append(f"- rapidfuzz `fuzz.ratio` at N={base['rapidfuzz_n']:,}: scored {f['mode']} in "
                     f"{f['cdist_seconds']:.0f} s (2 workers); at the best threshold there is "
                     f"(score ≥ {f['threshold']:.1f}, chosen knowing the answers) recall {f['recall']:.1%}, precision "
                     f"{f['precision']:.1%} (of ~{f['reported']:,.0f} reported), model group "
                     f"{f['model_pairs'][0]}/{f['model_pairs'][1]}; unrelated pairs "
                     f"score {f['unrelated_p50']:.1f} median, {f['unrelated_p999']:.1f} at the 99.9th percentile, "
                     f"{f['unrelated_max']:.1f} max")
    for n, m in base.get("minhash", {}).items():
        v = m["verified"]
        lines.append(f"- datasketch MinHashLSH at N={n:,} ({SHINGLE_NOTE}, threshold {m['threshold']}): build "
                     f"{m['build_seconds']:.1f} s (normalising {m['normalize_seconds']:.1f} s) + query "
                     f"{m['query_seconds']:.1f} s; peak RSS {mib(m['rss_peak_kib'])} (after loading "
                     f"{mib(m['rss_loaded_kib'])}); candidates: recall {m['recall']:.1%}, precision "
                     f"{m['precision']:.1%} of {m['reported']:,}; with estimated Jaccard ≥ threshold: recall "
                     f"{v['recall']:.1%}, precision {v['precision']:.1%}")
    if "minhash_skipped" in base:
        n, predicted = base["minhash_skipped"]
        lines.append(f"- datasketch MinHashLSH at N={n:,}: not run, predicted {predicted / 60:.0f} min from the "
                     "smaller size (linear), over the budget of the run")
    return lines


SHINGLE_NOTE = (f"character {baselines.SHINGLE}-grams of the normalised text less the base text's, "
                f"{baselines.NUM_PERM} permutations")


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def fmt_hours(hours: float) -> str:
    return f"{hours * 60:.1f} min" if hours < 1 else f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


# ---------------------------------------------------------------------------- single_check_p95: left out
# The database-backed single-essay check (p95 of one essay against an index of 20,000 on
# PostgreSQL) lives in bench/similarity_db.py: generate(20000) builds the index's corpus,
# extra_essays(corpus, m, seed) the essays to check one at a time (with their Planted).


# ---------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,20000")
    parser.add_argument("--quick", action="store_true", help="N=1,000 only")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--per-cell", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-ratio", type=float, default=0.05)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--rapidfuzz-budget", type=float, default=600,
                        help="seconds: score all pairs with rapidfuzz if it fits, else a sample of them")
    parser.add_argument("--baseline", action="append", type=Path, default=[],
                        help="a checkout whose compare_corpus is timed too, just before this one's (repeat)")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--data")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        engine_child(args.data, args.out, args.workers, args.min_ratio)
        return
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    facts = machine()
    runs: dict[int, dict] = {}
    scored: dict[int, dict] = {}
    base: dict = {"minhash": {}}
    for n in sizes:
        started = time.perf_counter()
        corpus = generate(n, args.seed, per_cell=args.per_cell)
        print(f"N={n}: generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        data = dump_corpus(corpus)
        try:
            child = ["--child", "--data", data, "--workers", str(args.workers), "--min-ratio", str(args.min_ratio)]
            others = {tree: run_child(child, tree=tree) for tree in args.baseline}  # the current design first
            answer = run_child(child)
            runs[n] = {k: answer[k] for k in ("seconds", "rss_loaded_kib", "rss_peak_kib", "workers_peak_kib")}
            runs[n].update({"references": len(corpus.references), "planted": len(corpus.planted)})
            for tree, other in others.items():
                runs[n].setdefault("baselines", {})[str(tree)] = {
                    **{k: other[k] for k in ("seconds", "rss_loaded_kib", "rss_peak_kib", "workers_peak_kib")},
                    "same": all(other[k] == answer[k] for k in ("pairs", "essays", "hot"))}
                print(f"N={n}: {tree}: compare_corpus {other['seconds']:.1f} s", file=sys.stderr)
            print(f"N={n}: compare_corpus {answer['seconds']:.1f} s", file=sys.stderr)
            if n == sizes[0] or n == sizes[-1]:
                scored[n] = {"corpus": corpus, "engine": evaluate(corpus, answer)}
            if not args.no_baselines:
                if n == sizes[0]:
                    timing = {}
                    for scorer in ("ratio", "partial_ratio"):
                        per_pair = baselines.time_pairs(corpus, scorer, sample=200 if scorer == "ratio" else 5)
                        timing[scorer] = (per_pair, baselines.extrapolate(per_pair, [1000, 10000, 20000]))
                    base["rapidfuzz_timing"] = timing
                if n == 1000:
                    base["rapidfuzz"] = baselines.rapidfuzz_eval(corpus, budget=args.rapidfuzz_budget)
                    base["rapidfuzz_n"] = n
                    if n in scored:
                        scored[n]["rapidfuzz"] = base["rapidfuzz"]
                smaller = [m for m in base["minhash"] if m < n]
                predicted = base["minhash"][max(smaller)]["seconds"] * n / max(smaller) if smaller else 0
                if n in BASELINE_MINHASH_SIZES and predicted > MINHASH_BUDGET:
                    base["minhash_skipped"] = (n, predicted)
                elif n in BASELINE_MINHASH_SIZES:
                    base["minhash"][n] = baselines.minhash_eval(corpus, data=data)
                    if n in scored:
                        scored[n]["minhash"] = base["minhash"][n]
                    print(f"N={n}: MinHash {base['minhash'][n]['seconds']:.1f} s", file=sys.stderr)
        finally:
            Path(data).unlink(missing_ok=True)
    lines = report(facts, runs, scored, base)
    print("\n".join(lines))
    print("\n---- Markdown for BENCHMARKS.md ----\n")
    print("\n".join(["## Copy detection across a competition (`bench/similarity.py`)", "",
                     "What is timed: `essays.similarity.corpus.compare_corpus(essays, references, bases, workers=2)` "
                     "in a fresh process on generated essays (bench/essaygen.py: People's Daily 1998 sentence "
                     "templates with words redrawn by tag; planted copies of 10-100% under six obfuscations, "
                     "copies of references, one model essay copied 30 times, notice-only essays). Peak memory, "
                     "kept by the kernel (nothing sampled): VmHWM of that process, and the largest peak RSS of its "
                     "pool workers (RUSAGE_CHILDREN; a forked worker's counts the pages it shares). "
                     f"Reproduce with `.venv/bin/python -m bench.similarity --sizes {','.join(map(str, sizes))}`.",
                     "", *lines]))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": facts, "runs": runs,
            "scored": {n: {k: v for k, v in s.items() if k != "corpus"} for n, s in scored.items()},
            "baselines": base}, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
