"""Typed results of the wallet services, which each provider adapter maps to its own codes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wallet.models import Bet


class Outcome(StrEnum):
    # Money moved (or, for a balance, was read) as asked.
    OK = "ok"
    # Cancel outcomes that close the matter for the provider.
    CANCELLED = "cancelled"  # an open bet's stored stake was refunded
    REVERSED = "reversed"  # a settled bet-and-settle round was reversed (policy "reverse")
    KEPT = "kept"  # a settled bet-and-settle round stands ("established")
    TOMBSTONED = "tombstoned"  # unknown bet: a tombstone now refuses it if it arrives
    NOTHING_TO_UNDO = "nothing_to_undo"  # the bet had been refused: no money to return
    # Refusals: no money moved.
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PLAYER_BLOCKED = "player_blocked"
    BET_CANCELLED = "bet_cancelled"  # the bet (or its settle) came after its cancel
    BET_NOT_FOUND = "bet_not_found"  # a settle for a bet we never took
    ALREADY_SETTLED = "already_settled"  # a cancel (or another settle) after the bet was paid
    MISMATCH = "mismatch"  # an id reused with other content (amount, player, bet)
    AMOUNT_MISMATCH = "amount_mismatch"  # a cancel's amount differs from the stored stake
    PLAYER_NOT_FOUND = "player_not_found"
    WRONG_CURRENCY = "wrong_currency"
    # A credit would take the balance (or a bet's win) past the largest the column holds.
    BALANCE_LIMIT = "balance_limit"
    BUSY = "busy"  # lock wait exceeded or transient database failure: nothing done, retry


class SettledRoundPolicy(StrEnum):
    """What a cancel does to a settled bet-and-settle round (common.md, cancel rule 4)."""

    KEEP = "keep"
    REVERSE = "reverse"


@dataclass(frozen=True, slots=True)
class WalletResult:
    """What a wallet service decided.

    ``replay`` is true when the request repeated one already decided: nothing moved now and
    ``outcome`` is the first decision. ``balance`` is the wallet's balance after the call (None
    when no wallet is known). ``bet`` is the bet the request was about, when there is one.
    """

    outcome: Outcome
    balance: Decimal | None = None
    currency: str = ""
    bet: Bet | None = None
    replay: bool = False
    message: str = ""
