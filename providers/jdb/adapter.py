"""JDB seamless wallet: ``POST /providers/jdb/``, one encrypted form field ``x`` for every action.

Decrypts ``x`` (AES-128-CBC, ``providers.jdb.crypto``), validates the payload into a typed
command (``providers.jdb.commands``), calls exactly one wallet service and maps its outcome to
JDB's status codes (``providers.jdb.codes``). Answers are plain JSON with HTTP 200:
``{"status", "balance", "err_text"}``; ``balance`` is a string with 2 decimals rounded down, and
is left out for Actions 13, 14 and 15 and whenever we do not know the player's balance.

The Action 4 trap: JDB reads every Action 4 answer other than ``6101`` and ``9017`` as "cancel
succeeded". So once a request has decrypted to something that may be Action 4, every refusal and
every unexpected failure answers ``9017`` (JDB resends). A request that does not decrypt cannot
be known to be Action 4 and answers ``9001``; a failure of our own before decryption (say, a
malformed ``JDB_AES_KEY``) might hide an Action 4 and answers ``9017`` too.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from providers.base import InboundCall, ProviderAdapter, ProviderAnswer, Refused, Rejection
from providers.fields import BadInput
from providers.jdb import codes
from providers.jdb.authentication import JdbCipherAuthentication
from providers.jdb.codes import Status
from providers.jdb.commands import (
    NO_BALANCE_ACTIONS,
    BetNSettle,
    CancelBetNSettle,
    CancelDebits,
    Command,
    Credit,
    Debit,
    GetBalance,
    JdbAction,
    UnknownAction,
    parse_command,
)
from providers.jdb.config import cancel_settled_policy
from providers.jdb.parsers import JdbParser, may_be_action_4
from providers.parsers import provider_message
from wallet.money import format_fixed
from wallet.services import (
    Outcome,
    WalletResult,
    bet_cancel,
    bet_open,
    bet_place_and_settle,
    bet_settle,
    wallet_balance,
)

SLUG = "jdb"
BALANCE_PLACES = 2
_ERR_TEXT_MAX = 255

_ERR_TEXTS = {
    "insufficient_funds": "player balance is insufficient",
    "player_blocked": "player is blocked",
    "bet_cancelled": "the transfer was cancelled before it arrived (or its bet was cancelled)",
    "bet_not_found": "data does not exist: unknown transfer",
    "already_settled": "the bet was already settled; flagged for staff",
    "mismatch": "transferId reused with different content; flagged for staff",
    "amount_mismatch": "amount differs from the stored stakes; flagged for staff",
    "player_not_found": "user not found",
    "wrong_currency": "player has no wallet in this currency",
    "busy": "work in progress, please try again later",
    "kept": "cannot cancel: the BetNSettle was applied and stands",
}


class JdbAdapter(ProviderAdapter):
    """JDB's seamless wallet (docs/providers/jdb.md): Actions 6, 8, 4, 9, 10, 11, 13-15."""

    slug = SLUG
    name = "JDB"
    # A per-login session id: the journal keeps only enough to tell two apart.
    secret_fields = frozenset({"systemSessionId"})

    parser_class = JdbParser
    authentication_class = JdbCipherAuthentication

    def execute(self, call: InboundCall, request: Request) -> ProviderAnswer:
        payload = provider_message(request)
        try:
            command = parse_command(payload)
        except UnknownAction as exc:
            raise Refused(Rejection.UNKNOWN_ACTION, str(exc)) from exc
        except BadInput as exc:
            raise Refused(Rejection.BAD_INPUT, str(exc)) from exc
        return _execute(command)

    def refuse(self, call: InboundCall, kind: Rejection, message: str) -> ProviderAnswer:
        payload = call.journal.payload
        decrypted = isinstance(payload, dict)
        if (decrypted and may_be_action_4(payload)) or (
            # A Host we do not serve is our configuration as likely as a stranger: unread, it
            # may be an Action 4, which must not be answered as final.
            kind in (Rejection.UNEXPECTED, Rejection.BAD_HOST) and not decrypted
        ):
            status = Status.TRY_AGAIN
        elif kind == Rejection.UNEXPECTED:
            status = Status.FAILED
        elif kind in (Rejection.AUTH_FAILED, Rejection.FORBIDDEN_IP):
            status = Status.NOT_AUTHORISED
        else:  # bad input, unknown action, oversized body, not a POST
            status = Status.PARAMETER_ERROR
        body = {"status": status.value, "err_text": message[:_ERR_TEXT_MAX]}
        return ProviderAnswer(body, 200, kind.value)


