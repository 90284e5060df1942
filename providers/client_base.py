"""What a provider's own client would send us: used by tests, the demo command and the load harness.

Each provider package has a ``client.py`` with ``build_request(payload, function="") ->
SignedRequest`` that encrypts or signs exactly as the provider does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Protocol


@dataclass(frozen=True)
class SignedRequest:
    path: str  # e.g. "/providers/jdb/", query string included when the provider uses one
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class RequestBuilder(Protocol):
    def __call__(self, payload: dict[str, Any], *, function: str = "") -> SignedRequest: ...


def builder_for(slug: str) -> RequestBuilder:
    """The provider's request builder (``providers.<slug>.client.build_request``)."""
    module = import_module(f"providers.{slug}.client")
    return module.build_request  # type: ignore[no-any-return]
