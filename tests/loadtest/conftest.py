"""The real app server (``python -m backoffice.serve``) on 127.0.0.1, serving the test database.

The server gets the suite's provider keys (``TEST_PROVIDER_SETTINGS``) and Naga's demo key pair,
so that the harness, building requests in this process, signs and encrypts exactly what the
server expects. It is started in its own process group and stopped by its id.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from providers import demo_keys
from tests.app_server import AppServer
from tests.conftest import provider_settings_environment


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def server_environment() -> dict[str, str]:
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
    }
    env.update(provider_settings_environment())
    return env


@pytest.fixture
def app_server(tmp_path: Path, settings: Any) -> Iterator[AppServer]:
    """python -m backoffice.serve (2 workers x 4 threads), on a free port."""
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH
    server = AppServer(server_environment(), tmp_path / "server.log", workers=2, threads=4).start()
    try:
        yield server
    finally:
        server.stop()
