"""Naga over HTTP with real RSA signatures: every function and every row of naga.md's answers
table, asserting the answer, the balance, the ledger rows and the journal row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from providers.naga import adapter as naga_adapter
from providers.naga.crypto import SignatureForm
from tests.helpers import balance, bet, ledger_kinds, make_player
from tests.providers.naga.conftest import (
    Naga,
    assert_error,
    assert_no_money_moved,
    journal,
    place_bet_data,
    session_data,
)
from wallet.models import BetState, Player, PlayerSession
from wallet.services import Outcome, WalletResult, session_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

D = Decimal
BET = "41984486-2234-4aa8-be82-df58eab8b121"
OTHER_BET = "82a8f9f5-adcf-710f-4a24-5f41d9d59d70"


def place(naga: Naga, token: str, bet_id: str = BET, amount: str = "10", **kw: object):
    return naga.call("place-bet", place_bet_data(token, bet_id, amount, **kw))  # type: ignore[arg-type]


def payout(naga: Naga, token: str, bet_id: str = BET, amount: str = "25", **kw: object):
    kw.setdefault("tx", f"payout-{bet_id}")
    return naga.call("payout", place_bet_data(token, bet_id, amount, **kw))  # type: ignore[arg-type]


def cancel(naga: Naga, bet_id: str = BET, token: str | None = None):
    data: dict[str, object] = {"betId": bet_id}
    if token is not None:
        data["playerToken"] = token
    return naga.call("cancel-bet", data)


def status(naga: Naga, bet_id: str = BET, **extra: object):
    return naga.call("bet-status", {"betId": bet_id, **extra})


def canceled(bet_id: str = BET) -> dict[str, object]:
    return {"data": {"betId": bet_id, "status": "CANCELED"}, "error": None}


# --- authorize and balance ----------------------------------------------------------------------


@pytest.mark.parametrize("function", ["authorize", "balance"])
def test_authorize_and_balance_answer_the_tokens_player(
    naga: Naga, alice_token: str, function: str
) -> None:
    sent = naga.call(function, session_data(alice_token))
    assert sent.status == 200
    assert sent.json == {
        "data": {"nativeId": "alice", "currency": "USD", "balance": D("100.00")},
        "error": None,
    }
    assert b'"balance":100.00' in sent.raw  # a JSON number with 2 decimals
    row = journal()
    assert (row.action, row.http_status, row.outcome) == (function, 200, "ok")
    assert row.account_id == "alice" and row.signature_form == "dataHash"
    assert row.payload is not None and alice_token not in str(row.payload)  # redacted
    assert row.payload["data"]["gameCode"] == "NG-fortune"


def test_balance_is_rounded_down_to_two_decimals(naga: Naga) -> None:
    make_player("carol", "USD", "10.129999")
    token = session_create(account_id="carol", provider="naga").token
    sent = naga.call("balance", session_data(token))
    assert sent.json["data"]["balance"] == D("10.12")
    assert balance("carol") == D("10.129999")


@pytest.mark.parametrize("how", ["unknown", "expired", "revoked", "other provider"])
def test_authorize_needs_a_live_naga_token(naga: Naga, alice_token: str, how: str) -> None:
    token = alice_token
    if how == "unknown":
        token = "never-issued"
    elif how == "expired":
        PlayerSession.objects.filter(token=token).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif how == "revoked":
        PlayerSession.objects.filter(token=token).update(revoked_at=timezone.now())
    else:
        token = session_create(account_id="alice", provider="buffalo").token
    sent = naga.call("authorize", session_data(token))
    assert_error(sent, 401, "Invalid player token")
    row = journal()
    assert (row.http_status, row.outcome) == (401, "auth_failed")
    assert "Invalid player token" in row.error


def test_the_url_works_without_the_trailing_slash(naga: Naga, alice_token: str) -> None:
    signed = naga.request("authorize", session_data(alice_token))
    signed = type(signed)(path=signed.path.rstrip("/"), body=signed.body, headers=signed.headers)
    assert naga.post(signed).status == 200


def test_unknown_function_is_404_in_nagas_format(naga: Naga, alice_token: str) -> None:
    sent = naga.call("withdraw", session_data(alice_token))
    assert_error(sent, 404, "Unknown function")
    assert journal().outcome == "unknown_action"


# --- place-bet ------------------------------------------------------------------------------


def test_place_bet_takes_the_stake(naga: Naga, alice_token: str) -> None:
    sent = place(naga, alice_token, amount="10.50")
    assert sent.status == 200
    assert sent.json == {"data": {"currency": "USD", "balance": D("89.50")}, "error": None}
    assert balance() == D("89.50")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10.50"))]
    stored = bet(BET, "naga")
    assert stored.state == BetState.OPEN and stored.open_tx_id == f"tx-{BET}"
    assert stored.game_code == "NG-fortune" and stored.round_id == BET
    row = journal()
    assert (row.action, row.bet_key, row.account_id, row.outcome) == (
        "place-bet",
        BET,
        "alice",
        "ok",
    )
    assert row.payload is not None
    assert row.payload["data"]["amount"] == "10.5"  # as Naga printed it (JavaScript)


def test_amount_as_numeric_text_is_read_exactly(naga: Naga, alice_token: str) -> None:
    data = place_bet_data(alice_token, BET)
    data["amount"] = "10.25"
    sent = naga.call("place-bet", data)
    assert sent.json == {"data": {"currency": "USD", "balance": D("89.75")}, "error": None}
    assert ledger_kinds(BET, "naga") == [("stake", D("-10.25"))]


def test_place_bet_repeated_three_times_pays_once_and_answers_the_same(
    naga: Naga, alice_token: str
) -> None:
    answers = [place(naga, alice_token) for _ in range(3)]
    assert {a.status for a in answers} == {200}
    assert answers[0].raw == answers[1].raw == answers[2].raw
    assert balance() == D("90")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10"))]
    assert journal().outcome == "replay:ok"


def test_place_bet_with_insufficient_balance(naga: Naga, alice_token: str) -> None:
    sent = place(naga, alice_token, amount="100.01")
    assert_error(sent, 400, "Insufficient balance")
    assert balance() == D("100")
    assert ledger_kinds(BET, "naga") == []
    assert bet(BET, "naga").state == BetState.REFUSED
    assert journal().outcome == "insufficient_funds"
    # Naga's repeat gets the first answer; the cancel that follows has nothing to undo.
    assert_error(place(naga, alice_token, amount="100.01"), 400, "Insufficient balance")
    assert cancel(naga).json == canceled()
    assert balance() == D("100") and bet(BET, "naga").state == BetState.REFUSED
    assert status(naga).json["data"]["status"] == "FAILED"


def test_place_bet_needs_a_live_token(naga: Naga, alice_token: str) -> None:
    PlayerSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(place(naga, alice_token), 401, "Invalid player token")
    assert_no_money_moved()
    assert journal().bet_key == BET


def test_place_bet_reusing_a_bet_id_with_other_content_is_a_duplicate(
    naga: Naga, alice_token: str
) -> None:
    place(naga, alice_token, amount="10")
    assert_error(place(naga, alice_token, amount="20"), 409, "Duplicate bet")
    assert balance() == D("90")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10"))]
    assert bet(BET, "naga").needs_review
    assert journal().outcome == "mismatch"


def test_place_bet_reusing_a_transaction_id_for_another_bet_is_a_duplicate(
    naga: Naga, alice_token: str
) -> None:
    place(naga, alice_token, BET, tx="same-tx")
    assert_error(place(naga, alice_token, OTHER_BET, tx="same-tx"), 409, "Duplicate bet")
    assert balance() == D("90")
    assert ledger_kinds(OTHER_BET, "naga") == []


def test_place_bet_in_another_currency_than_the_session(naga: Naga, alice_token: str) -> None:
    sent = place(naga, alice_token, currency="EUR")
    assert_error(sent, 400, "Invalid parameters: currency 'EUR' is not the session's")
    assert_no_money_moved()


def test_blocked_player_cannot_bet(naga: Naga, alice_token: str) -> None:
    Player.objects.filter(account_id="alice").update(status=Player.Status.BLOCKED)
    assert_error(place(naga, alice_token), 403, "Player blocked")
    assert_no_money_moved()


# --- payout ---------------------------------------------------------------------------------


def test_payout_credits_the_win_once_even_when_repeated(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    answers = [payout(naga, alice_token, amount="25") for _ in range(3)]
    assert {a.status for a in answers} == {200}
    assert answers[0].json == {"data": {"currency": "USD", "balance": D("115.00")}, "error": None}
    assert answers[0].raw == answers[1].raw == answers[2].raw
    assert balance() == D("115")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("25"))]
    assert bet(BET, "naga").state == BetState.SETTLED
    row = journal()
    assert (row.action, row.bet_key, row.account_id, row.outcome) == (
        "payout",
        BET,
        "alice",
        "replay:ok",
    )


def test_payout_of_zero_settles_a_lost_bet(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    sent = payout(naga, alice_token, amount="0")
    assert sent.json == {"data": {"currency": "USD", "balance": D("90.00")}, "error": None}
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("0"))]
    assert bet(BET, "naga").state == BetState.SETTLED


@pytest.mark.parametrize("token", ["absent", "expired", "unknown"])
def test_payout_needs_no_live_session(naga: Naga, alice_token: str, token: str) -> None:
    place(naga, alice_token)
    PlayerSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    data = place_bet_data(alice_token, BET, "7.25", tx="p1")
    if token == "absent":
        del data["playerToken"]
    elif token == "unknown":
        data["playerToken"] = "issued-by-nobody"
    sent = naga.call("payout", data)
    assert sent.status == 200 and sent.json["data"]["balance"] == D("97.25")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("7.25"))]
    assert journal().account_id == "alice"


def test_payout_for_an_unknown_bet_is_not_found(naga: Naga, alice_token: str) -> None:
    assert_error(payout(naga, alice_token), 404, "Transaction Not Found")
    assert_no_money_moved()
    assert journal().outcome == "bet_not_found"


def test_payout_for_a_refused_bet_is_not_found(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token, amount="500")
    assert_error(payout(naga, alice_token), 404, "Transaction Not Found")
    assert_no_money_moved()


def test_payout_in_another_currency_than_the_bet(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    sent = payout(naga, alice_token, currency="EUR")
    assert_error(sent, 400, "Invalid parameters: currency is not the bet's or wallet's")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10"))]
    assert bet(BET, "naga").state == BetState.OPEN


def test_second_payout_with_another_id_is_refused(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    payout(naga, alice_token, amount="5")
    sent = payout(naga, alice_token, amount="5", tx="another-payout")
    assert_error(sent, 400, "Transaction Seamless Already Resolved")
    assert balance() == D("95")
    assert bet(BET, "naga").needs_review


def test_payout_reusing_its_id_with_another_amount_is_a_duplicate(
    naga: Naga, alice_token: str
) -> None:
    place(naga, alice_token)
    payout(naga, alice_token, amount="5")
    assert_error(payout(naga, alice_token, amount="50"), 409, "Duplicate bet")
    assert balance() == D("95")
    assert bet(BET, "naga").needs_review


# --- cancel-bet -----------------------------------------------------------------------------


def test_cancel_of_an_open_bet_refunds_the_stored_stake(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token, amount="12.34")
    sent = cancel(naga)
    assert sent.status == 200 and sent.json == canceled()
    assert balance() == D("100")
    assert ledger_kinds(BET, "naga") == [("stake", D("-12.34")), ("refund", D("12.34"))]
    assert bet(BET, "naga").state == BetState.CANCELLED
    row = journal()
    assert (row.action, row.is_cancel, row.bet_key, row.account_id, row.outcome) == (
        "cancel-bet",
        True,
        BET,
        "alice",
        "cancelled",
    )


def test_repeated_cancel_answers_canceled_and_refunds_once(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    answers = [cancel(naga, token=alice_token) for _ in range(3)]
    assert all(a.status == 200 and a.json == canceled() for a in answers)
    assert balance() == D("100")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("refund", D("10"))]
    assert journal().outcome == "replay:cancelled"


def test_cancel_of_an_unknown_bet_tombstones_it_and_the_late_bet_is_refused(
    naga: Naga, alice_token: str
) -> None:
    sent = cancel(naga)
    assert sent.status == 200 and sent.json == canceled()
    assert bet(BET, "naga").state == BetState.TOMBSTONE
    assert journal().outcome == "tombstoned"
    late = place(naga, alice_token)
    assert_error(late, 400, "Bet canceled")
    assert balance() == D("100")
    assert ledger_kinds(BET, "naga") == []
    stored = bet(BET, "naga")
    assert stored.state == BetState.TOMBSTONE and stored.needs_review
    assert stored.late_arrival_at is not None
    assert journal().outcome == "bet_cancelled"
    assert_error(payout(naga, alice_token), 400, "Bet canceled")
    assert cancel(naga).json == canceled()  # Naga's retry of the cancel still succeeds
    assert_no_money_moved()


def test_place_bet_and_payout_after_a_cancel_are_refused(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    cancel(naga)
    assert_error(place(naga, alice_token), 400, "Bet canceled")
    assert_error(payout(naga, alice_token), 400, "Bet canceled")
    assert balance() == D("100")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("refund", D("10"))]


def test_cancel_after_payout_is_refused_and_flagged(naga: Naga, alice_token: str) -> None:
    place(naga, alice_token)
    payout(naga, alice_token, amount="30")
    for _ in range(2):  # the repeat gets the same answer
        assert_error(cancel(naga), 400, "Transaction Seamless Already Resolved")
    assert balance() == D("120")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10")), ("win", D("30"))]
    stored = bet(BET, "naga")
    assert stored.state == BetState.SETTLED and stored.needs_review
    row = journal()
    assert (row.is_cancel, row.http_status, row.outcome) == (True, 400, "already_settled")


# --- a token of another player ------------------------------------------------------------


def test_token_of_another_player_is_refused_everywhere(
    naga: Naga, alice_token: str, bob_token: str
) -> None:
    place(naga, alice_token)
    # Bob repeats Alice's bet id, pays out on it, cancels it: each refused, no money moves.
    assert_error(place(naga, bob_token), 409, "Duplicate bet")
    assert_error(payout(naga, bob_token), 409, "Duplicate bet")
    assert_error(cancel(naga, token=bob_token), 409, "Duplicate bet")
    assert balance("alice") == D("90") and balance("bob") == D("50")
    assert ledger_kinds(BET, "naga") == [("stake", D("-10"))]
    stored = bet(BET, "naga")
    assert stored.state == BetState.OPEN and stored.needs_review
    assert journal().account_id == "bob"
    # Alice's own cancel still works.
    assert cancel(naga, token=alice_token).json == canceled()
    assert balance("alice") == D("100")


def test_bet_status_of_another_players_bet_is_not_revealed(
    naga: Naga, alice_token: str, bob_token: str
) -> None:
    place(naga, alice_token)
    assert_error(status(naga, playerId="bob"), 404, "Transaction Not Found")
    assert status(naga, playerId="alice").json["data"]["status"] == "PENDING"


# --- bet-status -----------------------------------------------------------------------------


def test_bet_status_follows_the_bet(naga: Naga, alice_token: str) -> None:
    assert_error(status(naga), 404, "Transaction Not Found")
    place(naga, alice_token)
    assert status(naga).json == {
        "data": {
            "betId": BET,
            "transactionPlaceBetId": f"tx-{BET}",
            "transactionPayoutId": None,
            "status": "PENDING",
        },
        "error": None,
    }
    payout(naga, alice_token, amount="3")
    data = status(naga).json["data"]
    assert (data["status"], data["transactionPayoutId"]) == ("RESOLVED", f"payout-{BET}")
    row = journal()
    assert (row.action, row.bet_key, row.account_id, row.outcome) == (
        "bet-status",
        BET,
        "alice",
        "ok",
    )
    place(naga, alice_token, OTHER_BET)
    cancel(naga, OTHER_BET)
    assert status(naga, OTHER_BET).json["data"]["status"] == "CANCELED"
    cancel(naga, "never-placed")
    tomb = status(naga, "never-placed").json["data"]
    assert tomb == {
        "betId": "never-placed",
        "transactionPlaceBetId": None,
        "transactionPayoutId": None,
        "status": "CANCELED",
    }
    assert balance() == D("93")


# --- free spins ---------------------------------------------------------------------------


def test_free_spins_with_zero_stake_and_parent_bet(naga: Naga, alice_token: str) -> None:
    trigger = "aaaaaaaa-0000-0000-0000-000000000001"
    spins = [f"aaaaaaaa-0000-0000-0000-00000000000{n}" for n in (2, 3)]
    place(naga, alice_token, trigger, "5", parent=trigger, betType="NORMAL")
    payout(naga, alice_token, trigger, "0", parent=trigger)
    for n, spin in enumerate(spins):
        last = n == len(spins) - 1
        sent = place(
            naga, alice_token, spin, "0", parent=trigger, betType="FREE_SPIN", isLastFreeSpins=last
        )
        assert sent.status == 200 and sent.json["data"]["balance"] == D("95.00") + 4 * n
        assert payout(naga, alice_token, spin, "4", parent=trigger).status == 200
    assert balance() == D("103")
    assert ledger_kinds(spins[0], "naga") == [("stake", D("0")), ("win", D("4"))]
    last_spin = bet(spins[-1], "naga")
    assert last_spin.details == {
        "parentBetId": trigger,
        "betType": "FREE_SPIN",
        "isLastFreeSpins": True,
    }
    assert last_spin.round_id == trigger and last_spin.state == BetState.SETTLED
    assert bet(trigger, "naga").details["betType"] == "NORMAL"


# --- signature forms, failures, configuration -----------------------------------------------


def test_signature_over_the_data_json_is_accepted_and_journaled(
    naga: Naga, alice_token: str
) -> None:
    sent = naga.call("authorize", session_data(alice_token), form=SignatureForm.DATA_JSON)
    assert sent.status == 200
    assert journal().signature_form == "data-json"


def test_busy_wallet_answers_503_and_moves_nothing(
    naga: Naga, alice_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        naga_adapter, "bet_open", lambda **kw: WalletResult(Outcome.BUSY, message="lock timeout")
    )
    assert_error(place(naga, alice_token), 503, "Temporarily unavailable")
    assert_no_money_moved()
    assert journal().outcome == "busy"


def test_unexpected_failure_answers_503(
    naga: Naga, alice_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kw: object) -> WalletResult:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(naga_adapter, "bet_cancel", explode)
    assert_error(cancel(naga), 503, "Temporarily unavailable")
    row = journal()
    assert (row.http_status, row.outcome, row.is_cancel) == (503, "error", True)
    assert "database on fire" in row.error


def test_missing_public_key_answers_503_not_a_false_bad_signature(
    naga: Naga, alice_token: str, settings: object
) -> None:
    settings.NAGA_PUBLIC_KEY = ""  # type: ignore[attr-defined]
    assert_error(naga.call("authorize", session_data(alice_token)), 503, "Temporarily unavailable")
    assert "NAGA_PUBLIC_KEY is not set" in journal().error


def test_unset_brand_code_answers_503_and_moves_nothing(
    naga: Naga, alice_token: str, settings: object
) -> None:
    settings.NAGA_BRAND_CODE = ""  # type: ignore[attr-defined]
    assert_error(place(naga, alice_token), 503, "Temporarily unavailable")
    assert_no_money_moved()
    assert "NAGA_BRAND_CODE is not configured" in journal().error


def test_caller_outside_the_allowlist_is_forbidden(
    naga: Naga, alice_token: str, settings: object
) -> None:
    settings.NAGA_ALLOWED_IPS = ["10.0.0.0/8"]  # type: ignore[attr-defined]
    assert_error(naga.call("authorize", session_data(alice_token)), 403, "Forbidden")
    assert journal().outcome == "forbidden_ip"
    sent = naga.send(naga.request("authorize", session_data(alice_token)), remote_addr="10.1.2.3")
    assert sent.status == 200
