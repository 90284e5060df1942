"""PgBouncer in transaction mode in front of the primary (and, for the admin's reads, the
standby). Repointing it is the runbook's step after a promotion: rewrite its ``[databases]``,
then SIGHUP; the app servers keep their connections to PgBouncer."""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cluster.processes import (
    ClusterError,
    alive,
    give_to_db_owner,
    read_pid,
    run_as_db_owner,
    stop_pid,
    wait_for_port,
)
from bench.cluster.templates import render

#: The database names PgBouncer serves (docs/operations.md): the primary's and the reads'.
PRIMARY_DATABASE = "backoffice"
STANDBY_DATABASE = "backoffice_standby"
#: The drill's ledger chain key (LEDGER_CHAIN_KEY): the app servers' and PgBouncer's.
LEDGER_CHAIN_KEY = "cluster-drill-only-ledger-chain-key-0123456789abcdef"


def ledger_chain_query(key: str) -> str:
    """PgBouncer's ``connect_query`` that gives a server connection the chain key, quoted for
    its connection string (dollar quotes: the key is hex or URL-safe text)."""
    if "$" in key or "'" in key:
        raise ClusterError("LEDGER_CHAIN_KEY must not contain $ or ' for PgBouncer's connect_query")
    return f"SELECT set_config($$backoffice.ledger_chain_key$$, $${key}$$, false)"


def pgbouncer_program() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        raise ClusterError("pgbouncer is not installed (apt-get install pgbouncer)")
    return found


def pgbouncer_version() -> tuple[int, ...]:
    out = run_as_db_owner(pgbouncer_program(), "--version", timeout=10)
    words = out.split()
    return tuple(int(part) for part in words[1].split(".")) if len(words) > 1 else ()


@dataclass
class PgBouncer:
    port: int
    home: Path
    #: Server connections per database and user (the tests use 1: every client shares one).
    pool_size: int = 20

    @property
    def config(self) -> Path:
        return self.home / "pgbouncer.ini"

    @property
    def pid_file(self) -> Path:
        return self.home / "pgbouncer.pid"

    def url(self, database: str = PRIMARY_DATABASE, user: str = "backoffice") -> str:
        return f"postgres://{user}@127.0.0.1:{self.port}/{database}"

    def configure(self, primary_port: int, standby_port: int) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        give_to_db_owner(self.home)
        users = self.home / "userlist.txt"
        users.write_text('"backoffice" ""\n"postgres" ""\n')
        text = render(
            "pgbouncer.ini",
            port=self.port,
            dir=self.home,
            primary_port=primary_port,
            standby_port=standby_port,
            pool_size=self.pool_size,
            ledger_chain_query=ledger_chain_query(LEDGER_CHAIN_KEY),
        )
        self.config.write_text(text)
        for path in (users, self.config):
            give_to_db_owner(path)

    def start(self) -> None:
        run_as_db_owner(pgbouncer_program(), "-d", str(self.config), timeout=30)
        wait_for_port(self.port, 15, "PgBouncer")

    def repoint(self, primary_port: int, standby_port: int) -> None:
        """Both database names to new servers, then a reload: the runbook's step."""
        self.configure(primary_port, standby_port)
        pid = self.pid()
        if pid is None:
            raise ClusterError("PgBouncer is not running: nothing to repoint")
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.2)  # PgBouncer reads its file on the next turn of its event loop

    def pid(self) -> int | None:
        pid = read_pid(self.pid_file)
        return pid if pid is not None and alive(pid) else None

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid, timeout=10)
