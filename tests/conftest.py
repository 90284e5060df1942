"""Suite-wide fixtures: every test runs with the test keys below, never the environment's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from wallet.chain import chain_key
from wallet.chain_verify import verify_chains
from wallet.consistency import check_ledger
from wallet.db import held_commit, hot_sql

TEST_PROVIDER_SETTINGS = {
    "JDB_AES_KEY": "testJdbAesKey128",
    "JDB_AES_IV": "testJdbAesIv0016",
    "JDB_ALLOWED_IPS": [],
    "JDB_CURRENCY_MAP": "RB:CNY,RM:MYR",
    "JDB_CANCEL_SETTLED": "keep",
    "VP_AGENT_ID": "integratorTest01",
    "VP_API_KEY": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    "VP_SECRET_KEY": "test-vp-secret",
    "VP_ALLOWED_IPS": [],
    "VP_ROLLBACK_SETTLED": "keep",
    "NAGA_GROUP_CODE": "TGRP",
    "NAGA_BRAND_CODE": "TBRD",
    "NAGA_ALLOWED_IPS": [],
    "BUFFALO_AUTH_TOKEN": "test-buffalo-token_01",
    "BUFFALO_ALLOWED_IPS": [],
    "BUFFALO_SID_METHOD_ENABLED": False,
    "TRUSTED_PROXIES": [],
}


def provider_settings_environment() -> dict[str, str]:
    """TEST_PROVIDER_SETTINGS as environment variables, for a server the tests start."""
    environment = {}
    for name, value in TEST_PROVIDER_SETTINGS.items():
        if isinstance(value, list):
            environment[name] = ",".join(value)
        elif isinstance(value, bool):
            environment[name] = "true" if value else "false"
        else:
            environment[name] = str(value)
    return environment


@pytest.fixture(autouse=True)
def _provider_test_settings(settings: pytest.FixtureRequest) -> Iterator[None]:
    for name, value in TEST_PROVIDER_SETTINGS.items():
        setattr(settings, name, value)
    yield


@pytest.fixture(autouse=True)
def _held_transactions_take_reads_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A held money transaction on PostgreSQL is pipelined: the ORM may only read in it, since
    it would read a write's row count before it arrives (wallet/db/held_commit.py). Every test
    refuses anything else there, before it is sent, so a service that starts writing through
    the ORM inside one fails the suite."""
    pipelined = held_commit._Pipelined
    start = pipelined.__init__

    def guarded(self: Any, *args: Any) -> None:
        start(self, *args)
        self._pipeline.enter_context(connection.execute_wrapper(_only_reads))

    monkeypatch.setattr(pipelined, "__init__", guarded)


def _only_reads(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    if not isinstance(context["cursor"].cursor, hot_sql.HotCursor):
        if sql.lstrip()[:6].upper() != "SELECT":
            raise transaction.TransactionManagementError(
                f"only reads may join a held money transaction; refused: {sql[:80]!r}"
            )
    return execute(sql, params, many, context)


@pytest.fixture
def ledger_is_consistent() -> Iterator[None]:
    """Use in a test to assert ``check_ledger`` passes once the test's scenario is done, and
    that the ledger's and the audit's hash chains are whole (``verify_ledger``)."""
    yield
    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]
    chains = verify_chains(chain_key())
    assert chains.ok, [str(link) for link in chains.broken]
