"""A fifth provider that exists only in the tests, to show the provider edge is generic.

Its wire format is nothing like the four real ones: a plain-text body of ``key=value`` lines,
an ``X-Toy-Key`` header as its proof, and a plain-text answer. It is wired the way a real
provider is: a parser, an authentication class, a renderer and an adapter, then
``providers.views.endpoint`` (the registry's job, done here by the test URLconf).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import AuthenticationFailed, ParseError
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from providers.authentication import ProviderAuthentication
from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.parsers import ProviderParser, provider_message
from wallet.money import InvalidAmount, parse_amount
from wallet.services import Outcome, bet_cancel, bet_open

TOY_KEY = "open-sesame"


class ToyParser(ProviderParser):
    def decode(self, call: InboundCall) -> dict[str, str]:
        try:
            text = call.body.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ParseError("the body is not ASCII") from exc
        fields: dict[str, str] = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if not sep or not key:
                raise ParseError(f"not a key=value line: {line[:40]!r}")
            fields[key.strip()] = value.strip()
        call.journal.payload = fields
        call.journal.action = fields.get("do", "")
        call.journal.account_id = fields.get("player", "")
        call.journal.bet_key = fields.get("bet", "")
        return fields


class ToyKeyAuthentication(ProviderAuthentication):
    slug = "toy"

    def prove(self, request: Request, call: InboundCall) -> str:
        given = call.request.META.get("HTTP_X_TOY_KEY", "")
        if not hmac.compare_digest(given.encode(), TOY_KEY.encode()):
            raise AuthenticationFailed("X-Toy-Key is missing or wrong")
        return "toy-key"


class ToyTextRenderer(BaseRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return "".join(f"{key}={value}\n" for key, value in data.items()).encode("ascii")


class ToyAdapter(ProviderAdapter):
    slug = "toy"
    name = "Toy"
    parser_class = ToyParser
    authentication_class = ToyKeyAuthentication
    renderer_class = ToyTextRenderer

    def execute(self, call: InboundCall, request: Request) -> ProviderAnswer:
        fields = provider_message(request)
        try:
            amount = parse_amount(fields.get("amount", "0"), allow_text=True)
        except InvalidAmount as exc:
            raise Refused(Rejection.BAD_INPUT, str(exc)) from exc
        common = {"provider": self.slug, "account_id": fields.get("player", "")}
        if fields.get("do") == "bet":
            result = bet_open(
                bet_key=fields["bet"],
                tx_id=fields["bet"],
                currency=fields.get("currency", "USD"),
                amount=amount,
                **common,
            )
        elif fields.get("do") == "cancel":
            result = bet_cancel(bet_keys=[fields["bet"]], tx_id=f"c-{fields['bet']}", **common)
        else:
            raise Refused(Rejection.UNKNOWN_ACTION, f"nothing to do for {fields.get('do')!r}")
        code = "OK" if result.outcome in (Outcome.OK, Outcome.CANCELLED) else "NO"
        return ProviderAnswer(
            {"code": code, "outcome": result.outcome.value, "balance": result.balance},
            200,
            result.outcome.value,
        )

    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        return ProviderAnswer({"code": "REFUSED", "why": kind.value}, 200, kind.value)
