"""The configuration files of ``deploy/cluster/``, filled in with a cluster's ports and paths."""

from __future__ import annotations

from pathlib import Path
from string import Template

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "cluster"


def render(name: str, **values: object) -> str:
    """``deploy/cluster/<name>`` with every ``${key}`` replaced (a missing key is an error)."""
    text = (DEPLOY / name).read_text()
    return Template(text).substitute({key: str(value) for key, value in values.items()})
