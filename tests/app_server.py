"""The production app server (``python -m backoffice.serve``: granian) as a test's real process.

Started in its own process group on a free port of 127.0.0.1, configured the production way
(granian's ``GRANIAN_*`` environment variables over ``backoffice.serve``'s defaults), and
stopped by its group id whatever happens in the test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings as django_settings

from providers import demo_keys
from tests.conftest import provider_settings_environment

ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def server_environment() -> dict[str, str]:
    """An app server's environment: production settings on the test database, the suite's
    provider keys and Naga's demo public key (its tests sign with the demo private key)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "false",
        "DEMO_KEYS": "false",
        "SECRET_KEY": "loadtest-smoke-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        # The suite's own key: the tests verify the chains the server writes.
        "LEDGER_CHAIN_KEY": django_settings.LEDGER_CHAIN_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": _database_url(),
        "CONN_HEALTH_CHECKS": "false",
        "NAGA_PUBLIC_KEY": demo_keys.NAGA_PUBLIC_KEY_PATH,
        "LOG_LEVEL": "WARNING",
    }
    env.update(provider_settings_environment())
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppServer:
    """``python -m backoffice.serve`` with ``workers`` processes of ``threads`` threads each."""

    def __init__(
        self, env: dict[str, str], log_path: Path, *, workers: int = 2, threads: int = 4
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = log_path
        self.env = {
            **env,
            "GRANIAN_PORT": str(self.port),
            "GRANIAN_WORKERS": str(workers),
            "GRANIAN_BLOCKING_THREADS": str(threads),
            "GRANIAN_LOG_LEVEL": "warning",
            # A killed worker is replaced at once, as a crash test expects (default 3.5 s).
            "GRANIAN_RESPAWN_INTERVAL": "0.2",
            "GRANIAN_WORKERS_KILL_TIMEOUT": "5",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> AppServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "backoffice.serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        """Until /health/ answers and every worker process is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the app server exited: {self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/health/", timeout=2).status_code == 200:
                    if len(self.worker_pids()) >= self.workers:
                        return
            time.sleep(0.1)
        raise RuntimeError(f"the app server did not become ready: {self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The main process's children: its workers (read from /proc)."""
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill_workers(self) -> int:
        """SIGKILL every worker at once (the server starts new ones); how many were killed."""
        killed = 0
        for pid in self.worker_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
        return killed

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
