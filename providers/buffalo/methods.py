"""One function per Buffalo method: validate, check the session, call one wallet service.

Each returns a ``Reply`` (status, balance, new sid) that the adapter encodes. Session rules
(``docs/providers/buffalo.md``): ``check``, ``balance`` and ``debit`` need a live sid of
``userId``; ``credit`` and ``cancel`` also accept an expired or retired sid of that player
(Buffalo retries them long after the session ended). A sid of another player, a sid we never
issued, or an unknown ``userId`` is ``INVALID_SID``. The currency must be the session's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from providers.buffalo import codes
from providers.buffalo.codes import Status
from providers.buffalo.commands import (
    TransactionCommand,
    session_command,
    sid_command,
    transaction_command,
)
from wallet.models import Player, PlayerSession, Wallet
from wallet.selectors import player_balance
from wallet.services import (
    Outcome,
    WalletResult,
    bet_cancel,
    bet_open,
    bet_settle,
    session_create,
    session_find,
    session_rotate,
    wallet_balance,
)

PROVIDER = "buffalo"


@dataclass(frozen=True, slots=True)
class Reply:
    """What a method decided, before it is encoded as Buffalo JSON."""

    status: Status
    uuid: str
    balance: Decimal | None = None
    sid: str = ""
    outcome: str = "ok"  # for the journal: the wallet outcome or why we refused
    message: str = ""  # for the journal: a refusal's reason
    bet_key: str = ""


class SessionRefused(Exception):
    """The sid does not let this request through; carries the reply to give."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.message)
        self.reply = reply


def _refusal(
    status: Status, uuid: str, user_id: str, currency: str, outcome: str, message: str
) -> SessionRefused:
    known = player_balance(account_id=user_id, currency=currency)
    return SessionRefused(
        Reply(status, uuid, known[0] if known else None, outcome=outcome, message=message)
    )


def _session(
    sid: str, user_id: str, uuid: str, *, live_only: bool, currency: str = ""
) -> PlayerSession:
    """The player's session behind ``sid``, or ``SessionRefused`` (INVALID_SID / currency)."""
    session = session_find(token=sid, provider=PROVIDER, live_only=live_only)
    if session is None:
        why = "sid is unknown, expired or retired" if live_only else "sid is unknown"
        raise _refusal(Status.INVALID_SID, uuid, user_id, currency, "invalid_sid", why)
    if session.player.account_id != user_id:
        raise _refusal(
            Status.INVALID_SID, uuid, user_id, currency, "invalid_sid", "sid of another player"
        )
    if currency and currency != session.currency:
        raise _refusal(
            Status.INVALID_PARAMETER,
            uuid,
            user_id,
            session.currency,
            Outcome.WRONG_CURRENCY.value,
            f"currency {currency} is not the session's {session.currency}",
        )
    return session


def _balance_of(session: PlayerSession) -> Decimal | None:
    known = player_balance(account_id=session.player.account_id, currency=session.currency)
    return known[0] if known else None


# --- sessions -------------------------------------------------------------------------------


def check(data: dict[str, Any]) -> Reply:
    """Validate a live sid and answer a new one; the old sid is retired (Buffalo adopts ours)."""
    command = session_command(data, with_currency=False)
    session = _session(command.sid, command.user_id, command.uuid, live_only=True)
    successor = session_rotate(session=session)
    return Reply(Status.OK, command.uuid, _balance_of(successor), sid=successor.token)


def balance(data: dict[str, Any]) -> Reply:
    """The balance of the live session's wallet."""
    command = session_command(data, with_currency=True)
    session = _session(
        command.sid, command.user_id, command.uuid, live_only=True, currency=command.currency
    )
    result = wallet_balance(account_id=command.user_id, currency=session.currency)
    status = Status.OK if result.outcome == Outcome.OK else Status.INVALID_PARAMETER
    return Reply(status, command.uuid, result.balance, outcome=result.outcome.value)


def new_sid(data: dict[str, Any]) -> Reply:
    """Issue a session without a game launch (test environments; the adapter gates it)."""
    command = sid_command(data)
    try:
        session = session_create(account_id=command.user_id, provider=PROVIDER)
    except (Player.DoesNotExist, Wallet.DoesNotExist):
        raise _refusal(
            Status.INVALID_SID, command.uuid, command.user_id, "", "invalid_sid", "unknown userId"
        ) from None
    return Reply(Status.OK, command.uuid, _balance_of(session), sid=session.token)


# --- money ----------------------------------------------------------------------------------


def _transaction(
    data: dict[str, Any], *, live_only: bool
) -> tuple[TransactionCommand, PlayerSession]:
    command = transaction_command(data)
    session = _session(
        command.sid,
        command.user_id,
        command.uuid,
        live_only=live_only,
        currency=command.currency,
    )
    return command, session


def _reply(
    command: TransactionCommand,
    session: PlayerSession,
    result: WalletResult,
    first: Mapping[Outcome, Status],
    replay: Mapping[Outcome, Status],
) -> Reply:
    shown = result.balance
    about_other_player = result.bet is not None and result.bet.player_id not in (
        None,
        session.player_id,
    )
    if shown is None or about_other_player:
        # BUSY read nothing; a refusal about another player's bet carries that player's
        # balance, which must not reach this player's answer.
        shown = _balance_of(session)
    outcome = result.outcome.value
    return Reply(
        codes.status_for(result, first, replay),
        command.uuid,
        shown,
        outcome=f"replay:{outcome}" if result.replay else outcome,
        message=result.message,
        bet_key=command.ref_id,
    )


def debit(data: dict[str, Any]) -> Reply:
    """Take the stake and open the bet keyed by ``transaction.refId``."""
    command, session = _transaction(data, live_only=True)
    result = bet_open(
        provider=PROVIDER,
        bet_key=command.ref_id,
        tx_id=command.tx_id,
        account_id=command.user_id,
        currency=session.currency,
        amount=command.amount,
        round_id=command.round_id,
        game_code=command.game_type,
        details={"game_session": command.game_session} if command.game_session else None,
    )
    return _reply(command, session, result, codes.DEBIT, codes.DEBIT_REPLAY)


def credit(data: dict[str, Any]) -> Reply:
    """Pay the win (0: the bet lost) of the debit named by ``refId``; closes that bet."""
    command, session = _transaction(data, live_only=False)
    result = bet_settle(
        provider=PROVIDER,
        bet_keys=[command.ref_id],
        tx_id=command.tx_id,
        amount=command.amount,
        account_id=command.user_id,
        currency=session.currency,
    )
    return _reply(command, session, result, codes.CREDIT, codes.CREDIT_REPLAY)


def cancel(data: dict[str, Any]) -> Reply:
    """Refund the stored stake of the debit named by ``refId`` (its amount must match)."""
    command, session = _transaction(data, live_only=False)
    result = bet_cancel(
        provider=PROVIDER,
        bet_keys=[command.ref_id],
        tx_id=command.tx_id,
        account_id=command.user_id,
        currency=session.currency,
        amount=command.amount,
    )
    return _reply(command, session, result, codes.CANCEL, codes.CANCEL_REPLAY)


METHODS: Mapping[str, Callable[[dict[str, Any]], Reply]] = {
    "check": check,
    "balance": balance,
    "debit": debit,
    "credit": credit,
    "cancel": cancel,
    "sid": new_sid,
}
