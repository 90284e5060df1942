"""The services that move players' money for provider calls: open, settle, cancel.

Each is one database transaction that locks the bet row(s) first, then the wallet row, and
returns a typed ``WalletResult``. Idempotency rests on unique constraints (``bet_key_unique``,
``ledger_provider_tx_once``, ``ledger_bet_once``), never on "check, then insert" alone.
The rules implemented are the wallet semantics every provider shares (``docs/providers/``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from wallet.db import hot_sql
from wallet.db.held_commit import money_transaction
from wallet.db.rows import (
    field_value,
    flag,
    insert_bet_and_debit,
    insert_bet_if_absent,
    lock_bet_with_owner,
    lock_bets,
    lock_or_insert_bet,
    lock_wallet,
    move_money,
    refund_open_bet,
    save_bet,
    select_with_player_sql,
    with_player_from_row,
)
from wallet.models import Bet, BetKind, BetState, LedgerEntry, LedgerKind, Player, Wallet
from wallet.services.busy import busy_on_lock_timeout
from wallet.services.outcomes import Outcome, SettledRoundPolicy, WalletResult

ZERO = Decimal(0)


# --- lookups ------------------------------------------------------------------------------------


def _find_wallet(account_id: str, currency: str) -> Wallet | WalletResult:
    # Every balance call and every bet starts here: one prepared statement, not a query the ORM
    # compiles on every call.
    sql = select_with_player_sql(Wallet, "p.account_id", "x.currency")  # one at most: unique
    row = hot_sql.fetch_one(sql, [account_id, currency])
    if row is not None:
        return with_player_from_row(Wallet, row)
    if Player.objects.filter(account_id=account_id).exists():
        return WalletResult(Outcome.WRONG_CURRENCY, message=f"player has no {currency} wallet")
    return WalletResult(Outcome.PLAYER_NOT_FOUND, message=f"unknown player {account_id!r}")


_BALANCE_SQL = f'SELECT balance FROM "{Wallet._meta.db_table}" WHERE id = %s'  # noqa: S608


def _current_balance(wallet_id: int | None) -> Decimal | None:
    # The answer to every repeated cancel or settle and every refusal: a prepared statement,
    # not a query the ORM compiles each time.
    if wallet_id is None:
        return None
    row = hot_sql.fetch_one(_BALANCE_SQL, [wallet_id])
    if row is None:
        raise Wallet.DoesNotExist(f"wallet {wallet_id} does not exist")
    balance: Decimal = field_value(Wallet, "balance", row[0])
    return balance


def _balance_of_player(player_id: int | None, currency: str | None) -> tuple[Decimal | None, str]:
    """The balance to show in an answer about a bet we do not hold (tombstones, unknown bets)."""
    if player_id is None:
        return None, currency or ""
    wallets = Wallet.objects.filter(player_id=player_id)
    if currency:
        wallets = wallets.filter(currency=currency)
    row = wallets.order_by("id").values_list("balance", "currency").first()
    return (row[0], row[1]) if row else (None, currency or "")


def wallet_balance(*, account_id: str, currency: str) -> WalletResult:
    """Read a player's balance (no lock: a balance answer needs no serialisation)."""
    found = _find_wallet(account_id, currency)
    if isinstance(found, WalletResult):
        return found
    return WalletResult(Outcome.OK, balance=found.balance, currency=found.currency)


# --- opening a bet (debit, or bet-and-settle) -------------------------------------------------


@busy_on_lock_timeout
def bet_open(
    *,
    provider: str,
    bet_key: str,
    tx_id: str,
    account_id: str,
    currency: str,
    amount: Decimal,
    round_id: str = "",
    game_code: str = "",
    details: dict[str, Any] | None = None,
) -> WalletResult:
    """Debit a stake and open a bet that a later settle or cancel closes."""
    return _open(
        provider=provider,
        bet_key=bet_key,
        tx_id=tx_id,
        account_id=account_id,
        currency=currency,
        stake=amount,
        win=None,
        round_id=round_id,
        game_code=game_code,
        details=details,
        required_balance=None,
    )


