"""JDB's proof is its cipher: a payload that decrypts under ``JDB_AES_KEY`` came from JDB."""

from __future__ import annotations

from rest_framework.request import Request

from providers.authentication import ProviderAuthentication
from providers.base import InboundCall
from providers.jdb.parsers import SIGNATURE_FORM
from providers.parsers import provider_message


class JdbCipherAuthentication(ProviderAuthentication):
    slug = "jdb"

    def prove(self, request: Request, call: InboundCall) -> str:
        provider_message(request)  # the parser refuses a body that does not decrypt
        return SIGNATURE_FORM
