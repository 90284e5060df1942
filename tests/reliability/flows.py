"""The four providers as five game flows, built exactly as each provider sends them.

A flow is one provider's way to open, settle and cancel a bet:

- ``jdb8``: JDB Action 8 (bet and settle in one call), cancelled by Action 4;
- ``jdb9``: JDB Action 9 (debit), settled by Action 10, cancelled by Action 11;
- ``vp``: VP ``betNSettle``/``retryBet``, cancelled by ``rollback``;
- ``naga``: Naga ``place-bet``, ``payout``, ``cancel-bet``;
- ``buffalo``: Buffalo ``debit``, ``credit``, ``cancel``.

A ``Call`` is the plain payload; it is encrypted or signed only when sent (``Call.signed``), so
that a resend of a VP callback carries fresh signature headers as VP's own retries do. Answers
are read into one shape (``Answer``): the provider's code as text and the balance it shows.
The expected codes per situation are the providers' tables in ``docs/providers/``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from providers.client_base import SignedRequest, builder_for

D = Decimal
TS = 1_700_000_000_000
JDB_CURRENCY = {"CNY": "RB", "MYR": "RM"}  # tests/conftest.py JDB_CURRENCY_MAP; ISO passes


@dataclass(frozen=True)
class Gambler:
    """A player as every provider addresses them."""

    account_id: str
    currency: str
    naga_token: str = ""
    buffalo_sid: str = ""


@dataclass(frozen=True)
class Call:
    """One provider request before encryption/signing: provider, URL function, payload."""

    provider: str
    function: str
    payload: dict[str, Any]
    kind: str = ""  # "open", "settle", "cancel" (what the test meant; not sent)
    flow: str = ""

    def signed(self) -> SignedRequest:
        return builder_for(self.provider)(self.payload, function=self.function)


@dataclass(frozen=True)
class Answer:
    """What came back, read the same way for every provider."""

    http_status: int
    body: Any
    code: str
    balance: Decimal | None
    content_type: str = "application/json"


def read_answer(provider: str, http_status: int, raw: bytes, content_type: str = "") -> Answer:
    """Parse a provider answer (numbers as exact Decimals) and pick out its code and balance."""
    body = json.loads(raw, parse_float=Decimal) if raw else None
    code, shown = "", None
    if isinstance(body, dict):
        if provider == "naga":
            error = body.get("error")
            data = body.get("data")
            code = "200" if error is None else f"{http_status} {error.get('message', '')}"
            if isinstance(data, dict) and "balance" in data:
                shown = data["balance"]
        else:
            code = str(body.get("status", ""))
            if "balance" in body:
                shown = D(body["balance"]) if isinstance(body["balance"], str) else body["balance"]
    return Answer(http_status, body, code, shown, content_type)


class Situation(StrEnum):
    """What a request meets on our side, in the words of common.md and the provider files."""

    APPLIED = "applied"  # a bet taken (or a settle paid)
    INSUFFICIENT = "insufficient"  # a bet refused for the balance
    AFTER_CANCEL = "after_cancel"  # a bet or settle after its cancel (tombstone or cancelled)
    REUSED = "reused"  # a bet key reused with other content
    UNKNOWN = "unknown"  # a settle for a bet we never took; a cancel of an unknown bet
    SECOND_SETTLE = "second_settle"  # another settle id for a settled bet
    REPEAT = "repeat"  # a settle repeated (same id, same amount)
    CANCELLED_OPEN = "cancelled_open"  # a cancel refunding an open debit
    ROUND_STANDS = "round_stands"  # a cancel of a settled bet-and-settle round, kept
    ROUND_REVERSED = "round_reversed"  # ... reversed (policy "reverse")
    NOTHING_TO_UNDO = "nothing_to_undo"  # a cancel of a refused bet
    AFTER_PAYOUT = "after_payout"  # a cancel of a debit already paid out
    AMOUNT_MISMATCH = "amount_mismatch"  # a cancel whose amount is not the stored stake
    OTHER_PLAYER = "other_player"  # a settle or cancel naming another player than the bet's


S = Situation

#: The provider's answer code for each situation of a first request (provider files' tables).
#: Naga codes are "HTTP-status message". Repeats of an open or a cancel are answered like the
#: first request, except Buffalo (Evolution's convention): see ``REPEAT_CODES``.
CODES: dict[str, dict[str, dict[Situation, str]]] = {
    "jdb8": {
        "open": {
            S.APPLIED: "0000",
            S.INSUFFICIENT: "6006",
            S.AFTER_CANCEL: "9015",
            S.REUSED: "9011",
        },
        "cancel": {
            S.ROUND_STANDS: "6101",
            S.ROUND_REVERSED: "0000",
            S.UNKNOWN: "0000",
            S.NOTHING_TO_UNDO: "0000",
            # Another player's round: 6101 while it stands (the model picks ROUND_STANDS).
            S.OTHER_PLAYER: "9011",
        },
    },
    "jdb9": {
        "open": {
            S.APPLIED: "0000",
            S.INSUFFICIENT: "6006",
            S.AFTER_CANCEL: "9015",
            S.REUSED: "9011",
        },
        "settle": {
            S.APPLIED: "0000",
            S.REPEAT: "0000",
            S.UNKNOWN: "9015",
            S.AFTER_CANCEL: "9015",
            S.SECOND_SETTLE: "9999",  # [ours]: refused and flagged; JDB retries while staff look
            S.OTHER_PLAYER: "9011",
        },
        "cancel": {
            S.CANCELLED_OPEN: "0000",
            S.UNKNOWN: "0000",
            S.NOTHING_TO_UNDO: "0000",
            S.AFTER_PAYOUT: "9999",
            S.AMOUNT_MISMATCH: "8000",
            S.OTHER_PLAYER: "9011",
        },
    },
    "vp": {
        "open": {
            S.APPLIED: "0000",
            S.INSUFFICIENT: "1006",
            S.AFTER_CANCEL: "1006",
            S.REUSED: "9999",
        },
        "cancel": {
            S.ROUND_STANDS: "2003",
            S.ROUND_REVERSED: "0000",
            S.UNKNOWN: "0000",
            S.NOTHING_TO_UNDO: "0000",
            S.OTHER_PLAYER: "9999",
        },
    },
    "naga": {
        "open": {
            S.APPLIED: "200",
            S.INSUFFICIENT: "400 Insufficient balance",
            S.AFTER_CANCEL: "400 Bet canceled",
            S.REUSED: "409 Duplicate bet",
        },
        "settle": {
            S.APPLIED: "200",
            S.REPEAT: "200",
            S.UNKNOWN: "404 Transaction Not Found",
            S.AFTER_CANCEL: "400 Bet canceled",
            S.SECOND_SETTLE: "400 Transaction Seamless Already Resolved",
            S.OTHER_PLAYER: "409 Duplicate bet",
        },
        "cancel": {
            S.CANCELLED_OPEN: "200",
            S.UNKNOWN: "200",
            S.NOTHING_TO_UNDO: "200",
            S.AFTER_PAYOUT: "400 Transaction Seamless Already Resolved",
            S.OTHER_PLAYER: "409 Duplicate bet",
        },
    },
    "buffalo": {
        "open": {
            S.APPLIED: "OK",
            S.INSUFFICIENT: "INSUFFICIENT_FUNDS",
            S.AFTER_CANCEL: "BET_ALREADY_SETTLED",
            S.REUSED: "INVALID_PARAMETER",
        },
        "settle": {
            S.APPLIED: "OK",
            S.REPEAT: "BET_ALREADY_SETTLED",
            S.UNKNOWN: "BET_DOES_NOT_EXIST",
            S.AFTER_CANCEL: "BET_ALREADY_SETTLED",
            S.SECOND_SETTLE: "BET_ALREADY_SETTLED",
            S.OTHER_PLAYER: "INVALID_PARAMETER",
        },
        "cancel": {
            S.CANCELLED_OPEN: "OK",
            S.UNKNOWN: "BET_DOES_NOT_EXIST",
            S.NOTHING_TO_UNDO: "OK",
            S.AFTER_PAYOUT: "BET_ALREADY_SETTLED",
            S.AMOUNT_MISMATCH: "INVALID_PARAMETER",
            S.OTHER_PLAYER: "INVALID_PARAMETER",
        },
    },
}

#: Buffalo answers repeats as Evolution does: a repeated accepted debit is BET_ALREADY_EXIST,
#: a repeated cancel BET_ALREADY_SETTLED (a tombstone's repeat is still BET_DOES_NOT_EXIST).
REPEAT_CODES: dict[str, dict[str, dict[Situation, str]]] = {
    "buffalo": {
        "open": {S.APPLIED: "BET_ALREADY_EXIST"},
        "cancel": {
            S.CANCELLED_OPEN: "BET_ALREADY_SETTLED",
            S.NOTHING_TO_UNDO: "BET_ALREADY_SETTLED",
            S.ROUND_REVERSED: "BET_ALREADY_SETTLED",
        },
    },
}

#: The "try again" code of each provider (lock wait exceeded, a transient failure).
RETRY_CODES = {
    "jdb": {"9017", "9999"},
    "vp": {"9999"},
    "naga": {"503 Temporarily unavailable"},
    "buffalo": {"TEMPORARY_ERROR"},
}

#: Every code each provider may answer (the provider files' status tables).
DOCUMENTED_CODES = {
    "jdb": {"0000", "6006", "6101", "9017", "7501", "8000", "9001", "9011", "9015", "9999"},
    "vp": {"0000", "1006", "2000", "2003", "9999"},
    "buffalo": {
        "OK",
        "TEMPORARY_ERROR",
        "INVALID_TOKEN_ID",
        "INVALID_SID",
        "ACCOUNT_LOCKED",
        "UNKNOWN_ERROR",
        "INVALID_PARAMETER",
        "BET_DOES_NOT_EXIST",
        "BET_ALREADY_EXIST",
        "BET_ALREADY_SETTLED",
        "INSUFFICIENT_FUNDS",
    },
    # Naga: HTTP status = statusCode; the messages of naga.md's answer table.
    "naga": {
        "200",
        "400 Insufficient balance",
        "400 Bet canceled",
        "400 Transaction Seamless Already Resolved",
        "401 Invalid player token",
        "401 Invalid signature",
        "404 Transaction Not Found",
        "409 Duplicate bet",
        "503 Temporarily unavailable",
        # Not in naga.md's table (it is silent on these cases); the adapter's own choices.
        "403 Player blocked",
        "403 Forbidden",
        "404 Unknown function",
        "413 Payload too large",
    },
}


def documented(provider: str, answer: Answer) -> bool:
    """Is the answer one the provider's file lists? (Naga's 400 names the bad field.)"""
    if provider == "naga" and answer.code.startswith("400 Invalid parameters"):
        return answer.http_status == 400
    if provider == "naga":
        expected_status = answer.code.split(" ", 1)[0]
        if str(answer.http_status) != expected_status:
            return False
    return answer.code in DOCUMENTED_CODES[provider]


def expected_code(flow: str, kind: str, situation: Situation, *, repeat: bool = False) -> str:
    if repeat:
        special = REPEAT_CODES.get(flow, {}).get(kind, {}).get(situation)
        if special is not None:
            return special
    return CODES[flow][kind][situation]


FLOW_PROVIDER = {"jdb8": "jdb", "jdb9": "jdb", "vp": "vp", "naga": "naga", "buffalo": "buffalo"}
BET_AND_SETTLE_FLOWS = frozenset({"jdb8", "vp"})
#: Decimal places of the amounts each flow sends (Naga's Decimal(20,2); Buffalo up to 6).
AMOUNT_PLACES = {"jdb8": 2, "jdb9": 2, "vp": 2, "naga": 2, "buffalo": 6}
#: Decimal places of the balance each provider shows (rounded down).
BALANCE_PLACES = {"jdb": 2, "vp": 2, "naga": 2, "buffalo": 6}

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


@dataclass
class Flows:
    """Builds each flow's calls. Bet keys are given by the caller (``key``); JDB keys are ints."""

    game: str = "G-rel"
    naga_group: str = "TGRP"  # tests/conftest.py
    naga_brand: str = "TBRD"
    round_tag: str = field(default_factory=lambda: unique("round"))

    # --- opening ---------------------------------------------------------------------------

    def open(self, flow: str, who: Gambler, key: str, stake: Decimal, win: Decimal) -> Call:
        """The bet (``win`` is used by the bet-and-settle flows only)."""
        if flow == "jdb8":
            payload = self._jdb(
                8, who, transferId=int(key), bet=-stake, win=win, netWin=win - stake
            )
            payload.update(historyId=f"H{key}", gameSeqNo=int(key) * 10, reportDate="01-01-2026")
            return Call("jdb", "", payload, "open", flow)
        if flow == "jdb9":
            payload = self._jdb(9, who, transferId=int(key), amount=stake)
            payload["gameRoundSeqNo"] = int(key) * 10
            return Call("jdb", "", payload, "open", flow)
        if flow == "vp":
            return Call("vp", "", self._vp_bet(who, key, stake, win), "open", flow)
        if flow == "naga":
            data = self._naga_money(who, key, f"pb-{key}", stake)
            return Call("naga", "place-bet", data, "open", flow)
        if flow == "buffalo":
            return Call(
                "buffalo", "debit", self._buffalo(who, key, f"d-{key}", stake), "open", flow
            )
        raise ValueError(flow)

    def settle(self, flow: str, who: Gambler, key: str, tx: str, amount: Decimal) -> Call:
        """A settle (debit flows): ``tx`` is the settle's own transaction id."""
        if flow == "jdb9":
            payload = self._jdb(
                10, who, transferId=int(tx), amount=amount, refTransferIds=[int(key)]
            )
            payload["roundClosed"] = True
            return Call("jdb", "", payload, "settle", flow)
        if flow == "naga":
            data = self._naga_money(who, key, tx, amount)
            return Call("naga", "payout", data, "settle", flow)
        if flow == "buffalo":
            return Call("buffalo", "credit", self._buffalo(who, key, tx, amount), "settle", flow)
        raise ValueError(f"{flow} has no separate settle")

    def cancel(self, flow: str, who: Gambler, key: str, tx: str, amount: Decimal) -> Call:
        """A cancel; ``amount`` is sent by the flows whose cancel carries one (JDB 11, Buffalo)."""
        if flow == "jdb8":
            payload = self._jdb(4, who, transferId=int(key), historyId=f"H{key}")
            return Call("jdb", "", payload, "cancel", flow)
        if flow == "jdb9":
            payload = self._jdb(
                11, who, transferId=int(tx), amount=amount, refTransferIds=[int(key)]
            )
            return Call("jdb", "", payload, "cancel", flow)
        if flow == "vp":
            payload = {
                "action": "rollback",
                "uid": who.account_id,
                "roundId": f"{self.round_tag}-{key}",
                "transferId": f"tr-{key}",
                "betId": key,
                "brand": "VP",
                "gameCode": self.game,
            }
            return Call("vp", "", payload, "cancel", flow)
        if flow == "naga":
            data: dict[str, Any] = {"betId": key}
            if who.naga_token:
                data["playerToken"] = who.naga_token
            return Call("naga", "cancel-bet", data, "cancel", flow)
        if flow == "buffalo":
            # Like Evolution, Buffalo repeats the debit's own transaction id on its cancel.
            return Call(
                "buffalo", "cancel", self._buffalo(who, key, f"d-{key}", amount), "cancel", flow
            )
        raise ValueError(flow)

    # --- payload shapes ------------------------------------------------------------------------

    @staticmethod
    def _jdb(action: int, who: Gambler, **fields_: Any) -> dict[str, Any]:
        return {
            "action": action,
            "ts": TS,
            "uid": who.account_id,
            "currency": JDB_CURRENCY.get(who.currency, who.currency),
            "gType": 0,
            "mType": 8001,
            **fields_,
        }

    def _vp_bet(self, who: Gambler, key: str, stake: Decimal, win: Decimal) -> dict[str, Any]:
        return {
            "action": "betNSettle",
            "uid": who.account_id,
            "roundId": f"{self.round_tag}-{key}",
            "transferId": f"tr-{key}",
            "betId": key,
            "brand": "VP",
            "currency": who.currency,
            "gameCode": self.game,
            "betTime": "2026-01-01T10:00:00.000Z",
            "txTime": "2026-01-01T10:00:00.100Z",
            "gameInfo": '{"featureBuy":0,"cardType":1}',
            "actualBetAmt": stake,
            "validBetAmt": stake,
            "winAmt": win,
            "jackpotWin": D(0),
            "jackpotContribute": D(0),
            "betSourceId": "rel",
        }

    def _naga_money(self, who: Gambler, key: str, tx: str, amount: Decimal) -> dict[str, Any]:
        return {
            "betId": key,
            "currency": who.currency,
            "gameCode": self.game,
            "playerToken": who.naga_token,
            "groupCode": self.naga_group,
            "transactionId": tx,
            "amount": amount,
            "parentBetId": None,
            "brandCode": self.naga_brand,
        }

    def _buffalo(self, who: Gambler, key: str, tx: str, amount: Decimal) -> dict[str, Any]:
        return {
            "sid": who.buffalo_sid,
            "userId": who.account_id,
            "currency": who.currency,
            "game": {"id": f"{self.round_tag}-{key}", "type": "slots", "session": "gs-1"},
            "transaction": {"id": tx, "refId": key, "amount": amount},
            "uuid": unique("uuid"),
        }
