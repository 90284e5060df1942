"""Hostile text through every hot statement's text parameters, read back byte for byte.

psycopg binds every value of the hot path's statements server-side (wallet/db/hot_sql.py): no
code of ours turns a value into SQL. Each string below goes through the wallet's services and
the journal's INSERT as a provider request would send them (in a held money transaction, BEGIN
and COMMIT riding with the statements), at each column's full length, and must come back from
the bet, ledger, session, nonce and journal rows exactly as it was sent.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from django.test import RequestFactory

from journal.models import JournalEntry
from providers import journal
from providers.base import InboundCall, JournalDraft, ProviderAnswer
from providers.models import VpNonce
from providers.registry import adapter
from providers.vp import nonces
from tests.helpers import requires_postgres
from wallet.models import Bet, LedgerEntry, Player, Wallet
from wallet.services import (
    Outcome,
    bet_cancel,
    bet_open,
    bet_settle,
    hold_commit,
    player_create,
    session_create,
    session_find,
    wallet_balance,
    wallet_deposit,
)

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

D = Decimal

HOSTILE = [
    "'; DROP TABLE wallet_bet; --",
    "'' \\' \\\\ E'\\x41' \"double\" `tick` \\",
    "$1 $$ $tag$ %s %% %(name)s {0} ? :name",
    "é€😀 \u202eRTL\u202c zero\u200bwidth \ufdfd \U0001d518\U0001d52b\U0001d526 \U0010fffd",
    "\t\n\r\x0b\x0c\x1b[31m\x7f\x01 end",
]


def fitted(hostile: str, length: int, tag: str) -> str:
    """``hostile`` repeated to exactly ``length`` characters, told apart from others by ``tag``."""
    unit = f"{tag}|{hostile}|"
    return (unit * (length // len(unit) + 1))[:length]


def held(call: InboundCall, answer: ProviderAnswer, money: Any) -> Any:
    """Run a wallet service as the provider endpoint does: in a held money transaction, then the
    journal row with the COMMIT."""
    with hold_commit() as commit:
        result = money()
        assert commit.open
        commit.commit(last_statement=journal.inbound_insert(adapter("jdb"), call, answer, 7))
    return result


def inbound_call(text: str, n: int) -> InboundCall:
    request = RequestFactory().post("/providers/jdb/", HTTP_X_HOSTILE=fitted(text, 500, f"h{n}"))
    request.path = fitted(text, 255, f"path{n}")
    return InboundCall(
        request=request,
        body=b"",
        function="",
        client_ip="2001:db8::1",
        request_id=fitted(text, 64, f"rid{n}"),
        journal=JournalDraft(
            action=fitted(text, 64, f"action{n}"),
            payload={fitted(text, 300, f"key{n}"): [fitted(text, 1000, f"value{n}"), 1]},
            bet_key=fitted(text, 128, f"jbet{n}"),
            account_id=fitted(text, 64, f"jacct{n}"),
            signature_form=fitted(text, 32, f"sig{n}"),
            outcome=fitted(text, 32, f"out{n}"),
            error=fitted(text, 2000, f"err{n}"),
        ),
    )


def assert_journaled(call: InboundCall, answer: ProviderAnswer) -> None:
    row = JournalEntry.objects.get(request_id=call.request_id)
    draft = call.journal
    assert (row.action, row.path, row.bet_key, row.account_id) == (
        draft.action,
        call.request.path,
        draft.bet_key,
        draft.account_id,
    )
    assert (row.signature_form, row.outcome, row.error) == (
        draft.signature_form,
        draft.outcome,
        draft.error,
    )
    assert row.payload == draft.payload and row.answer == answer.body
    assert row.headers["x-hostile"] == call.request.META["HTTP_X_HOSTILE"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_arrives_byte_for_byte(text: str) -> None:
    provider = fitted(text, 16, "p")
    account = fitted(text, 64, "acct")
    currency = fitted(text, 10, "c").upper()
    player_create(account_id=account, currency=currency, opening_balance=D("100"))
    wallet = Wallet.objects.get(player__account_id=account)
    reason = fitted(text, 500, "reason")
    wallet_deposit(wallet_id=wallet.pk, amount=D("1"), reason=reason)
    assert LedgerEntry.objects.filter(wallet=wallet, reason=reason).count() == 1
    found = wallet_balance(account_id=account, currency=currency)
    assert (found.outcome, found.balance) == (Outcome.OK, D("101"))

    # A bet, its settle (and the settle repeated), a bet cancelled, an unknown bet cancelled.
    key, round_id, game = fitted(text, 128, "bet"), fitted(text, 128, "r"), fitted(text, 64, "g")
    opened_tx, settle_tx = fitted(text, 128, "open"), fitted(text, 128, "settle")
    details = {fitted(text, 200, "dk"): fitted(text, 2000, "dv")}
    answer = ProviderAnswer(body={fitted(text, 100, "ak"): fitted(text, 1000, "av")})
    calls = [inbound_call(text, n) for n in range(6)]

    def open_it(bet_key: str, tx_id: str) -> Any:
        return bet_open(
            provider=provider,
            bet_key=bet_key,
            tx_id=tx_id,
            account_id=account,
            currency=currency,
            amount=D("10"),
            round_id=round_id,
            game_code=game,
            details=details,
        )

    assert held(calls[0], answer, lambda: open_it(key, opened_tx)).outcome == Outcome.OK

    def settle() -> Any:
        return bet_settle(
            provider=provider,
            bet_keys=[key],
            tx_id=settle_tx,
            amount=D("25"),
            account_id=account,
            currency=currency,
        )

    assert held(calls[1], answer, settle).outcome == Outcome.OK
    assert settle().outcome == Outcome.OK  # found by its id: nothing moves again
    placed = Bet.objects.get(provider=provider, bet_key=key)
    assert (placed.round_id, placed.game_code, placed.open_tx_id) == (round_id, game, opened_tx)
    assert (placed.currency, placed.details, placed.player.account_id) == (
        currency,
        details,
        account,
    )
    ledger = LedgerEntry.objects.filter(bet=placed).order_by("id")
    assert list(ledger.values_list("provider", "provider_tx_id")) == [
        (provider, opened_tx),
        (provider, settle_tx),
    ]

    cancelled_key, cancel_tx = fitted(text, 128, "bet2"), fitted(text, 128, "cancel")
    opened = held(calls[2], answer, lambda: open_it(cancelled_key, fitted(text, 128, "open2")))
    assert opened.outcome == Outcome.OK

    def cancel(amount: str) -> Any:
        return bet_cancel(
            provider=provider,
            bet_keys=[cancelled_key],
            tx_id=cancel_tx,
            account_id=account,
            currency=currency,
            amount=D(amount),
        )

    assert held(calls[3], answer, lambda: cancel("10")).outcome == Outcome.CANCELLED
    # The same cancel id with another amount: its first refund's id is read back to tell.
    assert held(calls[4], answer, lambda: cancel("11")).outcome == Outcome.MISMATCH
    refunds = LedgerEntry.objects.filter(bet__bet_key=cancelled_key, kind="refund")
    assert list(refunds.values_list("provider", "provider_tx_id")) == [(provider, cancel_tx)]

    unknown_key = fitted(text, 128, "unknown")
    tombstoned = held(
        calls[5],
        answer,
        lambda: bet_cancel(
            provider=provider,
            bet_keys=[unknown_key],
            tx_id=cancel_tx,
            account_id=account,
            currency=currency,
            amount=D("3"),
        ),
    )
    assert tombstoned.outcome == Outcome.TOMBSTONED
    tombstone = Bet.objects.get(provider=provider, bet_key=unknown_key)
    assert tombstone.details == {"cancel": {"tx_id": cancel_tx, "amount": "3"}}
    assert (tombstone.currency, tombstone.player.account_id) == (currency, account)

    for call in calls:
        assert_journaled(call, answer)

    # A session found by its token (and none by a hostile one), and a VP nonce claimed once.
    session = session_create(account_id=account, provider="naga")
    again = session_find(token=session.token, provider="naga")
    assert again is not None and again.player.account_id == account
    assert session_find(token=fitted(text, 64, "token"), provider="naga") is None
    nonce = fitted(text, 128, "nonce")
    assert nonces.claim(nonce, timestamp_ms=int(time.time() * 1000))
    assert not nonces.claim(nonce, timestamp_ms=int(time.time() * 1000))
    assert VpNonce.objects.filter(nonce=nonce).count() == 1
    assert Player.objects.filter(account_id=account).count() == 1
