"""Rollbacks and betNSettles repeated with other content (issue 21, item 2), over real AES-GCM.

A VP rollback carries no amount: what it can say otherwise than the bet is its player (tested in
``test_rollback.py``) and its round. A rollback whose ``roundId`` is not the bet's round is the
betId reused with other content (common.md): no money, flagged, and answered ``9999`` as VP's
other reused-id cases are (vp.md has no parameter-error code; 9999 is retried while staff look,
and never read as "rolled back").
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.helpers import balance, bet
from tests.providers.conftest import Sent
from tests.providers.vp.conftest import (
    assert_answer,
    bet_payload,
    journal_row,
    ledger_rows,
    rollback_payload,
)
from wallet.models import BetState

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("players", "ledger_is_consistent"),
]

D = Decimal
Vp = Callable[..., Sent]
ROUND = [("stake", D("-10")), ("win", D("25"))]


def test_a_rollback_naming_another_round_is_9999_and_flagged(vp: Vp) -> None:
    vp(bet_payload("r1", "10", "25"))
    sent = vp(rollback_payload("r1", roundId="round-somewhere-else"))
    assert_answer(sent, "9999", "115.00")
    flagged = bet("r1", "vp")
    assert flagged.needs_review and "round-somewhere-else" in flagged.review_reason
    assert flagged.state == BetState.SETTLED and flagged.cancel_outcome == ""
    assert journal_row().outcome == "mismatch"
    # The rollback VP meant, with the bet's round, is still decided as vp.md says.
    assert_answer(vp(rollback_payload("r1")), "2003", "115.00")
    assert balance() == D("115") and ledger_rows("r1") == ROUND


def test_a_repeated_rollback_with_another_round_is_9999_after_a_kept_round(vp: Vp) -> None:
    vp(bet_payload("r2", "10", "25"))
    assert_answer(vp(rollback_payload("r2")), "2003", "115.00")
    assert not bet("r2", "vp").needs_review
    assert_answer(vp(rollback_payload("r2", roundId="round-other")), "9999", "115.00")
    assert bet("r2", "vp").needs_review
    assert_answer(vp(rollback_payload("r2")), "2003", "115.00")  # the first decision stands
    assert balance() == D("115") and ledger_rows("r2") == ROUND


def test_a_repeated_rollback_with_another_round_after_a_reversal(
    vp: Vp, settings: pytest.FixtureRequest
) -> None:
    settings.VP_ROLLBACK_SETTLED = "reverse"  # type: ignore[attr-defined]
    vp(bet_payload("r3", "10", "25"))
    assert_answer(vp(rollback_payload("r3")), "0000", "100.00")
    assert_answer(vp(rollback_payload("r3", roundId="round-other")), "9999", "100.00")
    assert bet("r3", "vp").needs_review and bet("r3", "vp").state == BetState.CANCELLED
    assert balance() == D("100")
    assert ledger_rows("r3") == [*ROUND, ("reversal", D("-15"))]


def test_a_bet_and_settle_repeated_with_another_win_is_9999_and_flagged(vp: Vp) -> None:
    vp(bet_payload("r4", "10", "25"))
    assert_answer(vp(bet_payload("r4", "10", "99")), "9999", "115.00")
    assert bet("r4", "vp").needs_review and bet("r4", "vp").win == D("25")
    assert_answer(vp(bet_payload("r4", "10", "25", action="retryBet")), "0000", "115.00")
    assert balance() == D("115") and ledger_rows("r4") == ROUND
