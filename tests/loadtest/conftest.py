"""The real app server (``python -m backoffice.serve``) on 127.0.0.1, serving the test database.

The server gets the suite's provider keys (``TEST_PROVIDER_SETTINGS``) and Naga's demo key pair,
so that the harness, building requests in this process, signs and encrypts exactly what the
server expects. It is started in its own process group and stopped by its id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from providers import demo_keys
from tests.app_server import AppServer, server_environment


@pytest.fixture
def app_server(tmp_path: Path, settings: Any) -> Iterator[AppServer]:
    """python -m backoffice.serve (2 workers x 4 threads), on a free port."""
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH
    server = AppServer(server_environment(), tmp_path / "server.log", workers=2, threads=4).start()
    try:
        yield server
    finally:
        server.stop()
