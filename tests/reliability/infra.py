"""Real processes for the concurrency and crash tests: the app server's settings (the server
itself is ``tests/app_server.py``), and a private PostgreSQL instance that a test may crash and
restart without touching anyone else's database.

Everything started here is stopped by the same object, by process id (its own process group),
whatever happens in the test.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings as django_settings

from tests.app_server import ROOT, free_port
from tests.conftest import provider_settings_environment

PG_VERSIONS = Path("/usr/lib/postgresql")


def server_env(database_url: str, naga_public_pem: str, **extra: str) -> dict[str, str]:
    """Production settings (DEBUG off, no demo keys) with the test suite's provider keys."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "false",
        "DEMO_KEYS": "false",
        "SECRET_KEY": "reliability-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        # The suite's own key: the tests verify the chains the server writes.
        "LEDGER_CHAIN_KEY": django_settings.LEDGER_CHAIN_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "NAGA_PUBLIC_KEY": naga_public_pem.replace("\n", "\\n"),
        "LOG_LEVEL": "WARNING",
    }
    env.update(provider_settings_environment())
    env.update(extra)
    return env


class PrivatePostgres:
    """A throwaway PostgreSQL instance (initdb in a temporary folder, its own port).

    The crash test restarts it in immediate mode (a crash: WAL recovery on start) without
    disturbing the shared cluster other test runs use. Run as the ``postgres`` system user,
    because PostgreSQL refuses to run as root.
    """

    def __init__(self) -> None:
        versions = sorted(PG_VERSIONS.glob("*/bin/initdb")) if PG_VERSIONS.exists() else []
        if not versions:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = versions[-1].parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bo_rel_pg_"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.started = False

    def _as_postgres(self, *args: str, timeout: float = 120) -> None:
        command = [*self._user_prefix(), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    @staticmethod
    def _user_prefix() -> list[str]:
        if os.geteuid() != 0:
            return []
        runuser = shutil.which("runuser")
        if runuser is None:
            raise RuntimeError("running as root without runuser: cannot start PostgreSQL")
        return [runuser, "-u", "postgres", "--"]

    def start(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
        )
        self._ctl("start")
        self.started = True
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            action,
            *extra,
        )

    def crash_restart(self) -> None:
        """Stop without a checkpoint (like a crash: every connection dies), then start again."""
        self._ctl("restart", "-m", "immediate")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # our own fixed name

    def is_up(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def stop(self) -> None:
        """Stop the instance (whatever state it is in) and delete its folder."""
        if self.started:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def manage(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with this environment (settings, database)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