@busy_on_lock_timeout
def bet_place_and_settle(
    *,
    provider: str,
    bet_key: str,
    tx_id: str,
    account_id: str,
    currency: str,
    stake: Decimal,
    win: Decimal,
    round_id: str = "",
    game_code: str = "",
    details: dict[str, Any] | None = None,
    required_balance: Decimal | None = None,
) -> WalletResult:
    """Take a stake and pay its win in one call (JDB Action 8, VP betNSettle/retryBet).

    Refused when the balance is below the stake (or below ``required_balance``, JDB's ``mb``).
    A zero stake (a VP operator-card spin) never fails for lack of balance.
    """
    return _open(
        provider=provider,
        bet_key=bet_key,
        tx_id=tx_id,
        account_id=account_id,
        currency=currency,
        stake=stake,
        win=win,
        round_id=round_id,
        game_code=game_code,
        details=details,
        required_balance=required_balance,
    )


def _open(
    *,
    provider: str,
    bet_key: str,
    tx_id: str,
    account_id: str,
    currency: str,
    stake: Decimal,
    win: Decimal | None,
    round_id: str,
    game_code: str,
    details: dict[str, Any] | None,
    required_balance: Decimal | None,
) -> WalletResult:
    found = _find_wallet(account_id, currency)
    if isinstance(found, WalletResult):
        return found
    wallet = found
    settles_now = win is not None
    now = timezone.now()
    # The row is written as if accepted; a refusal below rewrites its state. That keeps the
    # happy path to one INSERT for the bet.
    template = Bet(
        provider=provider,
        bet_key=bet_key,
        round_id=round_id,
        game_code=game_code,
        kind=BetKind.BET_AND_SETTLE if settles_now else BetKind.DEBIT,
        player=wallet.player,
        wallet=wallet,
        currency=currency,
        stake=stake,
        win=win or ZERO,
        state=BetState.SETTLED if settles_now else BetState.OPEN,
        settled_at=now if settles_now else None,
        open_tx_id=tx_id,
        open_outcome=Outcome.OK,
        details=details or {},
    )
    try:
        with money_transaction():
            refusal = _refusal(wallet.player)
            if refusal is None:
                minimum = stake if required_balance is None else max(stake, required_balance)
                inserted, taken = insert_bet_and_debit(template, wallet, stake, minimum=minimum)
                if inserted and taken is None:
                    refusal = Outcome.INSUFFICIENT_FUNDS
            else:
                inserted = insert_bet_if_absent(template)
            if not inserted:
                existing = Bet.objects.select_for_update().get(provider=provider, bet_key=bet_key)
                return _repeat_of_open(existing, template)
            if refusal is not None:
                template.state = BetState.REFUSED
                template.settled_at = None
                template.open_outcome = refusal
                save_bet(template, "state", "settled_at", "open_outcome")
                return WalletResult(refusal, _current_balance(wallet.pk), currency, template)
            if win is not None:
                move_money(
                    wallet,
                    win,
                    kind=LedgerKind.WIN,
                    bet=template,
                    provider=provider,
                    provider_tx_id=tx_id,
                )
            return WalletResult(Outcome.OK, wallet.balance, currency, template)
    except IntegrityError:
        # The transaction id already moved money for another bet: an id reused with other
        # content. Everything above rolled back; nothing moved.
        return WalletResult(
            Outcome.MISMATCH,
            _current_balance(wallet.pk),
            currency,
            message=f"transaction id {tx_id!r} was already used for another bet",
        )


def _refusal(player: Player) -> Outcome | None:
    """Why this player may not bet at all (the funds are checked with the debit itself)."""
    if player.status == Player.Status.BLOCKED:
        return Outcome.PLAYER_BLOCKED
    return None


def _same_opening(bet: Bet, asked: Bet) -> bool:
    return (
        bet.open_tx_id == asked.open_tx_id
        and bet.player_id == asked.player_id
        and bet.currency == asked.currency
        and bet.kind == asked.kind
        and bet.stake == asked.stake
        and (bet.kind == BetKind.DEBIT or bet.win == asked.win)
        and (not bet.round_id or not asked.round_id or bet.round_id == asked.round_id)
    )


