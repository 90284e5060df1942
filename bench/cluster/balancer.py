"""HAProxy in front of the app servers: round robin, health checks on ``GET /health/``, the
caller's address appended to ``X-Forwarded-For``. It connects to the app servers from an
address of its own on the loopback network (``SOURCE_ADDRESS``), so that the app servers tell
it apart from a provider calling from 127.0.0.1: that address is their ``TRUSTED_PROXIES``."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.cluster.processes import ClusterError, alive, read_pid, stop_pid, wait_for_port
from bench.cluster.templates import render

SOURCE_ADDRESS = "127.0.0.10"


def haproxy_program() -> str:
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found is None:
        raise ClusterError("haproxy is not installed (apt-get install haproxy)")
    return found


@dataclass
class HAProxy:
    port: int
    home: Path
    app_ports: list[int]

    @property
    def config(self) -> Path:
        return self.home / "haproxy.cfg"

    @property
    def pid_file(self) -> Path:
        return self.home / "haproxy.pid"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def configure(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"    server app{n} 127.0.0.1:{port} check" for n, port in enumerate(self.app_ports, 1)
        )
        text = render(
            "haproxy.cfg",
            port=self.port,
            dir=self.home,
            source_address=SOURCE_ADDRESS,
            servers=servers,
        )
        self.config.write_text(text)
        checked = subprocess.run(  # noqa: S603 (a fixed argument list, no shell)
            [haproxy_program(), "-c", "-q", "-f", str(self.config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if checked.returncode != 0:
            raise ClusterError(f"haproxy refuses {self.config}: {checked.stderr}{checked.stdout}")

    def start(self) -> None:
        started = subprocess.run(  # noqa: S603
            [haproxy_program(), "-D", "-f", str(self.config), "-p", str(self.pid_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            raise ClusterError(f"haproxy did not start: {started.stderr}{started.stdout}")
        wait_for_port(self.port, 15, "HAProxy")

    def pid(self) -> int | None:
        pid = read_pid(self.pid_file)
        return pid if pid is not None and alive(pid) else None

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid, timeout=10)
