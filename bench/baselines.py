"""Baselines for the copy detection benchmark (bench/similarity.py), on the same generated
corpus and ground truth (bench/essaygen.py):

- naive all pairs with rapidfuzz: `fuzz.ratio` (and `fuzz.partial_ratio`) timed on a random
  sample of pairs and extrapolated to N(N-1)/2; recall and precision at N=1,000 from
  `process.cpdist(..., workers=2)` at the best threshold there is (chosen with the answers:
  the most it could do);
- datasketch MinHashLSH: character 5-gram shingles of the normalised text, less those of
  the base text (the quotations and the notice, as the engine is given them), 128
  permutations, a Jaccard threshold; build + query time, peak memory (VmHWM of a fresh
  subprocess), recall and precision of the candidate pairs.

Shared helpers for bench/similarity.py live here too: the ground truth (`Truth`), the
machine line, and running a measurement in a fresh subprocess with its peak memory.

    .venv/bin/python -m bench.baselines --n 1000          # both baselines at one size
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.essaygen import FRACTIONS, OBFUSCATIONS, Corpus, Planted
from bench.intake import cpu_model

ROOT = Path(__file__).resolve().parents[1]
SHINGLE = 5
NUM_PERM = 128
LSH_THRESHOLD = 0.1


def normalized(text: str) -> str:
    from essays.similarity.normalize import normalize

    return normalize(text).text


# ---------------------------------------------------------------------------- ground truth


@dataclass
class Truth:
    """Which pairs are true: the planted pairs and any two members of the model group."""

    corpus: Corpus
    planted: dict[frozenset[str], Planted] = field(init=False)
    model: set[str] = field(init=False)
    group: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.planted = {frozenset((p.copy, p.source)): p for p in self.corpus.planted}
        self.model = set(self.corpus.model_group)
        self.group = {key: group for key, group, _ in self.corpus.essays}
        self.group.update({key: "" for key, _ in self.corpus.references})

    def is_true(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.planted or (a in self.model and b in self.model)

    def comparable(self, a: str, b: str) -> bool:
        """The engine's rule: never two documents of one unit, never two references."""
        ga, gb = self.group[a], self.group[b]
        both_refs = a.startswith("r") and b.startswith("r")
        return not both_refs and not (ga and ga == gb)

    def model_pairs(self) -> int:
        return len(self.model) * (len(self.model) - 1) // 2

    def cells(self) -> list[tuple[str, list[Planted]]]:
        """Rows of the report: fraction x obfuscation, then from_reference x fraction."""
        rows = []
        for fraction in FRACTIONS:
            for obfuscation in OBFUSCATIONS:
                rows.append((f"{fraction:.0%} {obfuscation}", [p for p in self.corpus.planted if not p.from_reference
                             and p.fraction == fraction and p.obfuscation == obfuscation]))
        for fraction in FRACTIONS:
            rows.append((f"{fraction:.0%} from_reference", [p for p in self.corpus.planted if p.from_reference
                                                            and p.fraction == fraction]))
        return rows


def score_pairs(truth: Truth, detected: set[frozenset[str]]) -> dict:
    """Recall of the planted pairs (per cell), of the model group, and precision."""
    tp = sum(1 for pair in detected if truth.is_true(*pair))
    cells = {name: (sum(frozenset((p.copy, p.source)) in detected for p in planted), len(planted))
             for name, planted in truth.cells()}
    model = sum(1 for pair in combinations(sorted(truth.model), 2) if frozenset(pair) in detected)
    found = sum(found for found, _ in cells.values())
    return {"reported": len(detected), "true_positives": tp, "precision": tp / len(detected) if detected else 1.0,
            "recall": found / len(truth.planted) if truth.planted else 0.0, "cells": cells,
            "model_pairs": (model, truth.model_pairs())}


# ---------------------------------------------------------------------------- the machine, subprocesses


def machine() -> dict[str, str]:
    return {"date": datetime.now().strftime("%Y-%m-%d %H:%M"), "cpu": cpu_model(), "cores": str(os.cpu_count()),
            "python": sys.version.split()[0], "platform": platform.platform()}


def _tree_pss_kib(root: int) -> int:
    """Proportional set size (Pss) of a process and all its descendants, from /proc: a page
    shared by forked workers counts once in the sum, unlike resident memory."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            pass
        stack += children.get(pid, [])
    return total


def run_measured(module: str, args: list[str], timeout: float = 3600) -> dict:
    """Run `python -m module args` in a fresh process; return its JSON answer (the child
    writes it to the file given as --out) with `tree_peak_kib`: the largest sum of the
    proportional set sizes of the child and its worker processes, sampled every 50 ms."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = handle.name
    process = subprocess.Popen([sys.executable, "-m", module, *args, "--out", out], cwd=ROOT)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, _tree_pss_kib(process.pid))
            except OSError:
                pass
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        code = process.wait(timeout=timeout)
    finally:
        stop.set()
        sampler.join()
        if process.poll() is None:
            process.kill()
    try:
        if code != 0:
            raise RuntimeError(f"{module} {' '.join(args)} exited {code}")
        answer = json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)
    answer["tree_peak_kib"] = peak
    return answer