def _repeat_of_open(bet: Bet, asked: Bet) -> WalletResult:
    """A bet key we already hold: the late bet of a tombstone, a repeat, or a reused key."""
    if bet.state == BetState.TOMBSTONE:
        if bet.late_arrival_at is None:
            bet.late_arrival_at = timezone.now()
            bet.details = {
                **bet.details,
                "late_bet": {
                    "account_id": asked.player.account_id if asked.player else "",
                    "stake": str(asked.stake),
                    "win": str(asked.win),
                    "tx_id": asked.open_tx_id,
                },
            }
            flag(bet, "The bet arrived after its cancel; it was refused and no money moved.")
            save_bet(bet, "late_arrival_at", "details", "needs_review", "review_reason")
        return _answer(Outcome.BET_CANCELLED, asked.wallet_id, asked.currency, bet)
    # Refusals show the caller's balance: the key may belong to another player, whose balance
    # must not reach this caller's answer.
    if bet.state == BetState.CANCELLED:
        return _answer(Outcome.BET_CANCELLED, asked.wallet_id, asked.currency, bet)
    if not _same_opening(bet, asked):
        flag(bet, "The bet id was reused with other content (amount, player or round).")
        save_bet(bet, "needs_review", "review_reason")
        return _answer(Outcome.MISMATCH, asked.wallet_id, asked.currency, bet)
    return _answer(Outcome(bet.open_outcome), bet.wallet_id, bet.currency, bet, replay=True)


def _answer(
    outcome: Outcome,
    wallet_id: int | None,
    currency: str,
    bet: Bet | None,
    *,
    replay: bool = False,
) -> WalletResult:
    return WalletResult(outcome, _current_balance(wallet_id), currency, bet, replay=replay)


def _requester_answer(
    outcome: Outcome, player_id: int, currency: str | None, bet: Bet
) -> WalletResult:
    """An answer about another player's bet shows the caller's balance, never the owner's."""
    balance, cur = _balance_of_player(player_id, currency)
    return WalletResult(outcome, balance, cur, bet)


# --- settling (credit) ----------------------------------------------------------------------


@busy_on_lock_timeout
def bet_settle(
    *,
    provider: str,
    bet_keys: Sequence[str],
    tx_id: str,
    amount: Decimal,
    account_id: str | None = None,
    currency: str | None = None,
    round_closed: bool = True,
) -> WalletResult:
    """Credit a win (possibly 0: a loss) to the open bet(s) it settles.

    Several bets settled together get one credit, written on the first of them. With
    ``round_closed`` false the provider announced more settles for the same bets.
    """
    with money_transaction():
        bets, player_id = _lock_with_requester(provider, bet_keys, account_id)
        if isinstance(player_id, WalletResult):
            return player_id  # unknown player: nothing was written
        if not bets:
            balance, cur = _balance_of_player(player_id, currency)
            return WalletResult(Outcome.BET_NOT_FOUND, balance, cur, message="unknown bet")
        first = bets.get(bet_keys[0]) or next(iter(bets.values()))
        problem = _settle_problem(bets, bet_keys, tx_id, amount, player_id, currency)
        if problem is not None:
            return problem
        # A credit needs no balance check: its own UPDATE takes the wallet lock (after the bets).
        wallet = Wallet(pk=first.wallet_id, currency=first.currency)
        now = timezone.now()
        first.win += amount
        for bet in bets.values():
            bet.state = BetState.SETTLED
            bet.settled_at = now
            bet.more_settles_expected = not round_closed
        settled = ("state", "settled_at", "more_settles_expected", "win")
        # The first bet's UPDATE rides in the credit's statement; any other bet has its own.
        move_money(
            wallet,
            amount,
            kind=LedgerKind.WIN,
            bet=first,
            provider=provider,
            provider_tx_id=tx_id,
            bet_fields=settled,
        )
        for bet in bets.values():
            if bet is not first:
                save_bet(bet, *settled)
        return WalletResult(Outcome.OK, wallet.balance, wallet.currency, first)


# Settles and cancels of other players' bets start with these: fixed statements, not queries
# the ORM compiles each time.
_PLAYER_ID_SQL = f"SELECT id FROM {Player._meta.db_table} WHERE account_id = %s"  # noqa: S608 (unique)
# The partial unique index behind a win's idempotency covers non-empty ids only; saying so in
# the statement lets PostgreSQL use it in the prepared statement's generic plan too. Both texts
# are made once: psycopg reuses a statement's adaptation only when it is the same string.
_EARLIER_WIN_SQL = (
    f"SELECT bet_id, amount FROM {LedgerEntry._meta.db_table} "  # noqa: S608
    "WHERE provider = %s AND kind = 'win' AND provider_tx_id = %s{non_empty} ORDER BY id LIMIT 1"
)
_EARLIER_WIN_BY_ID_SQL = _EARLIER_WIN_SQL.format(non_empty=" AND provider_tx_id <> ''")
_EARLIER_WIN_WITHOUT_ID_SQL = _EARLIER_WIN_SQL.format(non_empty="")


