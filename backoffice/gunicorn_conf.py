"""gunicorn settings: ``gunicorn -c python:backoffice.gunicorn_conf backoffice.wsgi``.

Every value can be overridden from the environment (``GUNICORN_*``); the defaults are the ones
measured in README.md, "Performance" on a 2-core box that also runs PostgreSQL.

- ``gthread`` workers: kept-alive connections (Buffalo asks for keep-alive; every provider
  saves a TCP handshake per call) and threads that overlap one request's database wait with
  another's Python work. Sync workers close the connection after every answer.
- One worker process per core; threads per worker so that workers x threads covers the
  concurrency the providers bring. Each thread holds one PostgreSQL connection
  (``CONN_MAX_AGE``), so an app server needs ``workers x threads`` connections.
- ``keepalive`` longer than the providers' and the load balancer's idle timeout, so it is
  never our side that closes a connection in the middle of a request being sent.
- ``timeout`` well above the 2-second lock bound, well below nothing a provider waits for.
- ``max_requests`` with jitter recycles workers slowly (a leak cannot grow without bound) and
  never all at once.
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = _int("GUNICORN_WORKERS", os.cpu_count() or 2)
threads = _int("GUNICORN_THREADS", 8)
# gthread: how many connections (kept alive or busy) one worker holds at most.
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", 1000)
keepalive = _int("GUNICORN_KEEPALIVE", 75)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
max_requests = _int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
backlog = _int("GUNICORN_BACKLOG", 2048)
# Every provider request is in the journal (with its latency); an access log line per request
# would repeat it at a measurable cost. Set GUNICORN_ACCESSLOG=- to get one anyway.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the application once in the master: workers fork with the code and keys already parsed.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() == "true"
