"""Benchmark: copy ratios under light random edits, the counting rule against the current design.

A test corpus of 1,000 essays (bench/essaygen.py) whose planted copies carry every
obfuscation of the usual grid and the light random edits of `essaygen.EDITED` (3% of the
Chinese characters substituted, alone, with the sentences reordered, with Traditional
characters, with both), at copied fractions of 10/30/60/100%, plus copies of references.
One whole run (`essays.similarity.corpus.compare_corpus`, 2 workers) scores both designs:
- new: the ratios the run reports (essays.similarity.align's counting rule: runs chained
  with gaps of up to COUNT_GAP, the equal characters between them and around the passages'
  ends counted);
- old: the current design, recomputed here from the same match's runs: the characters of
  the runs of MIN_RUN characters or more, base text left out. Every run counts under the
  new rule too, so a pair the old design reports (a ratio of `--min-ratio` or more) is
  among the pairs the run reports, and its old ratios are computed from their runs.

Per cell (fraction x obfuscation), for the copy's side of each planted pair reported: the
mean absolute error and the bias (mean signed error) of the ratio against the ground truth
`true_ratio_copy - base_ratio_copy` (copied characters still there, base text the copied
passages carried left out: what both designs mean to count); recall of the planted pairs
(reported, or together in a hot passage) and, over the whole run, precision of the
reported pairs. `--gaps 8,27,40` also recounts the reported pairs' ratios under other
COUNT_GAP values, the measurement behind the one chosen.

    .venv/bin/python -m bench.ratios [--n 1000] [--gaps 8,14,27,40,60]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.baselines import Truth
from bench.essaygen import EDITED, FRACTIONS, OBFUSCATIONS, Corpus, Planted, generate
from bench.intake import machine
from essays.similarity.align import COUNT_GAP, coverage, runs, same, seeds
from essays.similarity.compare import ALL_RUNS_FROM, Prepared, all_runs, match
from essays.similarity.corpus import CorpusResult, Document, Pair, compare_corpus

GRID = OBFUSCATIONS + EDITED


def cells(corpus: Corpus) -> list[tuple[str, list[Planted]]]:
    """Rows: fraction x obfuscation (the usual grid, then the edited copies), then copies of
    references per fraction."""
    rows = []
    for obfuscation in GRID:
        for fraction in FRACTIONS:
            rows.append((f"{fraction:.0%} {obfuscation}", [p for p in corpus.planted if not p.from_reference
                         and p.fraction == fraction and p.obfuscation == obfuscation]))
    for fraction in FRACTIONS:
        rows.append((f"{fraction:.0%} from_reference", [p for p in corpus.planted if p.from_reference
                                                        and p.fraction == fraction]))
    return rows


def _ratio(doc: Prepared, mask: np.ndarray) -> float:
    return float((mask & ~doc.base).sum()) / doc.length if doc.length else 0.0


def old_ratios(pair: Pair, a: Prepared, b: Prepared) -> tuple[float, float]:
    """The current design: the characters of the runs (all of MIN_RUN or more), base text out."""
    found = [r for passage in pair.passages for r in passage.runs]
    return _ratio(a, coverage(found, a.length, "a")), _ratio(b, coverage(found, b.length, "b"))


def recounted(a: Prepared, b: Prepared, gap: int) -> tuple[float, float]:
    """The new rule with another COUNT_GAP (the runs found again, the short ones with them)."""
    found = runs(a.text, b.text, seeds(a.free_print(), b.free_print()))
    found = all_runs(a, b, found) if sum(r.length for r in found) >= ALL_RUNS_FROM else found
    same_a, same_b = same(a.text, b.text, found, gap)
    return _ratio(a, same_a), _ratio(b, same_b)


def score(corpus: Corpus, result: CorpusResult, ratios: dict[frozenset[str], tuple[str, float, float]],
          min_ratio: float) -> dict:
    """Recall, precision and per-cell ratio errors of one design; `ratios`: every pair the run
    reports, with (its a, ratio_a, ratio_b) under that design."""
    truth = Truth(corpus)
    reported = {pair: v for pair, v in ratios.items() if max(v[1], v[2]) >= min_ratio}
    hot = [set(h.members) for h in result.hot]
    rows = {}
    for name, planted in cells(corpus):
        found, errors = 0, []
        for p in planted:
            hit = reported.get(frozenset((p.copy, p.source)))
            if hit is not None:
                a, ratio_a, ratio_b = hit
                errors.append((ratio_a if a == p.copy else ratio_b) - (p.true_ratio_copy - p.base_ratio_copy))
            found += hit is not None or any(p.copy in m and p.source in m for m in hot)
        rows[name] = {"planted": len(planted), "found": found,
                      "mae": statistics.fmean(abs(e) for e in errors) if errors else None,
                      "bias": statistics.fmean(errors) if errors else None}
    true = sum(1 for pair in reported if truth.is_true(*pair))
    errors = [row for row in rows.values() if row["mae"] is not None]
    return {"cells": rows, "reported": len(reported), "true": true,
            "precision": true / len(reported) if reported else 1.0,
            "recall": sum(r["found"] for r in rows.values()) / sum(r["planted"] for r in rows.values()),
            "worst_mae": max(r["mae"] for r in errors), "worst_bias": max(errors, key=lambda r: abs(r["bias"]))["bias"]}


def gap_study(corpus: Corpus, result: CorpusResult, gaps: list[int], min_ratio: float) -> list[str]:
    lines = ["| COUNT_GAP | worst cell MAE | worst cell bias | edited cells' mean bias | reordered cells' mean bias |",
             "| ---: | ---: | ---: | ---: | ---: |"]
    for gap in gaps:
        ratios = {}
        for pair in result.pairs:
            a, b = result.prepared[pair.a], result.prepared[pair.b]
            ratios[frozenset((pair.a, pair.b))] = (pair.a, *recounted(a, b, gap))
        s = score(corpus, result, ratios, min_ratio)
        edited = [r["bias"] for name, r in s["cells"].items() if "substituted" in name and r["bias"] is not None]
        reordered = [r["bias"] for name, r in s["cells"].items() if "reordered" in name and r["bias"] is not None]
        lines.append(f"| {gap} | {s['worst_mae']:.3f} | {s['worst_bias']:+.3f} | {statistics.fmean(edited):+.3f} | "
                     f"{statistics.fmean(reordered):+.3f} |")
    return lines


def verification_times(result: CorpusResult) -> tuple[float, float]:
    """Seconds to verify every reported pair once more on one core: the current design (seeds,
    runs, their characters) and the match the run makes (essays.similarity.compare.match)."""
    docs = [(result.prepared[pair.a], result.prepared[pair.b]) for pair in result.pairs]
    started = time.perf_counter()
    for a, b in docs:
        found = runs(a.text, b.text, seeds(a.free_print(), b.free_print()))
        _ratio(a, coverage(found, a.length, "a")), _ratio(b, coverage(found, b.length, "b"))
    old = time.perf_counter() - started
    started = time.perf_counter()
    for a, b in docs:
        match(a, b)
    return old, time.perf_counter() - started


def fmt(value: float | None, signed: bool = False) -> str:
    return "-" if value is None else f"{value:+.3f}" if signed else f"{value:.3f}"


def table(old: dict, new: dict) -> list[str]:
    lines = ["| cell | planted | recall old | recall new | MAE old | MAE new | bias old | bias new |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, o in old["cells"].items():
        n = new["cells"][name]
        lines.append(f"| {name} | {o['planted']} | {o['found']}/{o['planted']} | {n['found']}/{n['planted']} | "
                     f"{fmt(o['mae'])} | {fmt(n['mae'])} | {fmt(o['bias'], True)} | {fmt(n['bias'], True)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--per-cell", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-ratio", type=float, default=0.05)
    parser.add_argument("--gaps", default="", help="also recount under these COUNT_GAP values, e.g. 8,27,40")
    args = parser.parse_args()
    facts = machine()
    corpus = generate(args.n, args.seed, per_cell=args.per_cell, obfuscations=GRID)
    essays = [Document(key, text, group) for key, group, text in corpus.essays]
    references = [Document(key, text) for key, text in corpus.references]
    started = time.perf_counter()
    result = compare_corpus(essays, references, corpus.bases, min_ratio=args.min_ratio, workers=args.workers)
    seconds = time.perf_counter() - started
    new_ratios, old = {}, {}
    for pair in result.pairs:
        a, b = result.prepared[pair.a], result.prepared[pair.b]
        new_ratios[frozenset((pair.a, pair.b))] = (pair.a, pair.ratio_a, pair.ratio_b)
        old[frozenset((pair.a, pair.b))] = (pair.a, *old_ratios(pair, a, b))
    scores = {"old": score(corpus, result, old, args.min_ratio), "new": score(corpus, result, new_ratios,
                                                                              args.min_ratio)}
    lines = [f"{facts['date']} · {facts['cpu']} · {facts['uname']}", "",
             f"{len(corpus.essays)} essays, {len(corpus.references)} references, {len(corpus.planted)} planted pairs "
             f"(seed {args.seed}); compare_corpus {seconds:.1f} s with {args.workers} workers; COUNT_GAP {COUNT_GAP}.",
             ""]
    old_seconds, new_seconds = verification_times(result)
    lines.append(f"Verifying the {len(result.pairs)} reported pairs again on one core: {old_seconds * 1000:.0f} ms "
                 f"by the current design, {new_seconds * 1000:.0f} ms by the new rule.")
    lines.append("")
    for name, s in (("old (runs of 13 or more only)", scores["old"]), ("new (chain first, then count)", scores["new"])):
        lines.append(f"- {name}: recall {s['recall']:.1%}, precision {s['precision']:.1%} ({s['true']} true of "
                     f"{s['reported']} reported pairs); worst cell MAE {s['worst_mae']:.3f}, "
                     f"worst cell bias {s['worst_bias']:+.3f}")
    lines += ["", *table(scores["old"], scores["new"])]
    if args.gaps:
        lines += ["", "The new rule with other COUNT_GAP values (same runs, same pairs):", "",
                  *gap_study(corpus, result, [int(g) for g in args.gaps.split(",")], args.min_ratio)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
