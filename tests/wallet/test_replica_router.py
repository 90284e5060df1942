"""The standby takes the admin's and the finance exports' reads, and nothing that decides money.

``tests/settings.py`` gives the test database a second alias, ``replica``, as
``DATABASE_REPLICA_URL`` would for a standby. Here the router is installed and every statement
that alias runs is recorded: a money path that reads it fails the test. The admin's lists and
the finance exports must read it (else the router would be proven safe by doing nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin import site
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from providers import demo_keys
from tests.admin.conftest import as_user, open_bet, staff
from tests.helpers import balance, ledger_kinds, make_player
from tests.operator_api.conftest import call, keys
from tests.reliability.conftest import gambler, post_signed
from tests.reliability.flows import Flows, Gambler
from wallet.db import replica
from wallet.db.replica import REPLICA, ReplicaRouter, replica_reads
from wallet.models import Bet, LedgerEntry, Wallet

__all__ = ["as_user", "keys"]  # fixtures of the admin's and the API's tests, used here too

pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA])

D = Decimal
User = get_user_model()
#: Tables that must never be read from the standby: who is signed in, and with what right.
SECURITY_TABLES = ("auth_", "django_session", "otp_", "rest_framework_api_key", "operator_api")


@pytest.fixture
def standby_reads(settings: Any) -> Iterator[list[str]]:
    """The router installed (as DATABASE_REPLICA_URL does); every statement sent to the
    standby's connection, recorded."""
    settings.DATABASE_ROUTERS = ["wallet.db.replica.ReplicaRouter"]
    settings.NAGA_PUBLIC_KEY = demo_keys.NAGA_PUBLIC_KEY_PATH
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH
    seen: list[str] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    with connections[REPLICA].execute_wrapper(record):
        yield seen


# --- the router's rules ---------------------------------------------------------------------


def test_reads_go_to_the_standby_only_inside_the_scope_and_outside_transactions(
    standby_reads: list[str],
) -> None:
    router = ReplicaRouter()
    assert router.db_for_read(Bet) == DEFAULT_DB_ALIAS  # no scope: the primary
    with replica_reads():
        assert router.db_for_read(Bet) == REPLICA
        assert router.db_for_read(LedgerEntry) == REPLICA
        assert router.db_for_read(User) == DEFAULT_DB_ALIAS  # who is signed in: the primary
        with transaction.atomic():
            assert router.db_for_read(Wallet) == DEFAULT_DB_ALIAS  # under a transaction
        assert router.db_for_write(Bet) == DEFAULT_DB_ALIAS
        assert router.db_for_read(Bet) == DEFAULT_DB_ALIAS  # after a write: the primary
    assert router.allow_migrate(REPLICA, "wallet") is False


