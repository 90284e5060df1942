"""The whole shape: PostgreSQL primary and synchronous standby, PgBouncer, app servers and
HAProxy, started in that order and stopped in the reverse one, with the state (ports, pids,
which server is the primary) kept in ``cluster.json`` so that another process (the drill, an
operator's shell) can act on it: kill an app server, fail the database over, stop it all."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cluster.app_servers import ROOT, AppServer
from bench.cluster.balancer import SOURCE_ADDRESS, HAProxy
from bench.cluster.pooler import LEDGER_CHAIN_KEY, PRIMARY_DATABASE, STANDBY_DATABASE, PgBouncer
from bench.cluster.postgres import STANDBY_NAME, PostgresServer, make_synchronous
from bench.cluster.processes import ClusterError, free_port, give_to_db_owner

STATE_FILE = "cluster.json"
_SAVING = threading.Lock()
#: The application's database role: PgBouncer gives it no startup options, so the role carries
#: the wallet's lock bound (WALLET_LOCK_TIMEOUT_MS, 2000 ms by default).
APP_ROLE = "backoffice"
LOCK_TIMEOUT_MS = 2000

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class Failover:
    """When each step of the runbook's failover ended (``time.time()``), and the standby's
    replication state just before (``sync``: every acknowledged commit was on it)."""

    standby_state: str
    primary_stopped: float
    standby_promoted: float
    pooler_repointed: float


@dataclass
class Cluster:
    home: Path
    primary: PostgresServer
    standby: PostgresServer
    pooler: PgBouncer
    balancer: HAProxy
    apps: list[AppServer]
    workers: int = 1
    threads: int = 4
    extra_environment: dict[str, str] = field(default_factory=dict)
    failed_over: bool = False

    # --- making one -----------------------------------------------------------------------

    @classmethod
    def plan(
        cls,
        home: Path | None = None,
        *,
        apps: int = 2,
        workers: int = 1,
        threads: int = 4,
        extra_environment: dict[str, str] | None = None,
    ) -> Cluster:
        """Ports and folders for a new cluster (nothing started yet)."""
        home = home or Path(tempfile.mkdtemp(prefix="bo_cluster_"))
        home.mkdir(parents=True, exist_ok=True)
        give_to_db_owner(home)
        app_ports = [free_port() for _ in range(apps)]
        return cls(
            home=home,
            primary=PostgresServer("primary", free_port(), home / "primary"),
            standby=PostgresServer("standby", free_port(), home / "standby"),
            pooler=PgBouncer(free_port(), home / "pgbouncer"),
            balancer=HAProxy(free_port(), home / "haproxy", app_ports),
            apps=[AppServer(n, port, home / f"app{n}.log") for n, port in enumerate(app_ports, 1)],
            workers=workers,
            threads=threads,
            extra_environment=dict(extra_environment or {}),
        )

    def up(self, say: Say = _quiet) -> None:
        """Start everything; on any failure stop what was started and raise."""
        try:
            self._up(say)
        except BaseException:
            self.down(keep_files=True)
            raise

    def _up(self, say: Say) -> None:
        started = time.monotonic()
        self.primary.initdb()
        self.primary.start()
        self.save()
        self.primary.execute(
            f"CREATE ROLE {APP_ROLE} LOGIN",
            f"CREATE DATABASE {PRIMARY_DATABASE} OWNER {APP_ROLE}",
            f"ALTER ROLE {APP_ROLE} IN DATABASE {PRIMARY_DATABASE} "
            f"SET lock_timeout = '{LOCK_TIMEOUT_MS}ms'",
        )
        say(f"primary: PostgreSQL on 127.0.0.1:{self.primary.port}")
        migrated = self.manage("migrate", "-v", "0", database_url=self.direct_url(self.primary))
        if migrated.returncode != 0:
            raise ClusterError(f"migrate failed: {migrated.stdout}{migrated.stderr}")
        self.standby.clone(self.primary)
        self.standby.start()
        make_synchronous(self.primary)
        say(f"standby: hot standby on 127.0.0.1:{self.standby.port}, synchronous")
        self.pooler.configure(self.primary.port, self.standby.port)
        self.pooler.start()
        say(f"PgBouncer (transaction mode) on 127.0.0.1:{self.pooler.port}")
        environment = self.environment()
        for app in self.apps:
            app.start(environment, workers=self.workers, threads=self.threads)
        self.save()
        for app in self.apps:
            app.wait_ready()
        say(f"app servers on {', '.join(str(a.port) for a in self.apps)}")
        self.balancer.configure()
        self.balancer.start()
        self.save()
        self.wait_balanced()
        say(f"HAProxy on {self.balancer.url} ({time.monotonic() - started:.1f} s to start)")

    def wait_balanced(self, timeout: float = 30) -> None:
        """Until HAProxy's health checks have every app server up (one /health/ answer each)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.balancer.url}/health/", timeout=2):  # noqa: S310
                    return
            time.sleep(0.2)
        raise ClusterError(f"HAProxy answers no /health/ after {timeout:.0f} s")

    # --- what the app servers share -------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """Every app server's environment (and the drill's, which signs the same requests)."""
        return {
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "backoffice.settings",
            "DEBUG": "false",
            # The published demo provider keys: a drill, not a deployment (check --deploy says so).
            "DEMO_KEYS": "true",
            "SECRET_KEY": "cluster-drill-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "LEDGER_CHAIN_KEY": LEDGER_CHAIN_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # TLS ends at the load balancer in production; on loopback there is none.
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": self.pooler.url(PRIMARY_DATABASE, APP_ROLE),
            "DATABASE_REPLICA_URL": self.pooler.url(STANDBY_DATABASE, APP_ROLE),
            "DATABASE_TRANSACTION_POOLER": "true",
            "DATABASE_PREPARED_STATEMENTS": "false",
            "CONN_MAX_AGE": "600",
            "CONN_HEALTH_CHECKS": "false",
            "TRUSTED_PROXIES": SOURCE_ADDRESS,
            "LOG_LEVEL": "WARNING",
            **self.extra_environment,
        }

    def direct_url(self, server: PostgresServer) -> str:
        """The application database on ``server`` itself, past PgBouncer (migrations, checks)."""
        return server.url(PRIMARY_DATABASE, APP_ROLE)

    def manage(
        self, *args: str, database_url: str = "", timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = self.environment()
        if database_url:
            # Straight to PostgreSQL: the session may then carry options, as without a pooler.
            env |= {"DATABASE_URL": database_url, "DATABASE_TRANSACTION_POOLER": "false"}
        return subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    # --- the runbook ----------------------------------------------------------------------

    def kill_app(self, number: int) -> None:
        self.apps[number - 1].kill()
        self.save()

    def restart_app(self, number: int) -> None:
        """What the supervisor does (systemd Restart=always)."""
        app = self.apps[number - 1]
        app.start(self.environment(), workers=self.workers, threads=self.threads)
        self.save()
        app.wait_ready()

    def fail_over(self, say: Say = _quiet) -> Failover:
        """The primary stops hard (a crash: no checkpoint, every connection cut); the standby is
        promoted; PgBouncer is repointed to it, for writes and reads alike."""
        if self.failed_over:
            raise ClusterError("already failed over: the standby is the primary")
        state = self.primary.value(
            "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s", STANDBY_NAME
        )
        self.primary.stop("immediate")
        stopped = time.time()
        say(f"primary stopped (immediate); its standby was {state}")
        self.standby.promote()
        promoted = time.time()
        if self.standby.value("SELECT pg_is_in_recovery()") is not False:
            raise ClusterError("the standby is still in recovery after pg_ctl promote")
        say(f"standby promoted in {promoted - stopped:.2f} s")
        self.pooler.repoint(self.standby.port, self.standby.port)
        repointed = time.time()
        self.failed_over = True
        self.save()
        say(f"PgBouncer repointed to 127.0.0.1:{self.standby.port}")
        return Failover(str(state), stopped, promoted, repointed)

    @property
    def current_primary(self) -> PostgresServer:
        return self.standby if self.failed_over else self.primary

    # --- stopping -------------------------------------------------------------------------

    def down(self, *, keep_files: bool = False) -> None:
        """Stop every program (whatever state each is in), then delete the folder."""
        for app in self.apps:
            with contextlib.suppress(Exception):
                app.stop()
        for stop in (self.balancer.stop, self.pooler.stop):
            with contextlib.suppress(Exception):
                stop()
        for server in (self.standby, self.primary):
            if server.running():
                with contextlib.suppress(ClusterError):
                    server.stop("immediate")
        if not keep_files:
            shutil.rmtree(self.home, ignore_errors=True)

    # --- the state file -------------------------------------------------------------------

    def save(self) -> None:
        with _SAVING:  # the drill's supervisor and its failover may save at the same moment
            state = asdict(self)
            (self.home / STATE_FILE).write_text(json.dumps(state, indent=2, default=str))

    @classmethod
    def load(cls, home: Path) -> Cluster:
        state = json.loads((home / STATE_FILE).read_text())
        return cls(
            home=Path(state["home"]),
            primary=_server(state["primary"]),
            standby=_server(state["standby"]),
            pooler=PgBouncer(
                state["pooler"]["port"], Path(state["pooler"]["home"]), state["pooler"]["pool_size"]
            ),
            balancer=HAProxy(
                state["balancer"]["port"],
                Path(state["balancer"]["home"]),
                list(state["balancer"]["app_ports"]),
            ),
            apps=[
                AppServer(a["number"], a["port"], Path(a["log"]), a["pid"]) for a in state["apps"]
            ],
            workers=state["workers"],
            threads=state["threads"],
            extra_environment=state["extra_environment"],
            failed_over=state["failed_over"],
        )


def _server(state: dict[str, Any]) -> PostgresServer:
    return PostgresServer(state["name"], state["port"], Path(state["home"]))
