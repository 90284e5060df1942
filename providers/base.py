"""What every provider is: DRF classes for its wire format, and pure protocol code between its
decoded message and one wallet service.

A provider package holds a ``parsers.py`` (body to message), an ``authentication.py`` (the
provider's proof) and an ``adapter.py`` whose adapter names them, validates the message into a
typed command, calls one wallet service and encodes the typed outcome as the provider's own
answer (``execute``), or a refusal (``refuse``). It never writes a model itself. The one DRF
view (``providers.views``) does the rest: Host, method, IP allowlist, body limit, journal, and
every failure through the adapter's refusal (``providers.exceptions``).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import HttpRequest
from rest_framework.renderers import BaseRenderer

from providers.renderers import ProviderJSONRenderer

if TYPE_CHECKING:
    from rest_framework.request import Request

    from providers.authentication import ProviderAuthentication
    from providers.parsers import ProviderParser


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
    #: The provider's decoded message, once its parser has read the body.
    message: Any = None


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
    """One provider: its DRF parser, authentication and renderer, and the protocol code between
    its decoded message and one wallet service (``execute``) or a refusal (``refuse``)."""

    slug: ClassVar[str]
    name: ClassVar[str]
    #: None: one URL for every action. Otherwise the function names accepted in the URL.
    functions: ClassVar[tuple[str, ...] | None] = None
    #: Payload fields that are secrets (tokens, session ids) and must not reach the journal.
    secret_fields: ClassVar[frozenset[str]] = frozenset()
    #: The function whose calls are cancels (journaled as such), for function-URL providers.
    cancel_function: ClassVar[str] = ""
    parser_class: ClassVar[type[ProviderParser]]
    authentication_class: ClassVar[type[ProviderAuthentication]]
    renderer_class: ClassVar[type[BaseRenderer]] = ProviderJSONRenderer

    @abc.abstractmethod
    def execute(self, call: InboundCall, request: Request) -> ProviderAnswer:
        """Validate the authenticated message (``providers.parsers.provider_message``), call
        one wallet service, encode its outcome.

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