def _player_id(account_id: str | None) -> int | WalletResult | None:
    if account_id is None:
        return None
    row = hot_sql.fetch_one(_PLAYER_ID_SQL, [account_id])
    if row is None:
        return WalletResult(Outcome.PLAYER_NOT_FOUND, message=f"unknown player {account_id!r}")
    player_id: int = row[0]
    return player_id


def _earlier_win(provider: str, tx_id: str) -> tuple[int | None, Decimal] | None:
    """The bet and amount of the win already credited under this settle id, if any."""
    sql = _EARLIER_WIN_BY_ID_SQL if tx_id else _EARLIER_WIN_WITHOUT_ID_SQL
    row = hot_sql.fetch_one(sql, [provider, tx_id])
    if row is None:
        return None
    return row[0], field_value(LedgerEntry, "amount", row[1])


def _settle_problem(
    bets: dict[str, Bet],
    bet_keys: Sequence[str],
    tx_id: str,
    amount: Decimal,
    player_id: int | None,
    currency: str | None,
) -> WalletResult | None:
    """Why this settle must not move money, or None when it may."""
    first = bets.get(bet_keys[0]) or next(iter(bets.values()))
    provider = first.provider

    def refuse(outcome: Outcome, reason: str | None, bet: Bet = first, **kw: Any) -> WalletResult:
        if reason:
            for each in bets.values():
                flag(each, reason)
                save_bet(each, "needs_review", "review_reason")
        return _answer(outcome, bet.wallet_id, bet.currency or currency or "", bet, **kw)

    earlier = _earlier_win(provider, tx_id)
    if earlier is not None:
        bet_ids = {bet.pk for bet in bets.values()}
        # A repeat must say what the first settle said: the same bets, amount, player and
        # currency; anything else is the id reused with other content (common.md).
        same_owner = player_id is None or all(
            b.player_id in (None, player_id) for b in bets.values()
        )
        same_currency = not currency or all(
            not b.currency or b.currency == currency for b in bets.values()
        )
        if earlier[0] in bet_ids and earlier[1] == amount and same_owner and same_currency:
            return refuse(Outcome.OK, None, replay=True)
        refused = refuse(
            Outcome.MISMATCH,
            f"A settle id was reused with other content (amount {amount}, bets, player or "
            f"currency; the first paid {earlier[1]}).",
        )
        if not same_owner and player_id is not None:
            # The answer goes to the caller: another player's balance must not reach it.
            return _requester_answer(Outcome.MISMATCH, player_id, currency, first)
        return refused
    # A tombstone made by a cancel that named no player has none: it is "cancelled" below, not
    # another player's bet.
    if player_id is not None and any(
        b.player_id is not None and b.player_id != player_id for b in bets.values()
    ):
        refuse(Outcome.MISMATCH, "A settle named another player than the bet's.")
        return _requester_answer(Outcome.MISMATCH, player_id, currency, first)
    if currency and any(b.currency and b.currency != currency for b in bets.values()):
        return refuse(Outcome.WRONG_CURRENCY, None)
    if any(b.state in (BetState.CANCELLED, BetState.TOMBSTONE) for b in bets.values()):
        return refuse(Outcome.BET_CANCELLED, "A settle arrived for a cancelled bet.")
    if len(bets) < len(set(bet_keys)) or any(b.state == BetState.REFUSED for b in bets.values()):
        return refuse(Outcome.BET_NOT_FOUND, "A settle named bets we never took.")
    if any(
        b.kind == BetKind.BET_AND_SETTLE
        or (b.state == BetState.SETTLED and not b.more_settles_expected)
        for b in bets.values()
    ):
        return refuse(Outcome.ALREADY_SETTLED, "A second settle arrived for a settled bet.")
    if len({b.wallet_id for b in bets.values()}) != 1:
        return refuse(Outcome.MISMATCH, "A settle named bets of different wallets.")
    return None


# --- cancelling ---------------------------------------------------------------------------------


