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

Metrics: every worker writes its counters to files in ``PROMETHEUS_MULTIPROC_DIR`` (the
official client's multiprocess mode), which a scrape of ``/metrics`` sums. This module empties
that directory before the workers start (a previous run's counts would add up with today's),
and makes a private one when the variable is unset.

granian's workers listen with ``SO_REUSEPORT``, so a second server started on a port that one
already serves would start without a word and take half of its connections (two versions of the
code answering providers side by side, after a botched deploy). This module refuses to start
then, naming the address.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path

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
    prepare_metrics_directory()
    args = [*(argv or []), APPLICATION]
    # The address as granian will read it (options, then GRANIAN_* variables, then defaults);
    # resilient parsing: a mistake in the options is granian's to report, below.
    params = cli.make_context(
        "backoffice.serve", list(args), resilient_parsing=True, auto_envvar_prefix="GRANIAN"
    ).params
    if params.get("uds") is None and params.get("host") and params.get("port"):
        problem = address_taken(params["host"], params["port"])
        if problem:
            sys.exit(problem)
    cli(args, prog_name="backoffice.serve", auto_envvar_prefix="GRANIAN")


def prepare_metrics_directory() -> Path:
    """``PROMETHEUS_MULTIPROC_DIR`` emptied of a previous run's files (made when missing; a
    new private directory when the variable is unset). Set before any worker imports
    ``prometheus_client``, which reads it once."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="backoffice-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return directory


def address_taken(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be served by this server alone, or None when it is free.

    A plain bind (no ``SO_REUSEPORT``) fails while any socket listens there, ``SO_REUSEPORT``
    or not; ``SO_REUSEADDR`` keeps connections of a server that just stopped (``TIME_WAIT``)
    from counting.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        return f"cannot serve on {host}:{port}: {exc}"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return (
                f"{host}:{port} is already in use ({exc.strerror}): another app server? "
                "Stop it first; granian would otherwise share the port with it."
            )
    return None


if __name__ == "__main__":
    main(sys.argv[1:])
