"""Small process helpers for the cluster: free ports, waiting for a port, pid files, and
running the database programs as the ``postgres`` system user when we are root (PostgreSQL
and PgBouncer refuse to run as root)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DB_OWNER = "postgres"


class ClusterError(RuntimeError):
    """A program of the cluster is missing, failed to start, or did not stop."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.1)
    raise ClusterError(f"{what} is not listening on 127.0.0.1:{port} after {timeout:.0f} s")


def db_owner_prefix() -> list[str]:
    """``runuser -u postgres --`` when we are root, else nothing (we run them as ourselves)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterError("running as root without runuser: cannot start PostgreSQL")
    return [runuser, "-u", DB_OWNER, "--"]


def give_to_db_owner(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, DB_OWNER, DB_OWNER)


def run_as_db_owner(*args: str, timeout: float = 120) -> str:
    """Run a database program; its output, or ClusterError with its output when it fails."""
    try:
        done = subprocess.run(  # noqa: S603 (our own argument lists, no shell)
            [*db_owner_prefix(), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"{args[0]} did not finish in {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise ClusterError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}".strip())
    return done.stdout


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child, not yet waited for) is dead for our purposes.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def stop_pid(pid: int, *, timeout: float = 15, group: bool = False) -> None:
    """SIGTERM (to the process group when ``group``), then SIGKILL if it outlives ``timeout``."""
    send = os.killpg if group else os.kill
    with contextlib.suppress(ProcessLookupError):
        send(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        send(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
