"""Action 4 (Cancel BetNSettle): every row of jdb.md's "Action 4 trap" table.

JDB reads any Action 4 answer other than 6101 and 9017 as "cancel succeeded" and voids the
round on its side, so each test asserts the code JDB will act on, the money, and the journal.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError

from providers.jdb import adapter as jdb_adapter
from providers.jdb.client import build_request
from tests.helpers import balance, bet, ledger_kinds
from tests.providers.jdb.jdb_wire import (
    CNY_PLAYER,
    MYR_PLAYER,
    assert_journal,
    bet_n_settle,
    cancel_bet_n_settle,
    debit,
)
from wallet.models import BetState, LedgerEntry
from wallet.services import Outcome, WalletResult

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "dana", "ledger_is_consistent"),
]

D = Decimal
CANCEL = "4 Cancel BetNSettle"


def chen_balance() -> Decimal:
    return balance(CNY_PLAYER, "CNY")


# --- Action 8 applied ----------------------------------------------------------------------


def test_applied_round_stands_by_default_and_answers_6101(jdb, last_journal) -> None:
    jdb(bet_n_settle(2001, "-10", "25"))
    sent = jdb(cancel_bet_n_settle(2001))
    assert sent.json == {
        "status": "6101",
        "balance": "1015.00",
        "err_text": "cannot cancel: the BetNSettle was applied and stands",
    }
    assert chen_balance() == D("1015")
    assert ledger_kinds("2001", "jdb") == [("stake", D("-10")), ("win", D("25"))]
    assert bet("2001", "jdb").state == BetState.SETTLED
    assert_journal(
        last_journal(), action=CANCEL, status="6101", outcome="kept", bet_key="2001", is_cancel=True
    )


def test_reverse_policy_reverses_stake_and_win_and_answers_0000(jdb, settings) -> None:
    settings.JDB_CANCEL_SETTLED = "reverse"
    jdb(bet_n_settle(2002, "-10", "25"))
    sent = jdb(cancel_bet_n_settle(2002))
    assert sent.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert ledger_kinds("2002", "jdb") == [
        ("stake", D("-10")),
        ("win", D("25")),
        ("reversal", D("-15")),
    ]
    assert bet("2002", "jdb").state == BetState.CANCELLED


def test_reverse_policy_reverses_a_losing_round_by_giving_the_stake_back(jdb, settings) -> None:
    settings.JDB_CANCEL_SETTLED = "reverse"
    jdb(bet_n_settle(2003, "-10", "0"))
    assert jdb(cancel_bet_n_settle(2003)).json["status"] == "0000"
    assert chen_balance() == D("1000")
    assert ledger_kinds("2003", "jdb")[-1] == ("reversal", D("10"))


def test_reversal_that_would_overdraw_is_not_made_and_answers_6101(jdb, settings) -> None:
    settings.JDB_CANCEL_SETTLED = "reverse"
    jdb(bet_n_settle(2004, "-10", "500"))  # 1490
    jdb(debit(2005, "1480"))  # 10 left; reversing needs 490
    sent = jdb(cancel_bet_n_settle(2004))
    assert sent.json["status"] == "6101" and sent.json["balance"] == "10.00"
    assert chen_balance() == D("10")
    assert len(ledger_kinds("2004", "jdb")) == 2
    held = bet("2004", "jdb")
    assert held.state == BetState.SETTLED and held.needs_review


def test_the_reverse_setting_is_case_insensitive_but_not_lax(jdb, settings) -> None:
    settings.JDB_CANCEL_SETTLED = "REVERSE"
    jdb(bet_n_settle(2006, "-1", "0"))
    assert jdb(cancel_bet_n_settle(2006)).json["status"] == "0000"


# --- transferId unknown ----------------------------------------------------------------------


def test_unknown_transfer_is_tombstoned_and_the_late_bet_refused_with_9015(
    jdb, last_journal
) -> None:
    sent = jdb(cancel_bet_n_settle(2010))
    assert sent.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert bet("2010", "jdb").state == BetState.TOMBSTONE
    assert_journal(
        last_journal(),
        action=CANCEL,
        status="0000",
        outcome="tombstoned",
        bet_key="2010",
        is_cancel=True,
    )
    late = jdb(bet_n_settle(2010, "-10", "300"))
    assert late.json["status"] == "9015"
    assert late.json["balance"] == "1000.00"
    assert chen_balance() == D("1000")
    assert ledger_kinds("2010", "jdb") == []
    tomb = bet("2010", "jdb")
    assert tomb.state == BetState.TOMBSTONE and tomb.late_arrival_at and tomb.needs_review
    assert tomb.details["late_bet"]["win"] == "300.000000"
    assert_journal(
        last_journal(),
        action="8 BetNSettle",
        status="9015",
        outcome="bet_cancelled",
        bet_key="2010",
    )


# --- Action 8 was refused ---------------------------------------------------------------------


def test_cancel_of_a_refused_round_has_nothing_to_undo_and_answers_0000(jdb, last_journal) -> None:
    assert jdb(bet_n_settle(2020, "-5000", "0")).json["status"] == "6006"
    sent = jdb(cancel_bet_n_settle(2020))
    assert sent.json == {"status": "0000", "balance": "1000.00", "err_text": ""}
    assert bet("2020", "jdb").state == BetState.REFUSED
    assert ledger_kinds("2020", "jdb") == []
    assert last_journal().outcome == "nothing_to_undo"


# --- repeated Action 4 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("applied", "6101"),
        ("unknown", "0000"),
        ("refused", "0000"),
        ("reversed", "0000"),
    ],
)
def test_a_repeated_cancel_answers_the_first_code_and_moves_nothing(
    jdb, settings, last_journal, setup: str, code: str
) -> None:
    if setup == "reversed":
        settings.JDB_CANCEL_SETTLED = "reverse"
    if setup in ("applied", "reversed"):
        jdb(bet_n_settle(2030, "-10", "25"))
    if setup == "refused":
        jdb(bet_n_settle(2030, "-5000", "0"))
    first = jdb(cancel_bet_n_settle(2030))
    rows = ledger_kinds("2030", "jdb")
    money = chen_balance()
    # Flip the policy: a repeat still answers the first decision.
    settings.JDB_CANCEL_SETTLED = "keep" if setup == "reversed" else "reverse"
    for _ in range(3):
        again = jdb(cancel_bet_n_settle(2030))
        assert again.json == first.json
        assert again.json["status"] == code
    assert ledger_kinds("2030", "jdb") == rows and chen_balance() == money
    assert last_journal().outcome.startswith("replay:")


# --- we could not decide: 9017, never a code JDB reads as "cancelled" --------------------------


def test_lock_wait_exceeded_answers_9017_and_moves_nothing(jdb, monkeypatch, last_journal) -> None:
    """The service's BUSY outcome (PostgreSQL's real lock timeout: see test_concurrency)."""
    jdb(bet_n_settle(2040, "-10", "25"))
    monkeypatch.setattr(
        jdb_adapter, "bet_cancel", lambda **kw: WalletResult(Outcome.BUSY, message="lock timeout")
    )
    sent = jdb(cancel_bet_n_settle(2040))
    assert sent.json["status"] == "9017"
    assert chen_balance() == D("1015")
    assert_journal(
        last_journal(), action=CANCEL, status="9017", outcome="busy", bet_key="2040", is_cancel=True
    )


@pytest.mark.parametrize(
    "failure",
    [DatabaseError("server closed the connection"), RuntimeError("a bug"), KeyError("x")],
)
def test_any_unexpected_failure_answers_9017(jdb, monkeypatch, last_journal, failure) -> None:
    jdb(bet_n_settle(2041, "-10", "25"))

    def explode(**kwargs: object) -> WalletResult:
        raise failure

    monkeypatch.setattr(jdb_adapter, "bet_cancel", explode)
    sent = jdb(cancel_bet_n_settle(2041))
    assert sent.json == {"status": "9017", "err_text": "internal error, try again"}
    assert chen_balance() == D("1015")
    assert bet("2041", "jdb").state == BetState.SETTLED
    entry = last_journal()
    assert_journal(
        entry, action=CANCEL, status="9017", outcome="error", bet_key="2041", is_cancel=True
    )
    assert type(failure).__name__ in entry.error


def test_unexpected_failure_in_other_actions_answers_9999(jdb, monkeypatch) -> None:
    def explode(**kwargs: object) -> WalletResult:
        raise RuntimeError("a bug")

    monkeypatch.setattr(jdb_adapter, "bet_place_and_settle", explode)
    assert jdb(bet_n_settle(2042, "-1", "0")).json["status"] == "9999"
    assert chen_balance() == D("1000")


def test_a_bad_cancel_policy_setting_answers_9017(jdb, settings, last_journal) -> None:
    jdb(bet_n_settle(2043, "-10", "25"))
    settings.JDB_CANCEL_SETTLED = "sometimes"
    assert jdb(cancel_bet_n_settle(2043)).json["status"] == "9017"
    assert chen_balance() == D("1015")
    assert "JDB_CANCEL_SETTLED" in last_journal().error


@pytest.mark.parametrize(
    "change",
    [
        {"transferId": None},
        {"transferId": 1.5},
        {"uid": None},
        {"uid": 42},
        {"currency": "??"},
        {"action": "4"},
    ],
    ids=["no-transferId", "decimal-transferId", "no-uid", "uid-number", "bad-currency", "str-4"],
)
def test_a_malformed_action_4_answers_9017_not_a_parameter_error(
    jdb, last_journal, change: dict
) -> None:
    """A parameter error would read as "cancelled" at JDB; we cannot know the round's fate."""
    jdb(bet_n_settle(2044, "-10", "25"))
    payload = {k: v for k, v in {**cancel_bet_n_settle(2044), **change}.items() if v is not None}
    sent = jdb(payload)
    assert sent.json["status"] == "9017"
    assert chen_balance() == D("1015")
    assert bet("2044", "jdb").state == BetState.SETTLED
    entry = last_journal()
    assert entry.is_cancel and entry.outcome == "bad_input" and entry.action == CANCEL


