"""VP's signature headers (``x-signature``, ``x-timestamp``, ``x-nonce``), when VP sends them.

The body's own proof is its GCM tag (the parser opens it first); the headers, optional in VP's
contract, are checked over the cipher text and body when present. The nonce is claimed later,
with the wallet's decision (``providers.vp.adapter``), so that a "try again" can be resent.
"""

from __future__ import annotations

from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from providers.authentication import ProviderAuthentication
from providers.base import InboundCall
from providers.parsers import provider_message
from providers.vp import config, nonces, signature


class VpSignatureAuthentication(ProviderAuthentication):
    slug = "vp"

    def prove(self, request: Request, call: InboundCall) -> str:
        message = provider_message(request)
        try:
            form = signature.verify(
                call.request.headers,
                agent_id=config.agent_id(),
                cipher_text=message.cipher_text,
                body=call.body,
            )
        except signature.SignatureError as exc:
            call.journal.signature_form = signature.SignatureForm.REFUSED
            raise AuthenticationFailed(str(exc)) from exc
        if form != signature.SignatureForm.ABSENT:
            nonces.purge_now_and_then()  # outside the money transaction, which stays short
        return str(form)