@busy_on_lock_timeout
def bet_cancel(
    *,
    provider: str,
    bet_keys: Sequence[str],
    tx_id: str = "",
    account_id: str | None = None,
    currency: str | None = None,
    amount: Decimal | None = None,
    settled_policy: SettledRoundPolicy = SettledRoundPolicy.KEEP,
    round_id: str = "",
) -> WalletResult:
    """Undo bet(s) as common.md's cancel rules say, reversing what we stored.

    Unknown keys are tombstoned; open debits are refunded; a settled bet-and-settle round is
    kept or reversed by ``settled_policy``; a debit already paid is refused and flagged; a
    repeated cancel is answered with the first decision (``replay``). ``amount``, when the
    provider sends one, must equal the stored stakes, also on a repeat; a repeat reusing the
    first cancel's ``tx_id`` with another amount is an id reused with other content
    (``MISMATCH``). ``round_id``, when the provider names one, must be the bet's round.
    """
    keys = sorted(set(bet_keys))
    with money_transaction():
        if len(keys) == 1 and not round_id:
            # The common case first: an open bet of this player refunded in one statement.
            refunded = refund_open_bet(
                provider=provider,
                bet_key=keys[0],
                tx_id=tx_id,
                account_id=account_id,
                currency=currency,
                amount=amount,
            )
            if refunded is not None:
                cancelled, new_balance = refunded
                return WalletResult(Outcome.CANCELLED, new_balance, cancelled.currency, cancelled)
        bets, player_id = _lock_with_requester(provider, keys, account_id)
        if isinstance(player_id, WalletResult):
            return player_id  # unknown player: nothing was written
        created: set[str] = set()
        for key in keys:  # sorted: every request locks bet rows in the same order
            if key in bets:
                continue
            tombstone = Bet(
                provider=provider,
                bet_key=key,
                player_id=player_id,
                currency=currency or "",
                state=BetState.TOMBSTONE,
                cancel_outcome=Outcome.TOMBSTONED,
                cancelled_at=timezone.now(),
                details=_cancel_note(tx_id, amount),
            )
            bet, was_created = lock_or_insert_bet(tombstone, known_absent=len(keys) == 1)
            bets[key] = bet
            if was_created:
                created.add(key)
        main = bets[bet_keys[0]]
        existing = [bets[k] for k in keys if k not in created]
        problem = _cancel_problem(existing, player_id, currency, amount, tx_id, round_id)
        if problem is not None:
            return problem
        if not created and all(b.cancel_outcome for b in existing):
            return _answer(
                Outcome(main.cancel_outcome),
                main.wallet_id or _player_wallet_id(main.player_id, main.currency),
                main.currency,
                main,
                replay=True,
            )
        outcome, moved = _undo(existing, tx_id, settled_policy, _cancel_note(tx_id, amount))
        if outcome is None:  # nothing to undo: the keys were unknown and are now tombstones
            outcome = Outcome.TOMBSTONED
        if moved is not None:
            return WalletResult(outcome, moved.balance, moved.currency, main)
        if main.wallet_id is not None:  # a round kept or a refused bet: nothing moved
            return _answer(outcome, main.wallet_id, main.currency, main)
        balance, cur = _balance_of_player(main.player_id, main.currency or currency)
        return WalletResult(outcome, balance, cur, main)


def _lock_with_requester(
    provider: str, bet_keys: Sequence[str], account_id: str | None
) -> tuple[dict[str, Bet], int | WalletResult | None]:
    """Lock the bets with these keys (those that exist), and the requesting player's id (a
    refusal when no player has that account id, None when the request names none).

    The common case, one bet of the requester's own, is one statement: the bet is locked
    together with its owner's account id, so no separate player lookup is needed.
    """
    keys = sorted(set(bet_keys))
    if len(keys) != 1:
        return lock_bets(provider, keys), _player_id(account_id)
    found = lock_bet_with_owner(provider, keys[0])
    bets = {keys[0]: found[0]} if found is not None else {}
    if account_id is not None and found is not None and found[1] == account_id:
        return bets, found[0].player_id
    return bets, _player_id(account_id)


def _player_wallet_id(player_id: int | None, currency: str) -> int | None:
    if player_id is None:
        return None
    wallets = Wallet.objects.filter(player_id=player_id)
    if currency:
        wallets = wallets.filter(currency=currency)
    return wallets.order_by("id").values_list("id", flat=True).first()


