"""gunicorn's workers load copy detection's tables before their first request
(essays.similarity.warm), so that no upload waits for them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import runpy
from essays.similarity import normalize, traces
caches = (normalize._table, normalize._t2s, traces._fold_table, traces._converter)
before = [c.cache_info().currsize for c in caches]
runpy.run_path("gunicorn.conf.py")["post_worker_init"](None)
after = [c.cache_info().currsize for c in caches]
print(before, after)
"""


def test_a_gunicorn_worker_loads_the_tables_and_both_converters_before_its_first_request():
    # In a process of its own: this one's caches may have been filled by other tests.
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[0] == "[0, 0, 0, 0] [1, 1, 1, 2]"
