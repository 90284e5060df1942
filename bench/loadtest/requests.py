"""Provider requests built before the clock starts: encrypted or signed, framed as raw HTTP/1.1.

Each request is built with the provider's own client (``providers.<slug>.client.build_request``,
the same code the tests and ``provider_call`` use), so what the server receives is exactly what
the provider would send: JDB's AES form field, VP's AES-GCM body with signature headers, Naga's
RSA-signed ``dataHash``, Buffalo's token in the query string and the ``Authorization`` header.

Every request carries the answer codes that count as success (``accept``) and the provider's own
"try again" codes (``retry``); anything else is an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.loadtest.seed import CURRENCY, Players, stake_of, win_of
from providers.client_base import SignedRequest, builder_for
from providers.naga import config as naga_config
from providers.vp import config as vp_config
from wallet.services import SettledRoundPolicy

Payload = dict[str, Any]


@dataclass(slots=True)
class Prepared:
    """One request ready to send, and how to judge its answer."""

    provider: str
    action: str
    raw: bytes
    accept: frozenset[str]
    retry: frozenset[str]
    #: Builds the request anew for a resend (VP signs every send with a fresh nonce).
    rebuild: Callable[[], bytes] | None = None
    #: The bet it moves money for, where a check afterwards needs it (cancels).
    key: str = ""


#: A flow is sent in order on one connection (a bet, then its settle); most flows are one call.
Flow = list[Prepared]


def frame(signed: SignedRequest, host: str) -> bytes:
    """The request as raw HTTP/1.1 bytes on a kept-alive connection."""
    lines = [
        f"POST {signed.path} HTTP/1.1",
        f"Host: {host}",
        f"Content-Type: {signed.content_type}",
        f"Content-Length: {len(signed.body)}",
        *(f"{name}: {value}" for name, value in signed.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + signed.body


def answer_code(provider: str, http_status: int, body: bytes) -> str:
    """The provider-level code of an answer: Naga's HTTP status, the others' ``status`` field."""
    if provider == "naga":
        return str(http_status)
    try:
        return str(json.loads(body)["status"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {http_status} without a status"


#: The "try again" codes of each provider (common.md, Concurrency): never an error.
RETRY_CODES: dict[str, frozenset[str]] = {
    "jdb": frozenset({"9999", "9017"}),
    "vp": frozenset({"9999"}),
    "naga": frozenset({"503"}),
    "buffalo": frozenset({"TEMPORARY_ERROR"}),
}

_OK = {
    "jdb": frozenset({"0000"}),
    "vp": frozenset({"0000"}),
    "naga": frozenset({"200"}),
    "buffalo": frozenset({"OK"}),
}


def vp_rollback_codes() -> frozenset[str]:
    """A rollback of a settled round: it stands (2003) unless the server reverses rounds."""
    reverses = vp_config.rollback_settled_policy() == SettledRoundPolicy.REVERSE
    return frozenset({"0000"}) if reverses else frozenset({"2003"})


class RequestFactory:
    """Builds each provider's balance, bet, settle and cancel requests for seeded players."""

    def __init__(self, players: Players, host: str) -> None:
        self.players = players
        self.host = host
        self.ts = int(time.time() * 1000)
        self._uuid = 0

    # --- plumbing -----------------------------------------------------------------------------

    def _prepared(
        self,
        provider: str,
        action: str,
        payload: Payload,
        *,
        function: str = "",
        accept: frozenset[str] | None = None,
        key: str = "",
    ) -> Prepared:
        build = builder_for(provider)

        def signed() -> bytes:
            return frame(build(payload, function=function), self.host)

        return Prepared(
            provider=provider,
            action=action,
            raw=signed(),
            accept=accept if accept is not None else _OK[provider],
            retry=RETRY_CODES[provider],
            rebuild=signed if provider == "vp" else None,
            key=key,
        )

    def _next_uuid(self) -> str:
        self._uuid += 1
        return f"{self.players.tag}-u{self._uuid}"

    def _naga_codes(self) -> dict[str, str]:
        return {"groupCode": naga_config.group_code(), "brandCode": naga_config.brand_code()}

    def _buffalo_base(self, slot: int) -> Payload:
        return {
            "sid": self.players.token("buffalo", slot),
            "userId": self.players.account(slot),
            "uuid": self._next_uuid(),
            "currency": CURRENCY,
        }

    # --- balance ------------------------------------------------------------------------------

    def balance(self, provider: str, slot: int) -> Prepared:
        account = self.players.account(slot)
        if provider == "jdb":
            payload: Payload = {
                "action": 6,
                "ts": self.ts,
                "uid": account,
                "currency": CURRENCY,
                "gType": 0,
                "mType": 7001,
            }
            return self._prepared("jdb", "balance", payload)
        if provider == "vp":
            payload = {"action": "balance", "uid": account, "currency": CURRENCY, "brand": "VP"}
            return self._prepared("vp", "balance", payload)
        if provider == "naga":
            payload = {
                "playerToken": self.players.token("naga", slot),
                "gameCode": "loadtest",
                **self._naga_codes(),
            }
            return self._prepared("naga", "balance", payload, function="balance")
        return self._prepared("buffalo", "balance", self._buffalo_base(slot), function="balance")

    # --- a bet and its settle -----------------------------------------------------------------

    def bet_and_settle(self, provider: str, key: str, n: int, slot: int) -> Flow:
        """The provider's way of taking a stake and paying its win: two calls, or one (VP)."""
        account, stake, win = self.players.account(slot), stake_of(n), win_of(n)
        if provider == "jdb":
            common = {"ts": self.ts, "uid": account, "currency": CURRENCY}
            bet = {
                "action": 9,
                "transferId": key,
                "amount": stake,
                "gameRoundSeqNo": n,
                "gType": 0,
                "mType": 7001,
                **common,
            }
            settle = {
                "action": 10,
                "transferId": f"{key}s",
                "amount": win,
                "refTransferIds": [key],
                "roundClosed": True,
                "gType": 0,
                "mType": 7001,
                **common,
            }
            return [
                self._prepared("jdb", "bet", bet),
                self._prepared("jdb", "settle", settle),
            ]
        if provider == "vp":
            return [self._prepared("vp", "betNSettle", _vp_bet(account, key, stake, win))]
        if provider == "naga":
            token = self.players.token("naga", slot)
            return [
                self._prepared(
                    "naga",
                    "place-bet",
                    self._naga_money(key, f"{key}b", stake, token),
                    function="place-bet",
                ),
                self._prepared(
                    "naga",
                    "payout",
                    self._naga_money(key, f"{key}p", win, token),
                    function="payout",
                ),
            ]
        debit = self._buffalo_tx(slot, key, f"{key}d", stake)
        credit = self._buffalo_tx(slot, key, f"{key}w", win)
        return [
            self._prepared("buffalo", "debit", debit, function="debit"),
            self._prepared("buffalo", "credit", credit, function="credit"),
        ]

    def _naga_money(self, key: str, tx: str, amount: Decimal, token: str) -> Payload:
        # Naga's field order (the dataHash is computed over it as sent).
        return {
            "betId": key,
            "currency": CURRENCY,
            "gameCode": "loadtest",
            "playerToken": token,
            "groupCode": naga_config.group_code(),
            "transactionId": tx,
            "amount": amount,
            "parentBetId": None,
            "brandCode": naga_config.brand_code(),
        }

    def _buffalo_tx(self, slot: int, key: str, tx: str, amount: Decimal) -> Payload:
        return {
            **self._buffalo_base(slot),
            "game": {"id": f"round-{key}", "type": "slots", "session": f"gs-{slot}"},
            "transaction": {"id": tx, "refId": key, "amount": amount},
        }

    # --- cancels ------------------------------------------------------------------------------

    def cancel(
        self, provider: str, key: str, n: int, slot: int, *, repeat: bool = False
    ) -> Prepared:
        """The provider's cancel of seeded bet ``n`` (VP: a rollback of a settled round).

        ``repeat`` marks a resend; it is built anew (a fresh VP nonce, a new Buffalo uuid), as a
        provider's retry would be. Buffalo answers a repeat ``BET_ALREADY_SETTLED`` (its file),
        and with two copies in flight either may be the first, so both codes are accepted.
        """
        account, stake = self.players.account(slot), stake_of(n)
        action = "cancel (repeat)" if repeat else "cancel"
        if provider == "jdb":
            payload: Payload = {
                "action": 11,
                "ts": self.ts,
                "transferId": f"{key}c",
                "uid": account,
                "currency": CURRENCY,
                "amount": stake,
                "refTransferIds": [key],
                "gType": 0,
                "mType": 7001,
            }
            return self._prepared("jdb", action, payload, key=key)
        if provider == "vp":
            payload = {
                "action": "rollback",
                "uid": account,
                "roundId": f"round-{key}",
                "betId": key,
                "brand": "VP",
                "gameCode": "VP_loadtest",
            }
            return self._prepared("vp", action, payload, accept=vp_rollback_codes(), key=key)
        if provider == "naga":
            payload = {
                "betId": key,
                "playerToken": self.players.token("naga", slot),
                **self._naga_codes(),
            }
            return self._prepared("naga", action, payload, function="cancel-bet", key=key)
        payload = self._buffalo_tx(slot, key, f"{key}c", stake)
        return self._prepared(
            "buffalo",
            action,
            payload,
            function="cancel",
            accept=frozenset({"OK", "BET_ALREADY_SETTLED"}),
            key=key,
        )


def _vp_bet(account: str, key: str, stake: Decimal, win: Decimal) -> Payload:
    return {
        "action": "betNSettle",
        "uid": account,
        "roundId": f"round-{key}",
        "betId": key,
        "brand": "VP",
        "currency": CURRENCY,
        "gameCode": "VP_loadtest",
        "gameInfo": json.dumps({"featureBuy": 0}),
        "actualBetAmt": stake,
        "validBetAmt": stake,
        "winAmt": win,
    }