def test_a_misconfigured_key_answers_9017_since_the_request_may_be_an_action_4(
    send, settings, last_journal
) -> None:
    sealed_with_the_right_key = build_request(cancel_bet_n_settle(2045))
    settings.JDB_AES_KEY = "a-key-longer-than-sixteen-bytes"
    sent = send(sealed_with_the_right_key)
    assert sent.status == 200
    assert sent.json == {"status": "9017", "err_text": "internal error, try again"}
    assert "JDB_AES_KEY" in last_journal().error


# --- the cancel names someone else's round -------------------------------------------------------


def test_cancel_naming_another_player_keeps_the_round_answers_6101_and_flags(jdb) -> None:
    jdb(bet_n_settle(2050, "-10", "25"))
    sent = jdb(cancel_bet_n_settle(2050, uid=MYR_PLAYER, currency="RM"))
    assert sent.json["status"] == "6101"
    assert "flagged" in sent.json["err_text"]
    assert chen_balance() == D("1015") and balance(MYR_PLAYER, "MYR") == D("40")
    assert bet("2050", "jdb").needs_review


def test_cancel_in_another_currency_keeps_the_round_and_answers_6101(jdb) -> None:
    jdb(bet_n_settle(2051, "-10", "25"))
    sent = jdb(cancel_bet_n_settle(2051, currency="USD"))
    assert sent.json["status"] == "6101"
    assert chen_balance() == D("1015")


def test_cancel_for_an_unknown_player_answers_7501(jdb) -> None:
    sent = jdb(cancel_bet_n_settle(2052, uid="nobody"))
    assert sent.json["status"] == "7501"
    assert not LedgerEntry.objects.filter(provider="jdb").exists()


def test_cancel_needs_no_session(jdb) -> None:
    jdb(bet_n_settle(2053, "-1", "0"))
    assert jdb(cancel_bet_n_settle(2053, systemSessionId="expired")).json["status"] == "6101"
