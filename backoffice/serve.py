"""The production server: ``python -m backoffice.serve`` runs granian on ``backoffice.wsgi``.

granian (a Rust HTTP server with a WSGI interface) reads, parses and writes HTTP outside
Python's GIL; only the Django application runs on Python threads. Measured against gunicorn's
``gthread`` worker on the same 2-core box (README, "Performance", step 24): about 12 % less app
CPU per provider cancel and 10-15 % more cancels a second, with a tighter p99.

Every setting is granian's own, from its command line or its ``GRANIAN_*`` environment
variables (``granian --help`` lists them all); this module only gives those left unset the
defaults measured in README.md, "Performance":

- ``GRANIAN_WORKERS``: one process per core, for Python's work.
- ``GRANIAN_BLOCKING_THREADS``: 4 Python threads per worker. Each holds one PostgreSQL
  connection (``CONN_MAX_AGE``), so an app server needs ``workers x threads`` connections.
  Requests beyond that wait in granian, off the GIL: 16 kept-alive provider connections on
  8 threads ran as fast as on 16 threads, with a lower p99 (fewer threads taking turns).
- ``GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT``: 600 s, granian's maximum: an idle thread that
  granian retires takes its database connection with it, so it should live as long as the
  connection would (``CONN_MAX_AGE``, 600 s on provider servers).
- ``GRANIAN_BACKLOG``: 2048, so that a retry storm's connections queue instead of being refused.
- ``GRANIAN_RESPAWN_FAILED_WORKERS``: a worker that dies (killed, out of memory) is replaced.
- ``GRANIAN_WORKERS_MAX_RSS``: 1024 MiB; a worker above it is replaced, so a leak cannot grow
  without bound.
- ``GRANIAN_WORKERS_KILL_TIMEOUT``: 30 s for a worker to finish its requests on shutdown, far
  above the 2-second lock bound.
- ``GRANIAN_WEBSOCKETS``: off (no endpoint uses them).

Access logs stay off (``GRANIAN_LOG_ACCESS``): the journal records every provider call.
"""

from __future__ import annotations

import os

from granian.cli import cli

APPLICATION = "backoffice.wsgi:application"

DEFAULTS = {
    "GRANIAN_INTERFACE": "wsgi",
    "GRANIAN_HOST": "127.0.0.1",
    "GRANIAN_PORT": "8000",
    "GRANIAN_WORKERS": str(os.cpu_count() or 2),
    "GRANIAN_BLOCKING_THREADS": "4",
    "GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT": "600",
    "GRANIAN_BACKLOG": "2048",
    "GRANIAN_RESPAWN_FAILED_WORKERS": "true",
    "GRANIAN_WORKERS_MAX_RSS": "1024",
    "GRANIAN_WORKERS_KILL_TIMEOUT": "30",
    "GRANIAN_WEBSOCKETS": "false",
}


def main(argv: list[str] | None = None) -> None:
    """Run granian with the project's defaults; arguments are granian's own options."""
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
    cli([*(argv or []), APPLICATION], prog_name="backoffice.serve", auto_envvar_prefix="GRANIAN")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