def _cancel_problem(
    existing: list[Bet],
    player_id: int | None,
    currency: str | None,
    amount: Decimal | None,
    tx_id: str = "",
    round_id: str = "",
) -> WalletResult | None:
    """Why this cancel must not move money (flagging what staff must see), or None."""
    known = [b for b in existing if b.state != BetState.TOMBSTONE]

    def refuse(outcome: Outcome, reason: str | None, bets: list[Bet]) -> WalletResult:
        for bet in bets if reason else []:
            flag(bet, reason or "")
            save_bet(bet, "needs_review", "review_reason")
        bet = bets[0]
        # A tombstone holds no wallet: the answer shows its player's, when it names one.
        wallet_id = bet.wallet_id or _player_wallet_id(bet.player_id, bet.currency)
        return _answer(outcome, wallet_id, bet.currency, bet)

    if player_id is not None:
        others = [b for b in known if b.player_id != player_id]
        if others:
            refuse(Outcome.MISMATCH, "A cancel named another player than the bet's.", others)
            return _requester_answer(Outcome.MISMATCH, player_id, currency, others[0])
    if currency:
        wrong = [b for b in known if b.currency != currency]
        if wrong:
            return refuse(Outcome.WRONG_CURRENCY, None, wrong)
    if round_id:
        elsewhere = [b for b in known if b.round_id and b.round_id != round_id]
        if elsewhere:
            reason = f"A cancel named round {round_id!r}, not the bet's {elsewhere[0].round_id!r}."
            return refuse(Outcome.MISMATCH, reason, elsewhere)
    if existing and all(b.cancel_outcome for b in existing):
        return _repeat_problem(existing, known, amount, tx_id, refuse)
    paid = [b for b in known if b.state == BetState.SETTLED and b.kind == BetKind.DEBIT]
    if paid:
        return refuse(Outcome.ALREADY_SETTLED, "A cancel arrived after the bet was paid out.", paid)
    if amount is not None and known:
        stored = _stored_stake(known)
        if stored != amount:
            return refuse(
                Outcome.AMOUNT_MISMATCH,
                f"A cancel's amount {amount} differs from the stored stake {stored}.",
                known,
            )
    return None


def _stored_stake(known: list[Bet]) -> Decimal:
    """The stake a cancel's amount must equal. A refused bet moved nothing, but its row keeps
    the stake that was asked for: a cancel of only refused bets (rule 7) is checked against
    that, not against zero."""
    taken = [b for b in known if b.state != BetState.REFUSED] or known
    return sum((b.stake for b in taken), ZERO)


def _cancel_note(tx_id: str, amount: Decimal | None) -> dict[str, Any]:
    """What a cancel carrying an amount said, kept on the bets it moved no money for (a
    tombstone, a refused bet), so that a repeat saying otherwise can be told apart; a refund's
    ledger row keeps its own transaction id. Cancels without an amount keep nothing."""
    if amount is None:
        return {}
    return {"cancel": {"tx_id": tx_id, "amount": str(amount)}}


_FIRST_REFUND_TX_SQL = (
    f"SELECT provider_tx_id FROM {LedgerEntry._meta.db_table} "  # noqa: S608
    "WHERE bet_id = %s AND kind IN ('refund', 'reversal') ORDER BY id LIMIT 1"
)


def _first_cancel(bets: list[Bet]) -> tuple[str, Decimal | None]:
    """The transaction id of the cancel that decided these bets, and the amount it named when
    no stake of ours says it (a tombstone); ("", None) when neither was kept."""
    for bet in bets:
        note = bet.details.get("cancel") if isinstance(bet.details, dict) else None
        if isinstance(note, dict):
            noted = note.get("amount")
            return str(note.get("tx_id", "")), Decimal(noted) if noted is not None else None
    for bet in bets:
        if bet.state == BetState.CANCELLED:
            row = hot_sql.fetch_one(_FIRST_REFUND_TX_SQL, [bet.pk])
            if row is not None:
                return str(row[0]), None
    return "", None


