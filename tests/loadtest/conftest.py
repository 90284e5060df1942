"""A real gunicorn (the README's configuration module) on 127.0.0.1, serving the test database.

The server gets the suite's provider keys (``TEST_PROVIDER_SETTINGS``) and Naga's demo key pair,
so that the harness, building requests in this process, signs and encrypts exactly what the
server expects. It is started in its own process group and stopped by its id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings

from backoffice import demo_keys
from tests.conftest import provider_settings_environment

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _environment(port: int) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "DEBUG": "false",
        "DEMO_KEYS": "false",
        "SECRET_KEY": "loadtest-smoke-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": _database_url(),
        "CONN_HEALTH_CHECKS": "false",
        "NAGA_PUBLIC_KEY": demo_keys.NAGA_PUBLIC_KEY_PATH,
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "4",
        "GUNICORN_LOGLEVEL": "warning",
    }
    env.update(provider_settings_environment())
    return env


@pytest.fixture
def gunicorn_server(tmp_path: Path, settings: Any) -> Iterator[Server]:
    """gunicorn -c python:backoffice.gunicorn_conf backoffice.wsgi, on a free port."""
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "python:backoffice.gunicorn_conf", "backoffice.wsgi"],
            cwd=ROOT,
            env=_environment(port),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_ready(server)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_ready(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.url}/health/", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not start: {server.log.read_text()[-2000:]}")