def test_without_a_replica_database_the_scope_changes_nothing(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DATABASE_ROUTERS = ["wallet.db.replica.ReplicaRouter"]
    monkeypatch.setattr(replica, "replica_configured", lambda: False)  # no DATABASE_REPLICA_URL
    with replica_reads():
        assert ReplicaRouter().db_for_read(Bet) == DEFAULT_DB_ALIAS


# --- money paths: never the standby ---------------------------------------------------------

PROVIDER_FLOWS = ("jdb9", "vp", "naga", "buffalo")
SUCCESS = {"jdb": "0000", "vp": "0000", "naga": "200", "buffalo": "OK"}


def play(client: Client, who: Gambler, flow: str, n: int) -> None:
    """A bet, then its settle (or, for VP's bet-and-settle, its rollback), through the
    provider's URL with the provider's own request bytes."""
    flows, provider = Flows(), "jdb" if flow == "jdb9" else flow
    key = str(290_000 + 10 * n) if provider == "jdb" else f"rr-{flow}-{n}"  # JDB: numbers
    opened = post_signed(client, provider, flows.open(flow, who, key, D("10"), D("4")).signed())
    assert opened.code == SUCCESS[provider], opened
    closing = (
        flows.cancel(flow, who, key, f"c-{key}", D("10"))
        if flow == "vp"
        else flows.settle(
            flow, who, key, str(int(key) + 1) if key.isdigit() else f"s-{key}", D("4")
        )
    )
    closed = post_signed(client, provider, closing.signed())
    # VP keeps a settled round: its rollback answers 2003, nothing moves.
    assert closed.code == ("2003" if flow == "vp" else SUCCESS[provider]), closed


@pytest.mark.parametrize("forced", [False, True], ids=["as-routed", "inside-the-scope"])
def test_provider_money_calls_never_read_the_standby(
    standby_reads: list[str], client: Client, forced: bool
) -> None:
    """``inside-the-scope``: even run inside ``replica_reads()`` (which the middleware never
    does on provider URLs), no read that decides the answer goes to the standby."""
    who = gambler("alice", "USD", "100")
    with replica_reads() if forced else nullcontext():
        for n, flow in enumerate(PROVIDER_FLOWS):
            play(client, who, flow, n)
    assert Bet.objects.count() == len(PROVIDER_FLOWS)
    assert [sql for sql in standby_reads if "BEGIN" not in sql.upper()] == []


def test_staff_money_actions_never_read_the_standby(
    standby_reads: list[str], as_user: Callable[[Any], Client]
) -> None:
    make_player("alice", "USD", "100")
    bet = open_bet("rr-staff", amount="12.5")
    client = as_user(staff("sam_support", "Support"))
    url = reverse("admin:wallet_bet_cancel", args=[bet.pk])
    standby_reads.clear()

    done = client.post(url, {"reason": "Provider ticket 29", "confirm": "1"})

    assert done.status_code in (200, 302), done.content[:300]
    assert ledger_kinds("rr-staff", "buffalo") == [("stake", D("-12.5")), ("refund", D("12.5"))]
    assert balance() == D("100")
    assert standby_reads == []


def test_operator_api_money_calls_never_read_the_standby(
    standby_reads: list[str], keys: dict[str, str]
) -> None:
    make_player("alice", "USD", "10")
    deposit = call(
        "POST",
        "/api/v1/players/alice/deposits/",
        key=keys["platform"],
        body={"currency": "USD", "amount": "5.00", "reference": "rr-1"},
        idempotency_key="rr-dep-1",
    )
    assert deposit.status == 201, deposit.data
    player = call("GET", "/api/v1/players/alice/", key=keys["read-only"])
    assert player.data["wallets"][0]["balance"] == "15.00"
    ledger = call("GET", "/api/v1/players/alice/ledger/", key=keys["read-only"])
    assert ledger.status == 200
    assert standby_reads == []


# --- the admin's and the exports' reads: the standby ----------------------------------------


def test_admin_lists_read_the_standby_and_sign_in_reads_the_primary(
    standby_reads: list[str], as_user: Callable[[Any], Client]
) -> None:
    make_player("alice", "USD", "100")
    open_bet("rr-list")
    client = as_user(staff("sam_support", "Support"))

    page = client.get(reverse("admin:wallet_bet_changelist"))

    assert page.status_code == 200 and "rr-list" in page.content.decode()
    assert any("wallet_bet" in sql for sql in standby_reads), standby_reads
    assert not [sql for sql in standby_reads if any(t in sql for t in SECURITY_TABLES)]


def test_the_finance_export_reads_the_standby(
    standby_reads: list[str], as_user: Callable[[Any], Client]
) -> None:
    make_player("alice", "USD", "100")
    open_bet("rr-export")
    client = as_user(staff("fay_finance", "Finance"))

    page = client.get(reverse("admin:finance_export"), {"download": "1"})
    body = b"".join(page.streaming_content) if page.streaming else page.content

    assert page.status_code == 200
    assert b"rr-export" in body or b"ledger_id" in body
    assert standby_reads, "the export read nothing from the standby"


def test_the_api_export_and_the_export_command_read_the_standby(
    standby_reads: list[str], keys: dict[str, str], tmp_path: Any
) -> None:
    make_player("alice", "USD", "100")
    day = timezone.now().date().isoformat()
    path = f"/api/v1/reconciliation/transactions/?day={day}&format=csv"
    reply = call("GET", path, key=keys["finance"])
    assert reply.status == 200, reply.content[:300]
    assert standby_reads
    standby_reads.clear()
    call_command("export_reconciliation", "-o", str(tmp_path / "export.csv"))
    assert standby_reads
    assert (tmp_path / "export.csv").read_bytes().count(b"\n") >= 2  # the header and a deposit


def test_admin_pages_that_read_the_standby_write_nothing(
    standby_reads: list[str], as_user: Callable[[Any], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every list of the admin, as a superuser: a read of the standby is only allowed in a
    request that writes nothing, so none of them may write."""
    make_player("alice", "USD", "100")
    open_bet("rr-crawl")
    client = as_user(staff("boss", superuser=True))
    writes: list[str] = []
    original = ReplicaRouter.db_for_write

    def watched(self: ReplicaRouter, model: Any, **hints: Any) -> str:
        if replica._scope.get() is not None:
            writes.append(model._meta.label)
        return original(self, model, **hints)

    monkeypatch.setattr(ReplicaRouter, "db_for_write", watched)
    urls = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in site._registry
    ]
    for url in urls:
        page = client.get(url)
        assert page.status_code in (200, 302), url
    assert writes == []
    assert standby_reads
