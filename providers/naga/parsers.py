"""Naga's DRF parser: the ``{"data": {...}, "dataHash": "<sha256 hex>"}`` envelope.

Only the envelope is read here (depth-bounded by ``providers.wire``); the hash and the RSA
signature are the authentication class's, checked before anything costs in proportion to the
data's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import ParseError

from providers.base import InboundCall
from providers.parsers import ProviderParser
from providers.wire import WireError, loads_object


@dataclass(frozen=True)
class NagaEnvelope:
    body: dict[str, Any]
    data: dict[str, Any]


class NagaParser(ProviderParser):
    def decode(self, call: InboundCall) -> NagaEnvelope:
        try:
            body = loads_object(call.body)
        except WireError as exc:
            raise ParseError(f"body: {exc}") from exc
        call.journal.payload = body
        data = body.get("data")
        if not isinstance(data, dict):
            raise ParseError("data must be an object")
        if isinstance(data.get("betId"), str):
            call.journal.bet_key = data["betId"]
        return NagaEnvelope(body, data)
