"""Buffalo's DRF parser: a JSON object, depth-bounded (``providers.wire``)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError

from providers.base import InboundCall
from providers.parsers import ProviderParser
from providers.wire import WireError, loads_object


class BuffaloParser(ProviderParser):
    def decode(self, call: InboundCall) -> dict[str, Any]:
        try:
            payload = loads_object(call.body)
        except WireError as exc:
            raise ParseError(str(exc)) from None
        note(call, payload)
        return payload


def note(call: InboundCall, payload: dict[str, Any]) -> None:
    """Journal what the request says it is about, even if it fails validation later."""
    call.journal.payload = payload
    user_id = payload.get("userId")
    if isinstance(user_id, str):
        call.journal.account_id = user_id[:64]
    transaction = payload.get("transaction")
    ref_id = transaction.get("refId") if isinstance(transaction, dict) else None
    if isinstance(ref_id, str):
        call.journal.bet_key = ref_id[:128]
