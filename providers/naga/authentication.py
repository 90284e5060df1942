"""Naga's proof: ``X-Signature`` (RSA, Naga's public key) over the claimed ``dataHash``, and
that hash matching the data as Naga serialised it."""

from __future__ import annotations

from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from providers.authentication import ProviderAuthentication
from providers.base import InboundCall
from providers.naga import config
from providers.naga.codes import INVALID_SIGNATURE
from providers.naga.crypto import IntegrityFailure, check_data_hash, check_signature, claimed_hash
from providers.parsers import provider_message


class NagaSignatureAuthentication(ProviderAuthentication):
    slug = "naga"

    def prove(self, request: Request, call: InboundCall) -> str:
        envelope = provider_message(request)
        # A missing or unusable key is our configuration: NagaKeyError reaches the "unexpected"
        # path and Naga gets 503 (try again), never a false "bad signature".
        public_key = config.public_key()
        try:
            # The signature first, from the claimed hash alone: serialising the data costs in
            # proportion to its shape, which nobody unauthenticated may make us spend.
            claimed = claimed_hash(envelope.body.get("dataHash"))
            form = check_signature(public_key, call.request.META.get("HTTP_X_SIGNATURE"), claimed)
            check_data_hash(envelope.data, claimed)
        except IntegrityFailure as exc:
            raise AuthenticationFailed(f"{INVALID_SIGNATURE}: {exc}") from exc
        return str(form.value)