def _repeat_problem(
    existing: list[Bet],
    known: list[Bet],
    amount: Decimal | None,
    tx_id: str,
    refuse: Callable[[Outcome, str | None, list[Bet]], WalletResult],
) -> WalletResult | None:
    """A cancel of bets already decided is answered with the first decision, unless the amount
    it names is not the bet's: then it moves nothing, is flagged, and is answered as an id
    reused with other content when it repeats the first cancel's id (common.md), else as an
    amount mismatch (cancel rule 1). Only cancels that carry an amount can say otherwise."""
    if amount is None:
        return None
    first_tx, noted = _first_cancel(existing)
    stored = _stored_stake(known) if known else noted
    if stored is None or stored == amount:
        return None
    if tx_id and tx_id == first_tx:
        reason = f"The cancel id {tx_id} was repeated with amount {amount}; the bet's is {stored}."
        return refuse(Outcome.MISMATCH, reason, existing)
    reason = f"A repeated cancel's amount {amount} differs from the stored stake {stored}."
    return refuse(Outcome.AMOUNT_MISMATCH, reason, existing)


#: What a cancel decides on a bet (state, time, outcome, and any flag raised meanwhile).
_CANCEL_FIELDS = ("state", "cancelled_at", "cancel_outcome", "needs_review", "review_reason")


def _undo(
    existing: list[Bet], tx_id: str, policy: SettledRoundPolicy, note: dict[str, Any]
) -> tuple[Outcome | None, Wallet | None]:
    """Refund open bets, keep or reverse settled rounds, note refused ones. Returns the
    strongest outcome and the wallet when money moved (with its new balance).

    A refund needs no balance check, so the refund's own UPDATE takes the wallet lock; only a
    reversal, which could take the balance below zero, locks and reads the wallet first.
    """
    undone = [b for b in existing if not b.cancel_outcome]
    reversing = policy == SettledRoundPolicy.REVERSE and any(
        b.state == BetState.SETTLED for b in undone
    )
    movable = [b for b in undone if b.state in (BetState.OPEN, BetState.SETTLED)]
    wallet = lock_wallet(movable[0].wallet_id) if reversing and movable else None  # type: ignore[arg-type]
    moved = False
    now = timezone.now()
    decided: list[Outcome] = []
    for bet in undone:
        if bet.state == BetState.REFUSED:
            outcome = Outcome.NOTHING_TO_UNDO
        elif bet.state == BetState.OPEN:
            bet.state = BetState.CANCELLED
            bet.cancelled_at = now
            bet.cancel_outcome = Outcome.CANCELLED
            wallet = wallet or Wallet(pk=bet.wallet_id, currency=bet.currency)
            move_money(  # the refund, its ledger row and the bet's new state: one statement
                wallet,
                bet.stake,
                kind=LedgerKind.REFUND,
                bet=bet,
                provider=bet.provider,
                provider_tx_id=tx_id or bet.bet_key,
                bet_fields=_CANCEL_FIELDS,
            )
            moved = True
            decided.append(Outcome.CANCELLED)
            continue
        elif wallet is not None:  # a settled round, the wallet locked for a reversal
            outcome = _cancel_settled_round(bet, wallet, tx_id, policy, now)
            moved = moved or outcome == Outcome.REVERSED
        else:  # a settled round under the "keep" policy (paid debits were refused above)
            outcome = Outcome.KEPT
        bet.cancel_outcome = outcome
        if note and outcome != Outcome.REVERSED:  # no ledger row keeps this cancel's id
            bet.details = {**bet.details, **note}
            save_bet(bet, *_CANCEL_FIELDS, "details")
        else:
            save_bet(bet, *_CANCEL_FIELDS)
        decided.append(outcome)
    for strongest in (
        Outcome.CANCELLED,
        Outcome.REVERSED,
        Outcome.KEPT,
        Outcome.NOTHING_TO_UNDO,
    ):
        if strongest in decided:
            return strongest, wallet if moved else None
    return None, wallet if moved else None


def _cancel_settled_round(
    bet: Bet, wallet: Wallet, tx_id: str, policy: SettledRoundPolicy, now: Any
) -> Outcome:
    if policy == SettledRoundPolicy.KEEP:
        return Outcome.KEPT
    reversal = bet.stake - bet.win
    if wallet.balance + reversal < 0:
        flag(bet, "A cancel asked to reverse this round, but the balance would go negative.")
        return Outcome.KEPT
    move_money(
        wallet,
        reversal,
        kind=LedgerKind.REVERSAL,
        bet=bet,
        provider=bet.provider,
        provider_tx_id=tx_id or bet.bet_key,
    )
    bet.state = BetState.CANCELLED
    bet.cancelled_at = now
    return Outcome.REVERSED
