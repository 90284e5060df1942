"""``python -m backoffice.serve``: granian with the project's defaults, the environment first,
and never a second server sharing a port that one already serves."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from backoffice import serve
from tests.app_server import free_port


@pytest.fixture
def granian_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, Any]]]:
    """granian's command, recorded instead of run; the project's defaults unset."""
    calls: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(serve.cli, "main", lambda args, **kwargs: calls.append((args, kwargs)))
    for name in serve.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    return calls


def test_defaults_fill_only_what_the_environment_leaves_unset(
    monkeypatch: pytest.MonkeyPatch, granian_calls: list[tuple[list[str], dict[str, Any]]]
) -> None:
    monkeypatch.setenv("GRANIAN_BLOCKING_THREADS", "7")
    port = str(free_port())

    serve.main(["--port", port])

    assert os.environ["GRANIAN_BLOCKING_THREADS"] == "7"  # the operator's value stands
    assert os.environ["GRANIAN_INTERFACE"] == "wsgi"
    assert os.environ["GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT"] == "600"
    assert granian_calls == [
        (
            ["--port", port, "backoffice.wsgi:application"],
            {"prog_name": "backoffice.serve", "auto_envvar_prefix": "GRANIAN"},
        )
    ]


@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_a_port_another_server_listens_on_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    granian_calls: list[tuple[list[str], dict[str, Any]]],
    given_by: str,
) -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as granian's workers do
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = str(other.getsockname()[1])
        argv = ["--port", port] if given_by == "option" else []
        if given_by == "environment":
            monkeypatch.setenv("GRANIAN_PORT", port)

        with pytest.raises(SystemExit) as refused:
            serve.main(argv)

    assert f"127.0.0.1:{port} is already in use" in str(refused.value.code)
    assert granian_calls == []
