"""The base of every provider's DRF parser: raw bytes in, the provider's decoded message out.

Providers send whatever ``Content-Type`` they like (JDB a form, the others JSON, some none at
all), so a provider parser accepts any media type and reads the body itself. The raw bytes stay
on the request's ``InboundCall`` for the signature checks that need them.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.parsers import BaseParser
from rest_framework.request import Request

from providers.base import InboundCall


def inbound_call(context: Mapping[str, Any] | None) -> InboundCall:
    """The request's ``InboundCall``, from a parser or request context (the view holds it)."""
    assert context is not None
    call: InboundCall = context["view"].call
    return call


class ProviderParser(BaseParser, abc.ABC):
    media_type = "*/*"

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return self.decode(inbound_call(parser_context))

    @abc.abstractmethod
    def decode(self, call: InboundCall) -> Any:
        """Turn ``call.body`` into the provider's message, noting on ``call.journal`` what it
        says as soon as it is known (so that a refusal is findable). Raise DRF's
        ``ParseError`` for an unreadable body, ``AuthenticationFailed`` for a cipher that does
        not open."""


def provider_message(request: Request) -> Any:
    """The provider parser's message, read once, from the bytes the view read.

    The view reads the body itself (its size limit; a chunked body DRF would see as empty), so
    the parser is called on those bytes directly rather than through ``request.data``, whose
    stream handling would read them a second time (docs/decisions/0008-drf-provider-edge.md).
    """
    call = inbound_call(request.parser_context)
    if call.message is None:
        parser = request.parsers[0]
        call.message = parser.parse(None, request.content_type, request.parser_context)
    return call.message
