"""After real money flows, provider calls over HTTP and staff actions alike, ``verify_ledger``
finds every ledger and audit chain whole (docs/ledger-chain.md)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from tests.admin.conftest import staff
from tests.helpers import bet
from tests.providers.jdb.jdb_wire import MYR_PLAYER, cancel_debits, credit, debit
from wallet.models import AuditEntry, LedgerEntry, Wallet
from wallet.services import approve_proposal, request_adjustment, request_bet_cancel

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("chen", "dana", "ledger_is_consistent"),
]

D = Decimal


def test_chains_are_whole_after_provider_calls_and_staff_actions(jdb: Any, settings: Any) -> None:
    settings.FOUR_EYES_THRESHOLD = "50"
    assert jdb(debit(5001, "10")).json["status"] == "0000"
    assert jdb(debit(5002, "7.5")).json["status"] == "0000"
    assert jdb(credit(5003, "25", [5001])).json["status"] == "0000"
    assert jdb(cancel_debits(5004, "7.5", [5002])).json["status"] == "0000"
    assert jdb(debit(5005, "3", uid=MYR_PLAYER, currency="RM")).json["status"] == "0000"
    proposer, approver = staff("sam_support", "Support"), staff("ada_approver", "Approver")
    chen = Wallet.objects.get(player__account_id="chen")
    at_once = request_adjustment(
        wallet_id=chen.pk, amount=D("5"), category="goodwill", actor=proposer, reason="sorry"
    )
    held = request_adjustment(
        wallet_id=chen.pk, amount=D("-60"), category="correction", actor=proposer, reason="dup"
    )
    assert at_once.proposal is None and held.proposal is not None
    approve_proposal(proposal_id=held.proposal.pk, approver=approver, reason="checked")
    request_bet_cancel(bet_id=bet("5005", "jdb").pk, actor=proposer, reason="stuck round")

    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    rows, audits = LedgerEntry.objects.count(), AuditEntry.objects.count()
    assert rows >= 9 and audits >= 3
    assert f"{rows} ledger rows" in out.getvalue() and f"{audits} audit rows" in out.getvalue()
    assert "0 broken chains" in out.getvalue()
    assert not LedgerEntry.objects.filter(chain_hash__isnull=True).exists()
    assert not AuditEntry.objects.filter(chain_hash__isnull=True).exists()
