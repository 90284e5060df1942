"""The cluster's PostgreSQL servers: a primary made with ``initdb`` and a hot standby cloned
from it with ``pg_basebackup``, streaming through a replication slot, each started and stopped
with ``pg_ctl``. PostgreSQL's own tools, nothing in their place."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.cluster.processes import ClusterError, give_to_db_owner, run_as_db_owner
from bench.cluster.templates import render

POSTGRES_ROOT = Path("/usr/lib/postgresql")
#: The standby's application_name and replication slot, named by the primary's
#: synchronous_standby_names.
STANDBY_NAME = "standby1"


def server_binaries() -> Path:
    """PostgreSQL's bin directory (the newest under /usr/lib/postgresql; 15 on Debian 12)."""
    found = sorted(POSTGRES_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise ClusterError(f"no PostgreSQL server programs under {POSTGRES_ROOT}")
    return found[-1].parent


@dataclass
class PostgresServer:
    """One PostgreSQL instance: its data directory, port and log, under the cluster's folder."""

    name: str
    port: int
    home: Path  # data/, the log and the Unix socket live here

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log(self) -> Path:
        return self.home / "postgres.log"

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgres://{user}@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, timeout: float = 90) -> None:
        ctl = str(server_binaries() / "pg_ctl")
        run_as_db_owner(ctl, "-D", str(self.data), "-l", str(self.log), *args, timeout=timeout)

    def initdb(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        give_to_db_owner(self.home)
        initdb = str(server_binaries() / "initdb")
        run_as_db_owner(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self._configure()

    def clone(self, primary: PostgresServer) -> None:
        """A base backup of ``primary`` with its own replication slot, made a standby of it."""
        self.home.mkdir(parents=True, exist_ok=True)
        give_to_db_owner(self.home)
        basebackup = str(server_binaries() / "pg_basebackup")
        run_as_db_owner(
            basebackup,
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(self.data), "-X", "stream", "-C", "-S", STANDBY_NAME),
            "--checkpoint=fast",  # the default waits for a spread checkpoint: minutes
            timeout=300,
        )
        self._configure()
        standby = render("standby.conf", primary_port=primary.port, standby_name=STANDBY_NAME)
        self._write(self.data / "standby.conf", standby)
        self._write(self.data / "standby.signal", "")

    def _configure(self) -> None:
        cluster_conf = render("postgresql.conf", port=self.port, socket_dir=self.home)
        self._write(self.data / "cluster.conf", cluster_conf)
        main = self.data / "postgresql.conf"
        text = main.read_text()
        if "include 'cluster.conf'" not in text:
            text += "\ninclude 'cluster.conf'\ninclude_if_exists 'standby.conf'\n"
            self._write(main, text)

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text)
        give_to_db_owner(path)

    def start(self) -> None:
        self._ctl("-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """``immediate`` is a crash: no checkpoint, every connection cut."""
        self._ctl("-w", "-t", "60", "-m", mode, "stop")

    def promote(self) -> None:
        self._ctl("-w", "-t", "60", "promote")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def execute(self, *statements: str, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def value(self, query: str, *params: object, database: str = "postgres") -> object:
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(query.encode(), params or None).fetchone()
        return row[0] if row else None


def make_synchronous(primary: PostgresServer, timeout: float = 60) -> None:
    """Once the standby streams: every commit on the primary waits for the standby's flush."""
    deadline = time.monotonic() + timeout
    streaming = (
        "SELECT count(*) FROM pg_stat_replication WHERE application_name = %s "
        "AND state = 'streaming'"
    )
    while primary.value(streaming, STANDBY_NAME) != 1:
        if time.monotonic() > deadline:
            raise ClusterError(f"the standby did not start streaming in {timeout:.0f} s")
        time.sleep(0.2)
    primary.execute(
        f"ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ({STANDBY_NAME})'",
        "SELECT pg_reload_conf()",
    )
    synchronous = "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s"
    while primary.value(synchronous, STANDBY_NAME) != "sync":
        if time.monotonic() > deadline:
            raise ClusterError(f"the standby did not become synchronous in {timeout:.0f} s")
        time.sleep(0.2)
