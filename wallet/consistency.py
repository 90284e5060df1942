"""The ledger consistency check: balances equal their rows, and bet states agree with them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery

from wallet.exact_sums import money_sum, money_value
from wallet.models import Bet, BetState, LedgerEntry, LedgerKind, Wallet


@dataclass(frozen=True)
class Problem:
    what: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.what}: {self.subject}: {self.detail}"


@dataclass(frozen=True)
class LedgerReport:
    wallets_checked: int
    bets_checked: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_ledger(*, max_problems: int = 1000) -> LedgerReport:
    """Verify every wallet and every bet against the ledger; collect up to ``max_problems``."""
    problems: list[Problem] = []
    wallets = 0
    for problem_or_none in _wallet_problems():
        wallets += 1
        if problem_or_none and len(problems) < max_problems:
            problems.append(problem_or_none)
    bets = 0
    for problem_or_none in _bet_problems():
        bets += 1
        if problem_or_none and len(problems) < max_problems:
            problems.append(problem_or_none)
    return LedgerReport(wallets, bets, problems)


def _wallet_problems() -> Iterator[Problem | None]:
    last_after = LedgerEntry.objects.filter(wallet=OuterRef("pk")).order_by("-id")
    rows = Wallet.objects.annotate(
        total=money_sum("entries__amount"),
        last=Subquery(last_after.values("balance_after")[:1]),
    ).values_list("player__account_id", "currency", "balance", "total", "last")
    for account_id, currency, balance, raw_total, last in rows.iterator(chunk_size=2000):
        total = money_value(raw_total)
        subject = f"wallet {account_id} {currency}"
        if balance != total:
            yield Problem("balance differs from its ledger", subject, f"{balance} != {total}")
        elif last is not None and last != balance:
            yield Problem("last balance_after differs", subject, f"{last} != {balance}")
        elif balance < 0:
            yield Problem("negative balance", subject, str(balance))
        else:
            yield None


def expected_net(bet: Bet) -> Decimal:
    """What a bet in its state must have moved in total: the stake out, its wins in."""
    if bet.state == BetState.OPEN:
        return -bet.stake + bet.win  # a round left open after a partial settle keeps its win
    if bet.state == BetState.SETTLED:
        return bet.win - bet.stake
    return Decimal(0)  # cancelled (refunded or reversed), refused, tombstone


def _bet_problems() -> Iterator[Problem | None]:
    bets = Bet.objects.annotate(
        raw_net=money_sum("entries__amount"),
        stakes=Count("entries", filter=Q(entries__kind=LedgerKind.STAKE)),
    ).only("pk", "provider", "bet_key", "state", "stake", "win")
    for bet in bets.iterator(chunk_size=2000):
        subject = f"bet {bet.provider}:{bet.bet_key} ({bet.state})"
        moves_money = bet.state in (BetState.OPEN, BetState.SETTLED, BetState.CANCELLED)
        if bet.stakes != (1 if moves_money else 0):  # type: ignore[attr-defined]
            yield Problem("wrong number of stake rows", subject, str(bet.stakes))  # type: ignore[attr-defined]
            continue
        expected = expected_net(bet)
        net = money_value(bet.raw_net)  # type: ignore[attr-defined]
        if net != expected:
            yield Problem("ledger rows disagree with state", subject, f"{net} != {expected}")
            continue
        yield None
