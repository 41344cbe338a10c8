"""gunicorn settings for production: `gunicorn 'app:create_app()'` reads this file."""

import os
import warnings

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("THREADS", "2"))
timeout = 60
accesslog = "-"


def on_starting(server):
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    count = server.cfg.workers
    if count > 1 and storage.startswith("memory"):
        warnings.warn(
            f"{count} workers but RATELIMIT_STORAGE_URI={storage}: each worker counts login "
            "attempts separately. Set RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0.",
            RuntimeWarning, stacklevel=1,
        )
