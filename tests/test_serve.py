"""``python -m backoffice.serve``: granian with the project's defaults, the environment first."""

from __future__ import annotations

import os
from typing import Any

import pytest

from backoffice import serve


def test_defaults_fill_only_what_the_environment_leaves_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[list[str], dict[str, Any]]] = []
    monkeypatch.setattr(serve, "cli", lambda args, **kwargs: calls.append((args, kwargs)))
    for name in serve.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRANIAN_BLOCKING_THREADS", "7")

    serve.main(["--port", "9001"])

    assert os.environ["GRANIAN_BLOCKING_THREADS"] == "7"  # the operator's value stands
    assert os.environ["GRANIAN_INTERFACE"] == "wsgi"
    assert os.environ["GRANIAN_BLOCKING_THREADS_IDLE_TIMEOUT"] == "600"
    assert calls == [
        (
            ["--port", "9001", "backoffice.wsgi:application"],
            {
                "prog_name": "backoffice.serve",
                "auto_envvar_prefix": "GRANIAN",
            },
        )
    ]
