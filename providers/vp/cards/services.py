"""Issuing, cancelling and tracking operator cards: the only code that changes a card.

Rules (vp.md, seed ``vp-cancel-operator-card.txt``, issue 7):

- Every status change writes its history row in the same transaction.
- A card shows "cancelled" only after VP answered code 0 to a cancel. Code 4 means VP holds
  no cancellable card any more (used, completed, or cancelled at VP): the card becomes
  "completed" with that reason, never "cancelled by us".
- No lock is held while VP is called. Instead a card carries a claim (``call_token``,
  ``call_started_at``) taken by a conditional update inside a short transaction: whoever
  holds it is the only one talking to VP about the card, so two staff clicks, two admin
  tabs or two cron runs send one cancel. A claim whose holder died expires after
  ``call_lease()`` and the retry command takes the card over.
- A cancel that gets no final answer (timeout, lost connection, VP unreachable, VP busy or
  failing) leaves the card "cancel pending"; ``manage.py retry_card_cancels`` resends it.
  VP's cancel is idempotent on ``spinId``, so a resend after a lost answer is harmless.
- An issue that was sent but got no answer leaves the card "pending": VP may hold it. Staff
  re-send it (same spin id): code 0, or 78 ("spinId already used", only we use our spin
  ids), means VP holds it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from providers.vp import config
from providers.vp.api_client import CardRequest, VpClient, VpOutcome, VpReply
from providers.vp.cards import selectors
from providers.vp.cards.models import (
    CANCELLABLE,
    SIMPLE_FREE_SPIN_TYPES,
    CardStatus,
    CardStatusChange,
    IssueMethod,
    OperatorCard,
)
from wallet.models import BetState, Player, Wallet

#: VP answers after which a cancel will never succeed by resending: the card goes back to
#: what it was and staff are told why.
CANCEL_REFUSED_FOR_GOOD = frozenset(
    {
        VpOutcome.MEMBER_NOT_FOUND,
        VpOutcome.PARAMETER_ERROR,
        VpOutcome.GAME_NOT_FOUND,
        VpOutcome.GAME_RESTRICTED,
        VpOutcome.SPIN_ID_USED,
    }
)
#: Issue answers that say nothing about whether VP created the card.
ISSUE_UNCERTAIN = frozenset(
    {
        VpOutcome.TIMEOUT,
        VpOutcome.CONNECTION_LOST,
        VpOutcome.BAD_ANSWER,
        VpOutcome.VP_INTERNAL_ERROR,
        VpOutcome.UNKNOWN_CODE,
    }
)
SIMPLE_FREE_SPIN_MAX_ROUNDS = 100
SIMPLE_FREE_SPIN_MULTIPLES = (1, 2, 3, 5)


class CardAction(StrEnum):
    """What one service call came to (tests and staff messages use it)."""

    ISSUED = "issued"
    ISSUE_UNCERTAIN = "issue_uncertain"  # sent, no answer: the card stays pending
    ISSUE_FAILED = "issue_failed"  # VP did not create it (refused, or never reached)
    CANCELLED = "cancelled"  # VP answered 0
    ALREADY_CANCELLED = "already_cancelled"  # VP had confirmed it before: no call made
    FINISHED_AT_VP = "finished_at_vp"  # VP answered 4: used, completed or cancelled at VP
    MEMBER_UNKNOWN = "member_unknown"  # VP answered 8
    CANCEL_REFUSED = "cancel_refused"  # another final refusal; the card is as it was
    CANCEL_PENDING = "cancel_pending"  # no final answer: the retry command will resend
    IN_PROGRESS = "in_progress"  # someone else is talking to VP about this card right now
    NOT_ALLOWED = "not_allowed"  # the card's status does not allow this; nothing sent
    REFRESHED = "refreshed"


_LEVEL = {
    CardAction.ISSUED: "success",
    CardAction.CANCELLED: "success",
    CardAction.ALREADY_CANCELLED: "info",
    CardAction.IN_PROGRESS: "info",
    CardAction.REFRESHED: "info",
    CardAction.FINISHED_AT_VP: "warning",
    CardAction.CANCEL_PENDING: "warning",
    CardAction.ISSUE_UNCERTAIN: "warning",
}


@dataclass(frozen=True)
class CardResult:
    card: OperatorCard
    action: CardAction
    message: str
    vp_code: int | None = None

    @property
    def level(self) -> str:
        """A ``django.contrib.messages`` level name: success, info, warning or error."""
        return _LEVEL.get(self.action, "error")


class CardInputError(ValueError):
    """The card asked for is not valid (the message is for staff)."""


def call_lease() -> timedelta:
    """How long a VP call claim lasts: the longest one call can take (a login and the call,
    each possibly twice after an 83, each bounded by both timeouts), plus a margin."""
    per_exchange = sum(config.timeouts())
    return timedelta(seconds=4 * per_exchange + 10)


def new_spin_id() -> str:
    """Our spin id: ``OC`` + date + 12 random hex characters (unique by constraint, too)."""
    return f"OC{timezone.now():%y%m%d}{secrets.token_hex(6)}"


# --- issuing ------------------------------------------------------------------------------------


def card_issue(
    *,
    player: Player,
    game_code: str,
    card_type: int,
    rounds: int,
    expires_at: datetime,
    actor: AbstractBaseUser | None,
    reason: str,
    method: str = IssueMethod.CARD,
    bet_amount: Decimal | None = None,
    free_spin_multiple: int | None = None,
    lower_multiple: int | None = None,
    upper_multiple: int | None = None,
    max_win_amount: Decimal | None = None,
    client: VpClient | None = None,
) -> CardResult:
    """Create a card (pending), send it to VP, and record VP's answer.

    Inputs are checked against VP's fixed rules here; the admin form also checks them against
    VP's templates (``/v2/items/info``) before calling this.
    """
    _check_issue(method, card_type, rounds, expires_at, free_spin_multiple, bet_amount)
    now = timezone.now()
    claim = uuid.uuid4().hex
    with transaction.atomic():
        card = OperatorCard.objects.create(
            spin_id=new_spin_id(),
            player=player,
            currency=player_currency(player),
            game_code=game_code,
            card_type=card_type,
            method=method,
            rounds=rounds,
            bet_amount=bet_amount,
            free_spin_multiple=free_spin_multiple,
            lower_multiple=lower_multiple,
            upper_multiple=upper_multiple,
            max_win_amount=max_win_amount,
            expires_at=expires_at,
            status=CardStatus.PENDING,
            issued_by=actor,  # type: ignore[misc]
            issue_reason=reason.strip(),
            call_token=claim,
            call_started_at=now,
        )
        _record(card, "", CardStatus.PENDING, actor, reason.strip() or "issued")
    reply = _send_issue(card, client)
    return _apply_issue_reply(card.pk, claim, reply, actor, resend=False)


def card_resend_issue(
    *, card_id: int, actor: AbstractBaseUser | None, client: VpClient | None = None
) -> CardResult:
    """Send a pending card again with the same spin id, to learn whether VP holds it."""
    with transaction.atomic():
        card = _locked(card_id)
        if card.status != CardStatus.PENDING:
            return _result(card, CardAction.NOT_ALLOWED, f"Not pending: {_status(card)}.")
        if _call_in_flight(card):
            return _in_progress(card)
        claim = _claim(card)
        card.save(update_fields=["call_token", "call_started_at", "updated_at"])
    reply = _send_issue(card, client)
    return _apply_issue_reply(card.pk, claim, reply, actor, resend=True)


def _check_issue(
    method: str,
    card_type: int,
    rounds: int,
    expires_at: datetime,
    multiple: int | None,
    bet_amount: Decimal | None,
) -> None:
    if rounds <= 0:
        raise CardInputError("Rounds must be at least 1.")
    if expires_at <= timezone.now():
        raise CardInputError("The expiry must be in the future.")
    if bet_amount is not None and bet_amount <= 0:
        raise CardInputError("The bet must be positive.")
    if method == IssueMethod.SIMPLE_FREE_SPIN:
        if card_type not in SIMPLE_FREE_SPIN_TYPES:
            raise CardInputError("Simple free spins are card type 1 or 2 only.")
        if rounds > SIMPLE_FREE_SPIN_MAX_ROUNDS:
            raise CardInputError(f"Simple free spins allow at most {SIMPLE_FREE_SPIN_MAX_ROUNDS}.")
        if multiple is not None and multiple not in SIMPLE_FREE_SPIN_MULTIPLES:
            raise CardInputError("The multiple of simple free spins must be 1, 2, 3 or 5.")
    elif method != IssueMethod.CARD:
        raise CardInputError(f"Unknown issue method {method!r}.")


def player_currency(player: Player) -> str:
    return (
        Wallet.objects.filter(player=player)
        .order_by("id")
        .values_list("currency", flat=True)
        .first()
        or ""
    )


def card_request(card: OperatorCard) -> CardRequest:
    return CardRequest(
        username=card.player.account_id,
        spin_id=card.spin_id,
        game_code=card.game_code,
        card_type=card.card_type,
        rounds=card.rounds,
        expires_at=card.expires_at,
        item_bet=card.bet_amount,
        free_spin_multiple=card.free_spin_multiple,
        lower_multiple=card.lower_multiple,
        upper_multiple=card.upper_multiple,
        max_win_amount=card.max_win_amount,
    )


def _send_issue(card: OperatorCard, client: VpClient | None) -> VpReply:
    client = client or VpClient()
    request = card_request(card)
    if card.method == IssueMethod.SIMPLE_FREE_SPIN:
        return client.items_use_simple_free_spin(request)
    return client.items_use(request)


def _apply_issue_reply(
    card_id: int, claim: str, reply: VpReply, actor: AbstractBaseUser | None, *, resend: bool
) -> CardResult:
    with transaction.atomic():
        card = _locked(card_id)
        _release(card, claim)
        card.last_vp_code = reply.code
        card.last_message = _technical(reply)
        fields = ["last_vp_code", "last_message", "call_token", "call_started_at", "updated_at"]
        if card.status != CardStatus.PENDING:  # settled meanwhile by someone else's answer
            card.save(update_fields=fields)
            return _result(card, CardAction.NOT_ALLOWED, f"Already {_status(card)}.", reply)
        if reply.ok or (resend and reply.outcome is VpOutcome.SPIN_ID_USED):
            data = reply.data if isinstance(reply.data, dict) else {}
            card.vp_item_id = str(data.get("itemId") or card.vp_item_id)[:128]
            why = "VP accepted the card" if reply.ok else "VP already holds this spin id"
            _change(card, CardStatus.ISSUED, actor, why, reply, [*fields, "vp_item_id"])
            return _result(card, CardAction.ISSUED, f"Card {card.spin_id} issued.", reply)
        if reply.maybe_delivered and reply.outcome in ISSUE_UNCERTAIN:
            card.save(update_fields=fields)
            return _result(
                card,
                CardAction.ISSUE_UNCERTAIN,
                f"VP did not answer ({_vp_text(reply)}): card {card.spin_id} may or may not "
                "exist at VP. It stays pending; use “Re-send pending issue” to find out.",
                reply,
            )
        why = f"VP did not issue it: {_vp_text(reply)}"
        _change(card, CardStatus.FAILED, actor, why, reply, fields)
        return _result(card, CardAction.ISSUE_FAILED, f"Card {card.spin_id}: {why}.", reply)


# --- cancelling ---------------------------------------------------------------------------------


def card_cancel(
    *,
    card_id: int,
    actor: AbstractBaseUser | None,
    reason: str,
    client: VpClient | None = None,
) -> CardResult:
    """Ask VP to cancel a card, once, whoever else asks at the same time; see the module doc."""
    reason = (reason or "").strip()
    if not reason:
        raise CardInputError("A reason is required to cancel a card.")
    card_refresh_usage(cards=OperatorCard.objects.filter(pk=card_id))
    return _cancel(card_id, actor, reason, client)


def card_retry_cancel(*, card_id: int, client: VpClient | None = None) -> CardResult:
    """Resend the cancel of a cancel-pending card (the retry command's unit of work)."""
    return _cancel(
        card_id, None, "", client, retry_only=True, note=" (resent by retry_card_cancels)"
    )


def cards_retry_cancels(
    *, limit: int | None = None, client: VpClient | None = None
) -> list[CardResult]:
    """Resend every cancel-pending card's cancel that nobody is sending right now."""
    ids = selectors.cards_awaiting_cancel_retry(timezone.now(), call_lease()).values_list(
        "id", flat=True
    )
    client = client or VpClient()
    return [
        card_retry_cancel(card_id=i, client=client) for i in list(ids[:limit] if limit else ids)
    ]


def _cancel(
    card_id: int,
    actor: AbstractBaseUser | None,
    reason: str,
    client: VpClient | None,
    *,
    retry_only: bool = False,
    note: str = "",
) -> CardResult:
    with transaction.atomic():
        card = _locked(card_id)
        refusal = _why_not_cancellable(card, retry_only)
        if refusal is not None:
            return refusal
        if _call_in_flight(card):
            return _in_progress(card)
        claim = _claim(card)
        card.cancel_attempts += 1
        fields = ["call_token", "call_started_at", "cancel_attempts", "updated_at"]
        if card.status == CardStatus.CANCEL_PENDING:
            card.save(update_fields=fields)
        else:
            card.status_before_cancel = card.status
            card.cancel_requested_by = actor  # type: ignore[assignment]
            card.cancel_requested_at = timezone.now()
            card.cancel_reason = reason
            fields += [
                "status_before_cancel",
                "cancel_requested_by",
                "cancel_requested_at",
                "cancel_reason",
            ]
            _change(card, CardStatus.CANCEL_PENDING, actor, reason, None, fields)
    reply = (client or VpClient()).items_cancel(
        username=card.player.account_id, spin_id=card.spin_id
    )
    return _apply_cancel_reply(card.pk, claim, reply, actor, note)


def _why_not_cancellable(card: OperatorCard, retry_only: bool) -> CardResult | None:
    if card.status == CardStatus.CANCELLED:
        return _result(card, CardAction.ALREADY_CANCELLED, f"{card.spin_id} was already cancelled.")
    if retry_only and card.status != CardStatus.CANCEL_PENDING:
        return _result(card, CardAction.NOT_ALLOWED, f"{card.spin_id} is {_status(card)}.")
    if card.status in CANCELLABLE:
        return None
    explanations = {
        CardStatus.COMPLETED: "it is already used or completed",
        CardStatus.EXPIRED: "it expired unused",
        CardStatus.FAILED: "VP never issued it",
        CardStatus.PENDING: "VP's answer to its issue is not known yet; re-send the issue first",
    }
    why = explanations.get(CardStatus(card.status), _status(card))
    return _result(card, CardAction.NOT_ALLOWED, f"{card.spin_id} cannot be cancelled: {why}.")


def _apply_cancel_reply(
    card_id: int, claim: str, reply: VpReply, actor: AbstractBaseUser | None, note: str
) -> CardResult:
    with transaction.atomic():
        card = _locked(card_id)
        _release(card, claim)
        card.last_vp_code = reply.code
        card.last_message = _technical(reply)
        fields = ["last_vp_code", "last_message", "call_token", "call_started_at", "updated_at"]
        if card.status != CardStatus.CANCEL_PENDING:
            # Another sender's answer settled it while we waited (possible only after a lease
            # ran out); VP is idempotent, so its answer was the same as ours.
            card.save(update_fields=fields)
            action = (
                CardAction.ALREADY_CANCELLED
                if card.status == CardStatus.CANCELLED
                else CardAction.NOT_ALLOWED
            )
            return _result(card, action, f"{card.spin_id} is {_status(card)}.", reply)
        if reply.ok:
            _change(
                card, CardStatus.CANCELLED, actor, "VP confirmed the cancel" + note, reply, fields
            )
            return _result(card, CardAction.CANCELLED, f"{card.spin_id}: cancelled.", reply)
        if reply.outcome is VpOutcome.NOT_FOUND_OR_FINISHED:
            return _finished_at_vp(card, actor, reply, fields, note)
        if reply.outcome in CANCEL_REFUSED_FOR_GOOD:
            back = card.status_before_cancel or CardStatus.ISSUED
            why = f"VP refused the cancel: {_vp_text(reply)}"
            _change(card, CardStatus(back), actor, why + note, reply, fields)
            if reply.outcome is VpOutcome.MEMBER_NOT_FOUND:
                text = f"{card.spin_id}: not cancelled — VP does not know member "
                text += f"{card.player.account_id!r} (VP code 8)."
                return _result(card, CardAction.MEMBER_UNKNOWN, text, reply)
            return _result(
                card, CardAction.CANCEL_REFUSED, f"{card.spin_id}: not cancelled — {why}.", reply
            )
        card.save(update_fields=fields)
        return _result(
            card,
            CardAction.CANCEL_PENDING,
            f"{card.spin_id}: cancel pending — VP unreachable or no final answer "
            f"({_vp_text(reply)}). It will be retried; it is not cancelled until VP confirms.",
            reply,
        )


def _finished_at_vp(
    card: OperatorCard, actor: AbstractBaseUser | None, reply: VpReply, fields: list[str], note: str
) -> CardResult:
    """VP's code 4 to a cancel: it holds nothing cancellable. Never shown as cancelled by us."""
    if card.expires_at <= timezone.now() and card.spins_played == 0:
        target, what = CardStatus.EXPIRED, "it had expired unused"
    else:
        target, what = CardStatus.COMPLETED, "already used or completed"
    why = (
        f"VP refused the cancel with code 4 ({what}, or cancelled at VP). "
        "It was not cancelled by us."
    )
    _change(card, target, actor, why + note, reply, fields)
    return _result(
        card,
        CardAction.FINISHED_AT_VP,
        f"{card.spin_id}: not cancelled — {what} (VP code 4).",
        reply,
    )


# --- usage from VP's bets -----------------------------------------------------------------------


def card_refresh_usage(*, cards: Iterable[OperatorCard] | None = None) -> int:
    """Bring cards' use, wins and status up to date from VP's bets; returns status changes.

    issued → in use when a settled VP bet names the spin id; → completed when as many bets
    as the card has rounds did, or when it expires after some use; → expired when it expires
    unused. Totals are refreshed for every card passed (cancelled ones included).
    """
    chosen = list(cards if cards is not None else selectors.cards_to_refresh())
    if not chosen:
        return 0
    used = selectors.bets_using_cards(chosen)
    now = timezone.now()
    changes = 0
    for snapshot in chosen:
        bets = [b for b in used.get(snapshot.spin_id, []) if b.state == BetState.SETTLED]
        with transaction.atomic():
            card = _locked(snapshot.pk)
            card.spins_played = len(bets)
            card.win_total = sum((b.win for b in bets), Decimal(0))
            card.usage_refreshed_at = now
            fields = ["spins_played", "win_total", "usage_refreshed_at", "updated_at"]
            target, why = _status_from_use(card, bets, now)
            if target is None:
                card.save(update_fields=fields)
            else:
                _change(card, target, None, why, None, fields)
                changes += 1
    return changes


def _status_from_use(
    card: OperatorCard, bets: list[Any], now: datetime
) -> tuple[CardStatus | None, str]:
    if card.status not in (CardStatus.ISSUED, CardStatus.IN_USE):
        return None, ""
    played = len(bets)
    if played and played >= card.rounds:
        return CardStatus.COMPLETED, f"{played} of {card.rounds} rounds played"
    if card.expires_at <= now:
        if played:
            return CardStatus.COMPLETED, f"expired after {played} of {card.rounds} rounds"
        return CardStatus.EXPIRED, "expired unused"
    if played and card.status == CardStatus.ISSUED:
        return CardStatus.IN_USE, f"VP bet {bets[0].bet_key} used the card"
    return None, ""


# --- small pieces -------------------------------------------------------------------------------


def _locked(card_id: int) -> OperatorCard:
    return OperatorCard.objects.select_for_update().select_related("player").get(pk=card_id)


def _call_in_flight(card: OperatorCard) -> bool:
    return bool(card.call_token) and (
        card.call_started_at is not None and card.call_started_at > timezone.now() - call_lease()
    )


def _claim(card: OperatorCard) -> str:
    """Take the card's call claim (the caller holds the row lock and saves the fields)."""
    card.call_token = uuid.uuid4().hex
    card.call_started_at = timezone.now()
    return card.call_token


def _release(card: OperatorCard, claim: str) -> None:
    if card.call_token == claim:  # never release a claim someone took after ours ran out
        card.call_token = ""
        card.call_started_at = None


def _change(
    card: OperatorCard,
    to: str,
    actor: AbstractBaseUser | None,
    reason: str,
    reply: VpReply | None,
    fields: list[str],
) -> None:
    """Save the card in its new status together with its history row."""
    before = card.status
    card.status = to
    card.save(update_fields=[*fields, "status"])
    _record(card, before, to, actor, reason, reply)


def _record(
    card: OperatorCard,
    before: str,
    to: str,
    actor: AbstractBaseUser | None,
    reason: str,
    reply: VpReply | None = None,
) -> None:
    CardStatusChange.objects.create(
        card=card,
        from_status=before,
        to_status=to,
        actor=actor,  # type: ignore[misc]
        reason=reason[:2000],
        vp_code=reply.code if reply else None,
        vp_log_uuid=reply.log_uuid if reply else "",
    )


def _status(card: OperatorCard) -> str:
    return str(card.get_status_display()).lower()


_NO_ANSWER_TEXT = {
    VpOutcome.TIMEOUT: "VP did not answer in time",
    VpOutcome.CONNECTION_LOST: "the connection broke before VP answered",
    VpOutcome.UNREACHABLE: "VP unreachable: no connection, nothing was sent",
    VpOutcome.BAD_ANSWER: "the answer was not VP's (a proxy or server error page)",
    VpOutcome.NOT_CONFIGURED: "VP is not configured",
}


def _vp_text(reply: VpReply) -> str:
    """VP's answer in words for staff; the technical detail is in the card and the journal."""
    if reply.code is not None:
        return f"VP code {reply.code}: {reply.message or reply.outcome.value}"
    text = _NO_ANSWER_TEXT.get(reply.outcome, reply.outcome.value)
    if reply.outcome is VpOutcome.NOT_CONFIGURED or reply.message.startswith("could not log in"):
        text += f" ({reply.message})"
    return text


def _technical(reply: VpReply) -> str:
    """What the card keeps as its last message: VP's words or the transport error."""
    if reply.code is not None:
        return f"VP code {reply.code}: {reply.message}"[:500]
    return f"{reply.outcome.value}: {reply.message}"[:500]


def _result(
    card: OperatorCard, action: CardAction, message: str, reply: VpReply | None = None
) -> CardResult:
    return CardResult(card, action, message, reply.code if reply else None)


def _in_progress(card: OperatorCard) -> CardResult:
    return _result(
        card,
        CardAction.IN_PROGRESS,
        f"{card.spin_id}: another request is talking to VP about this card right now; "
        "nothing was sent. Look again in a moment.",
    )
