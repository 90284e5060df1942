"""check, balance and the test-only sid method; which sid each method accepts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.buffalo.client import build_request
from tests.helpers import balance, bet, ledger_kinds, make_player
from tests.providers.buffalo.conftest import (
    Gambler,
    answered,
    journaled,
    ledger_count,
    new_sid,
    new_uuid,
)
from tests.providers.conftest import Sent
from wallet.models import BetState, PlayerSession
from wallet.services import session_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
Call = Callable[..., Sent]


def _expire(sid: str) -> None:
    PlayerSession.objects.filter(token=sid).update(expires_at=timezone.now() - timedelta(seconds=1))


# --- check ----------------------------------------------------------------------------------


def test_check_issues_a_new_sid_and_retires_the_old_one(buffalo: Call, alice: Gambler) -> None:
    payload = alice.base(channel={"type": "P"})
    sent = buffalo("check", payload)
    answered(sent, payload, "OK", "1000")
    fresh = sent.json["sid"]
    assert fresh and fresh != alice.sid
    assert PlayerSession.objects.get(token=alice.sid).revoked_at is not None
    assert PlayerSession.objects.get(token=fresh).revoked_at is None
    entry = journaled(payload, action="check", outcome="ok")
    # The new sid is a credential: the journal keeps neither it nor the old one in clear.
    assert (
        entry.answer is not None
        and entry.answer["sid"] != fresh
        and "redacted" in entry.answer["sid"]
    )
    assert fresh not in str(entry.payload) + str(entry.answer) + str(entry.headers)
    # The old sid stops working for check, balance and debit...
    for method, body in (
        ("check", alice.base()),
        ("balance", alice.base()),
        ("debit", alice.tx("ref-1", "1")),
    ):
        answered(buffalo(method, body), body, "INVALID_SID", "1000")
    assert ledger_kinds("ref-1", "buffalo") == []
    # ...and the new one works.
    alice.sid = fresh
    body = alice.tx("ref-1", "1")
    answered(buffalo("debit", body), body, "OK", "999")


def test_a_player_may_hold_several_live_sessions(buffalo: Call, alice: Gambler) -> None:
    mobile = Gambler("alice", new_sid("alice"))
    for who, ref, after in ((alice, "desk-1", "990"), (mobile, "mob-1", "980")):
        body = who.tx(ref, "10")
        answered(buffalo("debit", body), body, "OK", after)
    # Rotating one session (check) leaves the other alive.
    buffalo("check", mobile.base())
    body = alice.tx("desk-2", "5")
    answered(buffalo("debit", body), body, "OK", "975")


def test_check_with_an_expired_sid_is_refused(buffalo: Call, alice: Gambler) -> None:
    _expire(alice.sid)
    payload = alice.base()
    answered(buffalo("check", payload), payload, "INVALID_SID", "1000")
    journaled(payload, action="check", outcome="invalid_sid")
    assert PlayerSession.objects.filter(player__account_id="alice").count() == 1


def test_check_of_a_sid_of_another_player_is_refused(
    buffalo: Call, alice: Gambler, bob: Gambler
) -> None:
    payload = {**bob.base(), "sid": alice.sid}
    answered(buffalo("check", payload), payload, "INVALID_SID", "250.5")
    assert PlayerSession.objects.get(token=alice.sid).revoked_at is None


def test_check_for_an_unknown_user_shows_no_balance(buffalo: Call, alice: Gambler) -> None:
    payload = {**alice.base(), "userId": "nobody"}
    answered(buffalo("check", payload), payload, "INVALID_SID", None)
    journaled(payload, action="check", outcome="invalid_sid")


# --- balance --------------------------------------------------------------------------------


def test_balance_answers_the_session_wallet(buffalo: Call, alice: Gambler) -> None:
    payload = alice.base(currency="USD")
    answered(buffalo("balance", payload), payload, "OK", "1000")
    journaled(payload, action="balance", outcome="ok")
    without_currency = alice.base()
    answered(buffalo("balance", without_currency), without_currency, "OK", "1000")


def test_balance_is_rounded_down_never_up(buffalo: Call, alice: Gambler) -> None:
    body = alice.tx("ref-1", "0.000001")
    buffalo("debit", body)
    payload = alice.base()
    answered(buffalo("balance", payload), payload, "OK", "999.999999")


def test_balance_in_another_currency_is_refused(buffalo: Call, alice: Gambler) -> None:
    payload = alice.base(currency="EUR")
    answered(buffalo("balance", payload), payload, "INVALID_PARAMETER", "1000")
    journaled(payload, action="balance", outcome="wrong_currency")


def test_balance_with_an_expired_sid_is_refused(buffalo: Call, alice: Gambler) -> None:
    _expire(alice.sid)
    payload = alice.base()
    answered(buffalo("balance", payload), payload, "INVALID_SID", "1000")


def test_player_with_several_wallets_sees_the_sessions_one(buffalo: Call) -> None:
    make_player("multi", "USD", "10")
    make_player("multi", "CNY", "70")
    cny = Gambler("multi", new_sid_in("multi", "CNY"), currency="CNY")
    payload = cny.base()
    answered(buffalo("balance", payload), payload, "OK", "70")
    debit = cny.tx("cny-1", "7")
    answered(buffalo("debit", debit), debit, "OK", "63")
    wrong = cny.tx("cny-2", "1", currency="USD")
    answered(buffalo("debit", wrong), wrong, "INVALID_PARAMETER", "63")
    assert balance("multi", "USD") == D("10") and balance("multi", "CNY") == D("63")


def new_sid_in(account_id: str, currency: str) -> str:
    return session_create(account_id=account_id, provider="buffalo", currency=currency).token


# --- which sid credit and cancel accept ------------------------------------------------------


@pytest.mark.parametrize("how", ["expired", "rotated"])
def test_credit_and_cancel_accept_an_ended_sid_of_the_player(
    buffalo: Call, alice: Gambler, how: str
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    buffalo("debit", alice.tx("ref-2", "20"))
    if how == "expired":
        _expire(alice.sid)
    else:
        assert buffalo("check", alice.base()).json["status"] == "OK"
    debit = alice.tx("ref-3", "1")
    answered(buffalo("debit", debit), debit, "INVALID_SID", "970")
    credit = alice.tx("ref-1", "15", tx_id="win-1")
    answered(buffalo("credit", credit), credit, "OK", "985")
    cancel = alice.tx("ref-2", "20")
    answered(buffalo("cancel", cancel), cancel, "OK", "1005")
    assert bet("ref-2", "buffalo").state == BetState.CANCELLED
    assert balance("alice") == D("1005")


@pytest.mark.parametrize("method", ["debit", "credit", "cancel"])
def test_money_methods_refuse_a_sid_of_another_player(
    buffalo: Call, alice: Gambler, bob: Gambler, method: str
) -> None:
    buffalo("debit", bob.tx("bob-ref", "10"))
    before = ledger_count()
    payload = {**bob.tx("bob-ref", "10", tx_id="t-x"), "sid": alice.sid}
    answered(buffalo(method, payload), payload, "INVALID_SID", "240.5")
    journaled(payload, action=method, outcome="invalid_sid", bet_key="bob-ref")
    assert ledger_count() == before and balance("bob") == D("240.50")
    assert bet("bob-ref", "buffalo").state == BetState.OPEN


@pytest.mark.parametrize("method", ["debit", "credit", "cancel"])
def test_money_methods_refuse_an_unknown_user_and_an_unknown_sid(
    buffalo: Call, alice: Gambler, method: str
) -> None:
    buffalo("debit", alice.tx("ref-1", "10"))
    stranger = {**alice.tx("ref-1", "10", tx_id="t-x"), "userId": "nobody"}
    answered(buffalo(method, stranger), stranger, "INVALID_SID", None)
    made_up = {**alice.tx("ref-1", "10", tx_id="t-x"), "sid": "never-issued-sid"}
    answered(buffalo(method, made_up), made_up, "INVALID_SID", "990")
    assert balance("alice") == D("990") and bet("ref-1", "buffalo").state == BetState.OPEN


def test_a_sid_of_another_provider_is_not_a_buffalo_sid(buffalo: Call, alice: Gambler) -> None:
    naga = session_create(account_id="alice", provider="naga").token
    payload = {**alice.base(), "sid": naga}
    answered(buffalo("balance", payload), payload, "INVALID_SID", "1000")


# --- the test-only sid method ----------------------------------------------------------------


def test_sid_method_issues_a_session_when_enabled(
    buffalo: Call, alice: Gambler, settings: object
) -> None:
    settings.BUFFALO_SID_METHOD_ENABLED = True  # type: ignore[attr-defined]
    payload = {"userId": "alice", "uuid": new_uuid()}
    sent = buffalo("sid", payload)
    answered(sent, payload, "OK", "1000")
    sid = sent.json["sid"]
    assert PlayerSession.objects.get(token=sid).player.account_id == "alice"
    entry = journaled(payload, action="sid", outcome="ok")
    assert sid not in str(entry.answer)
    body = Gambler("alice", sid).tx("ref-1", "1")
    answered(buffalo("debit", body), body, "OK", "999")
    unknown = {"userId": "nobody", "uuid": new_uuid()}
    answered(buffalo("sid", unknown), unknown, "INVALID_SID", None)


def test_sid_method_disabled_answers_like_an_unknown_method(
    buffalo: Call, alice: Gambler, send: Callable[..., Sent]
) -> None:
    payload = {"userId": "alice", "uuid": new_uuid()}
    disabled = buffalo("sid", payload)
    answered(disabled, payload, "UNKNOWN_ERROR", "1000")
    entry = journaled(payload, action="sid", outcome="unknown_action")
    assert "disabled" in entry.error
    assert PlayerSession.objects.filter(player__account_id="alice").count() == 1
    signed = build_request(payload, function="check")
    unknown_path = signed.path.replace("/check?", "/refund?")
    unknown = send(type(signed)(unknown_path, signed.body, signed.content_type, signed.headers))
    assert unknown.json == disabled.json
    assert journaled(payload, action="refund", outcome="unknown_action")
