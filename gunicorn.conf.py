"""gunicorn settings for production: `gunicorn 'app:create_app()'` reads this file."""

import os

# Loopback only, behind the office's reverse proxy: with PROXY_COUNT=1 the app believes the
# last X-Forwarded-For address, which only the proxy may set; a port open to the network
# would let anyone forge it and dodge the login throttling.
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("THREADS", "2"))
timeout = 60
accesslog = "-"



def post_worker_init(worker):
    """Each worker loads copy detection's tables and dictionaries before its first request
    (essays.similarity.warm): ~0.25 s that the first uploads would otherwise wait."""
    from essays.similarity.warm import warm_up

    warm_up()