def _execute(command: Command) -> ProviderAnswer:
    """Call the one wallet service this command needs and encode its outcome."""
    match command:
        case GetBalance(player=p):
            result = wallet_balance(account_id=p.uid, currency=p.currency)
            return _answer(JdbAction.GET_BALANCE, result, codes.BALANCE)
        case BetNSettle(player=p):
            result = bet_place_and_settle(
                provider=SLUG,
                bet_key=command.transfer_id,
                tx_id=command.transfer_id,
                account_id=p.uid,
                currency=p.currency,
                stake=command.stake,
                win=command.win,
                round_id=command.round_id,
                game_code=command.game_code,
                details=command.details,
                required_balance=command.required_balance,
            )
            return _answer(JdbAction.BET_N_SETTLE, result, codes.OPENING)
        case CancelBetNSettle(player=p):
            policy = cancel_settled_policy()  # read first: a bad setting must not half-act
            result = bet_cancel(
                provider=SLUG,
                bet_keys=[command.transfer_id],
                tx_id=command.transfer_id,
                account_id=p.uid,
                currency=p.currency,
                settled_policy=policy,
            )
            status = codes.cancel_bet_n_settle_status(result)
            return _answer(JdbAction.CANCEL_BET_N_SETTLE, result, status)
        case Debit(player=p):
            result = bet_open(
                provider=SLUG,
                bet_key=command.transfer_id,
                tx_id=command.transfer_id,
                account_id=p.uid,
                currency=p.currency,
                amount=command.amount,
                round_id=command.round_id,
                game_code=command.game_code,
            )
            return _answer(command.action, result, codes.OPENING)
        case Credit(player=p):
            result = bet_settle(
                provider=SLUG,
                bet_keys=list(command.ref_transfer_ids),
                tx_id=command.transfer_id,
                amount=command.amount,
                account_id=p.uid,
                currency=p.currency,
                round_closed=command.round_closed,
            )
            return _answer(command.action, result, codes.SETTLING)
        case CancelDebits(player=p):
            result = bet_cancel(
                provider=SLUG,
                bet_keys=list(command.ref_transfer_ids),
                tx_id=command.transfer_id,
                account_id=p.uid,
                currency=p.currency,
                amount=command.amount,
            )
            return _answer(command.action, result, codes.CANCELLING_DEBITS)
    raise TypeError(f"no handler for {type(command).__name__}")  # pragma: no cover


def _answer(
    action: JdbAction, result: WalletResult, table_or_status: dict[Any, Status] | Status
) -> ProviderAnswer:
    status = (
        table_or_status
        if isinstance(table_or_status, Status)
        else codes.status_for(result, table_or_status)
    )
    body: dict[str, str] = {"status": status.value}
    if action not in NO_BALANCE_ACTIONS and result.balance is not None:
        body["balance"] = format_fixed(result.balance, BALANCE_PLACES)
    body["err_text"] = "" if status == Status.SUCCESS else _err_text(result)
    outcome = ("replay:" if result.replay else "") + result.outcome.value
    # A busy wallet's message is the database's own text: for the journal, never for JDB.
    detail = result.message if result.outcome == Outcome.BUSY else ""
    return ProviderAnswer(body, 200, outcome, error=detail)


def _err_text(result: WalletResult) -> str:
    text = _ERR_TEXTS.get(result.outcome.value, result.outcome.value.replace("_", " "))
    if result.message and result.message not in text and result.outcome != Outcome.BUSY:
        text = f"{text}: {result.message}"
    return text[:_ERR_TEXT_MAX]
