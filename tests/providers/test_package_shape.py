"""One shape per provider: the same file names for the same roles, settings read in config.py.

The table of these files is in docs/architecture.md ("Provider packages"); a provider that
drifts from it (a settings read back in its adapter, a role under another name) fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from providers import registry

PROVIDERS_DIR = Path(registry.__file__).parent
#: The files every provider has, whatever its wire format (docs/architecture.md).
ROLE_FILES = (
    "adapter.py",
    "authentication.py",
    "client.py",
    "codes.py",
    "commands.py",
    "config.py",
    "parsers.py",
)
SLUGS = sorted(registry.adapters())


def test_every_registered_provider_is_checked() -> None:
    assert SLUGS == ["buffalo", "jdb", "naga", "vp"]


@pytest.mark.parametrize("slug", SLUGS)
def test_provider_has_every_role_file(slug: str) -> None:
    package = PROVIDERS_DIR / slug
    assert [name for name in ROLE_FILES if not (package / name).is_file()] == []


def _reads_django_settings(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "django.conf"
        and any(alias.name == "settings" for alias in node.names)
        for node in ast.walk(tree)
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_only_config_reads_the_providers_settings(slug: str) -> None:
    package = PROVIDERS_DIR / slug
    readers = sorted(p.name for p in package.glob("*.py") if _reads_django_settings(p))
    assert readers == ["config.py"]
