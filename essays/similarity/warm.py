"""What copy detection builds or loads once per process, loaded before a worker's first
request instead of inside the first checks that need it (gunicorn.conf.py's
post_worker_init calls `warm_up`).

Measured on one core: the normalisation table 0.14 s, the NFKC fold table of the traces
25 ms, OpenCC's t2s 3 ms and s2tw 55 ms (its phrase dictionaries). s2tw is only needed by
the first essay that holds Traditional characters (essays.similarity.traces, mixed
script), so without this every fresh worker made one upload, minutes into its life, wait
55-130 ms longer than any other: the slowest checks of bench/similarity_workers.py.
"""

from __future__ import annotations

from essays.similarity import normalize, traces


def warm_up() -> None:
    normalize._table()
    normalize._t2s()
    traces._fold_table()
    for config in ("t2s", "s2tw"):
        traces._converter(config)