def maxrss_kib() -> int:
    """This process's peak resident memory, KiB: VmHWM of /proc/self/status. Not
    ru_maxrss: Linux carries that over fork and exec, so a child started by a big parent
    reports the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def dump_corpus(corpus: Corpus) -> str:
    """The documents for a child process, pickled to a temporary file (its name)."""
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as handle:
        pickle.dump({"essays": corpus.essays, "references": corpus.references, "bases": corpus.bases}, handle,
                    protocol=pickle.HIGHEST_PROTOCOL)
        return handle.name


def load_corpus(path: str) -> dict:
    with open(path, "rb") as handle:
        return pickle.load(handle)


# ---------------------------------------------------------------------------- rapidfuzz


def _scorer(name: str):
    from rapidfuzz import fuzz

    return getattr(fuzz, name)


def time_pairs(corpus: Corpus, scorer: str = "ratio", sample: int = 400, seed: int = 1) -> float:
    """Seconds per pair of `scorer` on random pairs of normalised essays, one core."""
    rng = random.Random(seed)
    texts = [normalized(text) for _, _, text in rng.sample(corpus.essays, min(200, len(corpus.essays)))]
    pairs = [rng.sample(range(len(texts)), 2) for _ in range(sample)]
    function = _scorer(scorer)
    function(texts[0], texts[1])
    start = time.perf_counter()
    for i, j in pairs:
        function(texts[i], texts[j])
    return (time.perf_counter() - start) / len(pairs)


def extrapolate(seconds_per_pair: float, sizes: list[int], workers: int = 2) -> dict[int, float]:
    """Hours for all N(N-1)/2 essay pairs on `workers` cores (references left out)."""
    return {n: seconds_per_pair * n * (n - 1) / 2 / workers / 3600 for n in sizes}


def rapidfuzz_eval(corpus: Corpus, scorer: str = "ratio", workers: int = 2, budget: float = 600,
                   negatives: int = 30000, seed: int = 1) -> dict:
    """Recall and precision of all-pairs `scorer` at the threshold with the best F1 (chosen
    knowing the answers, so the most this baseline could do).

    When all comparable pairs fit in `budget` seconds (estimated from a timed sample) they
    are all scored (process.cpdist, workers=2: the pairs only, where cdist would score the
    whole matrix). Otherwise every true pair is scored and a
    uniform random sample of `negatives` other comparable pairs (process.cpdist, workers=2),
    whose count above a threshold is scaled up to all the other pairs: recall exact,
    precision estimated."""
    from rapidfuzz import process

    truth = Truth(corpus)
    keys = [key for key, _, _ in corpus.essays] + [key for key, _ in corpus.references]
    texts = [normalized(text) for _, _, text in corpus.essays] + [normalized(text) for _, text in corpus.references]
    n = len(corpus.essays)
    rows, cols = np.triu_indices(n, 1, len(texts))
    keep = np.array([truth.comparable(keys[i], keys[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)])
    rows, cols = rows[keep], cols[keep]
    true = np.array([truth.is_true(keys[i], keys[j]) for i, j in zip(rows.tolist(), cols.tolist(), strict=True)])
    per_pair = time_pairs(corpus, scorer, sample=100)
    estimate = per_pair * len(rows) / workers
    start = time.perf_counter()
    if estimate <= budget:  # cpdist over the pairs: cdist would score both triangles, twice the work
        values = process.cpdist([texts[i] for i in rows], [texts[j] for j in cols], scorer=_scorer(scorer),
                                workers=workers, dtype=np.float32)
        weight = np.ones(len(rows))
        mode = f"all {len(rows):,} comparable pairs (cpdist)"
    else:
        rng = np.random.default_rng(seed)
        negative = np.flatnonzero(~true)
        sample = rng.choice(negative, size=min(negatives, len(negative)), replace=False)
        chosen = np.concatenate([np.flatnonzero(true), sample])
        values = process.cpdist([texts[i] for i in rows[chosen]], [texts[j] for j in cols[chosen]],
                                scorer=_scorer(scorer), workers=workers, dtype=np.float32)
        rows, cols, true = rows[chosen], cols[chosen], true[chosen]
        weight = np.where(true, 1.0, len(negative) / len(sample))
        mode = (f"every true pair and {len(sample):,} of the {len(negative):,} other comparable pairs, "
                f"scaled up (cpdist; all pairs would take ~{estimate / 60:.0f} min)")
    seconds = time.perf_counter() - start
    order = np.argsort(-values, kind="stable")
    hits = np.cumsum(true[order])
    reported = np.cumsum(weight[order])
    total_true = len(truth.planted) + truth.model_pairs()
    f1 = 2 * hits / (reported + total_true)
    best = int(np.argmax(f1))
    threshold = float(values[order][best])
    above = values >= threshold
    detected = {frozenset((keys[i], keys[j])) for i, j in zip(rows[above & true].tolist(), cols[above & true].tolist(),
                                                              strict=True)}
    result = score_pairs(truth, detected)
    result["reported"] = float(weight[above].sum())
    result["precision"] = float(true[above].sum() / weight[above].sum())
    unrelated = values[~true]
    result.update({"scorer": scorer, "threshold": threshold, "cdist_seconds": seconds, "mode": mode,
                   "pairs_comparable": int(keep.sum()), "seconds_per_pair": per_pair,
                   "unrelated_p50": float(np.median(unrelated)), "unrelated_p999": float(np.quantile(unrelated, 0.999)),
                   "unrelated_max": float(unrelated.max())})
    return result


# ---------------------------------------------------------------------------- MinHash LSH


def minhash_child(data: str, out: str, threshold: float, drop_base: bool = True) -> None:
    """In a fresh process: build the LSH over every document, query every essay."""
    from datasketch import MinHash, MinHashLSH

    docs = load_corpus(data)
    rss_loaded = maxrss_kib()
    start = time.perf_counter()
    keys = [key for key, _, _ in docs["essays"]] + [key for key, _ in docs["references"]]
    texts = [text for _, _, text in docs["essays"]] + [text for _, text in docs["references"]]
    def shingle(text: str) -> set[bytes]:
        norm = normalized(text)
        return {norm[i:i + SHINGLE].encode("utf-8") for i in range(len(norm) - SHINGLE + 1)}

    base: set[bytes] = set()
    if drop_base:  # given the same base text as the engine: its shingles are left out
        for text in docs["bases"]:
            base |= shingle(text)
    shingles = [shingle(text) - base for text in texts]
    normalized_at = time.perf_counter()
    hashes = MinHash.bulk(shingles, num_perm=NUM_PERM)
    del shingles
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for key, minhash in zip(keys, hashes, strict=True):
            session.insert(key, minhash)
    built = time.perf_counter()
    by_key = dict(zip(keys, hashes, strict=True))
    pairs = []
    for key, _, _ in docs["essays"]:
        for other in lsh.query(by_key[key]):
            if other != key and (other.startswith("r") or key < other):
                pairs.append((key, other, by_key[key].jaccard(by_key[other])))
    done = time.perf_counter()
    Path(out).write_text(json.dumps({
        "pairs": pairs, "normalize_seconds": normalized_at - start, "build_seconds": built - start,
        "query_seconds": done - built, "seconds": done - start, "rss_loaded_kib": rss_loaded,
        "rss_peak_kib": maxrss_kib(), "params": list(lsh.b and (lsh.b, lsh.r))}))


def minhash_eval(corpus: Corpus, threshold: float = LSH_THRESHOLD, data: str | None = None,
                 drop_base: bool = True) -> dict:
    own = data is None
    data = data or dump_corpus(corpus)
    try:
        answer = run_measured("bench.baselines", ["--child", "minhash", "--data", data, "--threshold", str(threshold),
                                                  *([] if drop_base else ["--keep-base"])])
    finally:
        if own:
            Path(data).unlink(missing_ok=True)
    truth = Truth(corpus)
    detected = {frozenset((a, b)) for a, b, _ in answer["pairs"] if truth.comparable(a, b)}
    result = score_pairs(truth, detected)
    verified = {frozenset((a, b)) for a, b, j in answer["pairs"] if truth.comparable(a, b) and j >= threshold}
    result["verified"] = score_pairs(truth, verified)  # candidates whose estimated Jaccard passes too
    result.update({k: v for k, v in answer.items() if k != "pairs"})
    result["threshold"] = threshold
    result["drop_base"] = drop_base
    return result


# ---------------------------------------------------------------------------- command line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--child", choices=["minhash"])
    parser.add_argument("--data")
    parser.add_argument("--out")
    parser.add_argument("--threshold", type=float, default=LSH_THRESHOLD)
    parser.add_argument("--keep-base", action="store_true", help="MinHash: keep the base text's shingles")
    args = parser.parse_args()
    if args.child == "minhash":
        minhash_child(args.data, args.out, args.threshold, drop_base=not args.keep_base)
        return
    from bench.essaygen import generate

    corpus = generate(args.n, args.seed)
    for scorer, sample in (("ratio", 200), ("partial_ratio", 5)):
        per_pair = time_pairs(corpus, scorer, sample)
        hours = extrapolate(per_pair, [1000, 10000, 20000])
        print(f"rapidfuzz {scorer}: {per_pair * 1e6:.0f} µs/pair; all pairs on 2 cores: "
              + ", ".join(f"N={n}: {h:.2f} h" for n, h in hours.items()))
    result = rapidfuzz_eval(corpus)
    print(json.dumps({k: v for k, v in result.items() if k != "cells"}, ensure_ascii=False))
    print(result["cells"])
    result = minhash_eval(corpus, args.threshold, drop_base=not args.keep_base)
    print(json.dumps({k: v for k, v in result.items() if k != "cells"}, ensure_ascii=False, default=str))
    print(result["cells"])


if __name__ == "__main__":
    main()
