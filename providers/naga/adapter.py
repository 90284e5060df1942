"""Naga adapter: placeholder until the provider's issue lands (answers every call as unknown)."""

from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection


class NagaAdapter(ProviderAdapter):
    slug = "naga"
    name = "Naga"
    functions = ("authorize", "place-bet", "payout", "cancel-bet", "bet-status", "balance")

    def handle(self, call: InboundCall) -> ProviderAnswer:
        raise Refused(Rejection.UNKNOWN_ACTION, "not implemented yet")

    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        return ProviderAnswer({"error": message}, 400, kind.value)
