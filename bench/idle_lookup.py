"""Benchmark: one lookup in a shared index generation back to back, and after the process
has been idle for a moment, in the same run (the first is the baseline); each also with the
generation's presence bitmap and bucket table copied into the process's own memory (numpy
asks the kernel for huge pages there) instead of mapped from the page cache.

A gunicorn worker at the deadline minute handles an upload every second or so and sleeps in
between; on a shared VM its caches and TLB are then cold, and every random access of a
lookup (presence bitmap, bucket table, a pread per bucket) costs several times more. This
measures the same queries both ways, interleaved in rounds, on a generation on disk (for
example the one bench/similarity_workers.py built: its folder is printed by --keep runs
and left under /tmp/zhengwen-index-*): each query is 100 hashes the index holds and 600 it
does not, as an essay's fingerprints are.

    .venv/bin/python -m bench.idle_lookup /tmp/zhengwen-index-XXXX --scope 1 --idle 0.5
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np

from bench.intake import machine
from essays.similarity import pointer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="the index folder (SIMILARITY_INDEX_DIR)")
    parser.add_argument("--scope", type=int, default=1)
    parser.add_argument("--idle", type=float, default=0.5, help="seconds asleep before each idle lookup")
    parser.add_argument("--queries", type=int, default=60, help="per way and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    generation = next(pointer.candidates(args.root, args.scope))
    for path in generation.folder.glob("*.npy"):  # into the page cache, as on a machine that has the memory
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    records = generation.records()
    copied = dataclasses.replace(generation, table=np.array(generation.table), present=np.array(generation.present))
    rng = np.random.default_rng(20270520)
    ways = [(f"{name}, {pause_name}", pause, gen) for pause_name, pause in (("back to back", 0.0),
                                                                            (f"after {args.idle} s idle", args.idle))
            for name, gen in (("mapped", generation), ("copied", copied))]
    times: dict[str, list[float]] = {way: [] for way, _, _ in ways}
    for _ in range(args.rounds):
        for way, pause, generation in ways:
            for number in range(args.queries + 5):
                query = np.concatenate([records["hash"][rng.integers(0, len(records), 100)],
                                        rng.integers(0, 2**63, 600, dtype=np.uint64)])
                time.sleep(pause)
                started = time.perf_counter()
                generation.lookup(query)
                generation.crowded(query)
                if number >= 5:  # the first few of each way warm or cool the process
                    times[way].append(time.perf_counter() - started)
    facts = machine()
    print(f"{facts['date']} · {facts['cpu']} · {generation.count:,} postings\n")
    print("| lookup of 700 hashes, bitmap and table | median | p95 |\n|---|---|---|")
    for way, values in times.items():
        ms = np.array(values) * 1000
        print(f"| {way} | {np.median(ms):.2f} ms | {np.percentile(ms, 95):.2f} ms |")


if __name__ == "__main__":
    main()
