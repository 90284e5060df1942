"""Where the CPU went during a run (``/proc``), and what the database did (``pg_stat_database``).

Wall-clock figures depend on what else the machine is doing; CPU seconds per request do much
less. A snapshot sums user+system time of the app server (processes whose command line names
granian, which ``python -m backoffice.serve`` runs, or gunicorn, for comparisons with earlier
runs), of PostgreSQL's processes, and of the whole machine (``/proc/stat``), so a run can say
"per request: so much app CPU, so much database CPU", and how busy the machine was with
anything else. Where ``/proc`` is missing the figures are simply left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_APP_SERVERS = (b"backoffice.serve", b"granian", b"gunicorn")


@dataclass(frozen=True)
class CpuSnapshot:
    app: dict[int, float]  # pid: CPU seconds so far
    database: dict[int, float]
    machine_busy_s: float
    machine_total_s: float


@dataclass(frozen=True)
class CpuUsage:
    """CPU seconds spent between two snapshots."""

    app_s: float
    database_s: float
    machine_busy_s: float
    machine_total_s: float

    def per_request_us(self, requests: int) -> tuple[float, float]:
        if not requests:
            return 0.0, 0.0
        return self.app_s / requests * 1e6, self.database_s / requests * 1e6

    def others_s(self, client_s: float) -> float:
        """Busy CPU not spent by the app, the database or the load generator."""
        return max(0.0, self.machine_busy_s - self.app_s - self.database_s - client_s)


def _serves_other_database(command: bytes, database: bytes) -> bool:
    """A PostgreSQL client backend of another database (its title names the database).

    Backends of other databases (other people's tests on a shared machine) are not ours;
    PostgreSQL's own helpers (WAL writer, checkpointer, ...) are counted: they do our work too.
    """
    title = command.replace(b"\0", b" ")
    is_backend = b"(" in title or b"[local]" in title
    return is_backend and b" " + database + b" " not in title


def _serves(process: Path, database: bytes) -> bool:
    """An app server on this database (other people's servers on the machine are not ours)."""
    if not database:
        return True
    try:
        environment = (process / "environ").read_bytes()
    except OSError:
        return True
    for variable in environment.split(b"\0"):
        if variable.startswith(b"DATABASE_URL="):
            return variable.rstrip(b"/").endswith(b"/" + database) or b"/" + database + b"?" in (
                variable
            )
    return True


def snapshot(database: str = "") -> CpuSnapshot | None:
    """CPU so far of the app server and of PostgreSQL (``database``'s backends and helpers)."""
    if not (_PROC / "stat").exists():
        return None
    name_bytes = database.encode()
    app: dict[int, float] = {}
    postgres: dict[int, float] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
        if name.startswith("postgres"):
            if not (name_bytes and _serves_other_database(command, name_bytes)):
                postgres[int(entry.name)] = seconds
        elif any(marker in command for marker in _APP_SERVERS) and _serves(entry, name_bytes):
            app[int(entry.name)] = seconds
    cpu = (_PROC / "stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(t) for t in cpu[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return CpuSnapshot(app, postgres, (sum(ticks) - idle) / _TICKS, sum(ticks) / _TICKS)


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU of the processes alive at the end (those that ended meanwhile cannot be read)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def usage(before: CpuSnapshot | None, after: CpuSnapshot | None) -> CpuUsage | None:
    if before is None or after is None:
        return None
    return CpuUsage(
        _spent(before.app, after.app),
        _spent(before.database, after.database),
        after.machine_busy_s - before.machine_busy_s,
        after.machine_total_s - before.machine_total_s,
    )


#: Counters of ``pg_stat_database`` compared before and after a run (per request).
DATABASE_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "tup_updated",
    "blks_hit",
)


#: An idle PostgreSQL backend publishes its pending statistics after 10 s (PostgreSQL 15).
STATS_IDLE_FLUSH_S = 11.0


def database_counters() -> dict[str, int]:
    """This database's activity counters, as published by every backend so far.

    Call it when the server's connections have been idle for ``STATS_IDLE_FLUSH_S``: backends
    publish their counters at most once a second while busy, and when idle after that delay.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")  # our own pending counters
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(DATABASE_COUNTERS)} FROM pg_stat_database "  # noqa: S608
            "WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    return dict(zip(DATABASE_COUNTERS, (int(v) for v in row or ()), strict=False))
