"""The base of every provider's DRF authentication: the principal is the provider itself.

Each provider proves itself its own way (a cipher only it can write, a signature, a token); its
authentication class checks that proof and answers a ``ProviderPrincipal`` naming the provider
and the form of proof, which the journal keeps. A failed proof raises DRF's
``AuthenticationFailed``, answered in the provider's own format by the exception handler.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from providers.base import InboundCall
from providers.parsers import inbound_call


@dataclass(frozen=True)
class ProviderPrincipal:
    """Who called: a provider, proven by ``form`` (``aes-128-cbc``, ``rsa-sha256``, …)."""

    slug: str
    form: str
    is_authenticated: ClassVar[bool] = True


class ProviderAuthentication(BaseAuthentication, abc.ABC):
    slug: ClassVar[str]

    def authenticate(self, request: Request) -> tuple[ProviderPrincipal, None]:
        call = inbound_call(request.parser_context)
        form = self.prove(request, call)
        call.journal.signature_form = form
        return ProviderPrincipal(self.slug, form), None

    @abc.abstractmethod
    def prove(self, request: Request, call: InboundCall) -> str:
        """Check the provider's proof; return its form, or raise ``AuthenticationFailed``."""

    def authenticate_header(self, request: Request) -> str:
        return self.slug
