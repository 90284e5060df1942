"""The providers we serve: one package each, one adapter class per package.

URLs are generated from this registry (``providers.urls``); the shared contract tests iterate
over it too. Adding a provider is adding its package and one line here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

from providers.base import ProviderAdapter

ADAPTER_PATHS: tuple[str, ...] = (
    "providers.jdb.adapter.JdbAdapter",
    "providers.vp.adapter.VpAdapter",
    "providers.naga.adapter.NagaAdapter",
    "providers.buffalo.adapter.BuffaloAdapter",
)


@cache
def adapters() -> dict[str, ProviderAdapter]:
    found: dict[str, ProviderAdapter] = {}
    for dotted in ADAPTER_PATHS:
        module_name, class_name = dotted.rsplit(".", 1)
        adapter = getattr(import_module(module_name), class_name)()
        found[adapter.slug] = adapter
    return found


def adapter(slug: str) -> ProviderAdapter:
    return adapters()[slug]
