"""The app servers: ``python -m backoffice.serve`` (granian) each on its own port, all with
the same environment, each in its own process group so that one can be killed whole."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.cluster.processes import ClusterError, alive, stop_pid

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class AppServer:
    number: int
    port: int
    log: Path
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, environment: dict[str, str], *, workers: int, threads: int) -> None:
        env = {
            **environment,
            "GRANIAN_PORT": str(self.port),
            "GRANIAN_WORKERS": str(workers),
            "GRANIAN_BLOCKING_THREADS": str(threads),
            "GRANIAN_LOG_LEVEL": "warning",
            "GRANIAN_WORKERS_KILL_TIMEOUT": "5",
        }
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "backoffice.serve"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = process.pid

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid is None or not alive(self.pid):
                raise ClusterError(f"app server {self.number} exited: {self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.url}/health/", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            time.sleep(0.2)
        raise ClusterError(f"app server {self.number} is not healthy: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole server (its main process and workers): a machine lost."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(self.pid, 0)
        self.pid = None

    def stop(self) -> None:
        if self.pid is not None and alive(self.pid):
            stop_pid(self.pid, timeout=20, group=True)
        self.pid = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
