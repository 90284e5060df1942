"""What every provider adapter is: pure protocol code between raw HTTP and one wallet service.

An adapter authenticates and decodes the request, validates it into a typed command, calls one
wallet service, and encodes the typed outcome as the provider's own answer. It never writes a
model itself. The endpoint view (``providers.views``) does the rest: body limit, IP allowlist,
journal, and turning any unexpected failure into the adapter's own error answer.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from django.http import HttpRequest


class Rejection(StrEnum):
    """Why a request was refused before or instead of reaching the wallet."""

    FORBIDDEN_IP = "forbidden_ip"  # caller outside the provider's allowlist
    BAD_HOST = "bad_host"  # Host header not in ALLOWED_HOSTS: the provider's "try again"
    TOO_LARGE = "too_large"  # body over PROVIDER_MAX_BODY_BYTES
    AUTH_FAILED = "auth_failed"  # decryption, signature, hash or token failure
    BAD_INPUT = "bad_input"  # malformed body, missing or mistyped field
    UNKNOWN_ACTION = "unknown_action"
    UNEXPECTED = "error"  # a bug or an outage: the provider's safe "try again" where it matters


class Refused(Exception):
    """Raised by adapters to refuse a request; the view asks the adapter to encode it."""

    def __init__(self, kind: Rejection, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class JournalDraft:
    """What the adapter learnt about the request, filled in as decoding goes along."""

    action: str = ""
    payload: Any = None
    bet_key: str = ""
    account_id: str = ""
    is_cancel: bool = False
    signature_form: str = ""
    outcome: str = ""
    error: str = ""


@dataclass
class InboundCall:
    request: HttpRequest
    body: bytes
    function: str  # the URL's function segment ("" for one-URL providers)
    client_ip: str
    request_id: str
    journal: JournalDraft = field(default_factory=JournalDraft)


@dataclass(frozen=True)
class ProviderAnswer:
    """The provider's answer: a JSON-able body (Decimals allowed) and an HTTP status.

    ``error``: detail for the journal's error column only, never for the provider (a database
    error's own text, say, behind a generic "try again").
    """

    body: dict[str, Any]
    http_status: int = 200
    outcome: str = "ok"
    error: str = ""


class ProviderAdapter(abc.ABC):
    slug: ClassVar[str]
    name: ClassVar[str]
    #: None: one URL for every action. Otherwise the function names accepted in the URL.
    functions: ClassVar[tuple[str, ...] | None] = None
    #: Payload fields that are secrets (tokens, session ids) and must not reach the journal.
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    @abc.abstractmethod
    def handle(self, call: InboundCall) -> ProviderAnswer:
        """Authenticate, decode, validate, call one wallet service, encode its outcome.

        Raise ``Refused`` for a request that must be refused in the provider's error format.
        """

    @abc.abstractmethod
    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        """Encode a refusal in the provider's own format.

        ``Rejection.UNEXPECTED`` must choose the provider's retry code wherever a wrong
        "success" could lose money (JDB Action 4: 9017).
        """

    def allowlist(self) -> tuple[str, ...]:
        from django.conf import settings

        return tuple(getattr(settings, f"{self.slug.upper()}_ALLOWED_IPS", ()) or ())
