"""VP: a betNSettle whose win would take the balance past what a wallet holds is refused with
the final "bet refused" (VP has no parameter error), nothing taken; never "try again"."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import balance, make_player
from tests.providers.vp.conftest import bet_payload, journal_row
from wallet.models import Bet, LedgerEntry

pytestmark = pytest.mark.django_db


def test_a_win_past_the_balance_limit_is_refused_and_final(vp) -> None:
    make_player("rich", "USD", "99999999999990")
    rows = LedgerEntry.objects.count()
    sent = vp(bet_payload("big-1", stake="1", win="50", uid="rich"))
    assert sent.json["status"] == "1006", sent.json
    assert "largest balance" in sent.json["errText"]
    assert balance("rich") == Decimal("99999999999990")
    assert LedgerEntry.objects.count() == rows
    assert not Bet.objects.filter(provider="vp", bet_key="big-1").exists()
    assert journal_row().outcome == "balance_limit"
