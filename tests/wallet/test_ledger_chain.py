"""The ledger's and the staff audit's hash chains (docs/ledger-chain.md): what ``verify_ledger``
finds after a DBA's edit, deletion or insertion past the append-only trigger, the daily digest,
the key's handling, and a wallet's time never going backwards."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.finance.conftest import at
from tests.helpers import ON_POSTGRES, make_player
from wallet.chain import KEY_PROBE, KEY_SETTING, chain_key, key_probe, ledger_link
from wallet.chain_verify import day_digest, verify_chains
from wallet.db.rows import lock_wallet, move_money
from wallet.models import AuditEntry, LedgerEntry, LedgerKind, Wallet
from wallet.services import wallet_deposit, wallet_withdraw

postgres_only = pytest.mark.skipif(
    not ON_POSTGRES, reason="PostgreSQL only: its trigger, sessions and row locks"
)
D = Decimal
ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 4, 1)


def verify(*args: str) -> tuple[bool, str]:
    out = io.StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def as_a_dba(sql: str, params: list[object]) -> None:
    """Run ``sql`` past the append-only trigger, as the table's owner could."""
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            # The test's own inserts left deferred foreign-key checks, which ALTER TABLE refuses.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE wallet_ledgerentry DISABLE TRIGGER wallet_ledger_append_only"
            )
        cursor.execute(sql, params)
        if ON_POSTGRES:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE wallet_ledgerentry ENABLE TRIGGER wallet_ledger_append_only"
            )


@pytest.fixture
def ledger(db: None) -> dict[str, list[int]]:
    """Two wallets of four rows each (an opening deposit, then three movements), by player."""
    for account_id in ("alice", "bob"):
        with at(datetime(2026, 4, 1, 10, tzinfo=UTC)):
            make_player(account_id, "USD", "100")
        wallet_id = Wallet.objects.get(player__account_id=account_id).pk
        for hour, amount in ((11, "5.5"), (12, "-20"), (13, "0.000001")):
            with at(datetime(2026, 4, 1, hour, tzinfo=UTC)):
                if amount.startswith("-"):
                    wallet_withdraw(wallet_id=wallet_id, amount=-D(amount), reason="cash out")
                else:
                    wallet_deposit(wallet_id=wallet_id, amount=D(amount), reason="top up")
    return {
        account_id: list(
            LedgerEntry.objects.filter(wallet__player__account_id=account_id)
            .order_by("id")
            .values_list("id", flat=True)
        )
        for account_id in ("alice", "bob")
    }


def wallet_of(account_id: str) -> int:
    return Wallet.objects.get(player__account_id=account_id).pk


def test_an_untouched_ledger_verifies(ledger: dict[str, list[int]]) -> None:
    ok, out = verify()
    assert ok, out
    assert "8 ledger rows in 2 wallets" in out and "0 broken chains" in out
    assert not LedgerEntry.objects.filter(chain_hash__isnull=True).exists()


def test_the_database_and_python_compute_the_same_links(ledger: dict[str, list[int]]) -> None:
    """Odd text and amounts: the trigger's encoding and ``wallet.chain``'s agree row by row."""
    wallet = lock_wallet(wallet_of("alice"))
    with transaction.atomic():
        move_money(
            wallet,
            D("-0.000001"),
            kind=LedgerKind.STAFF_ADJUSTMENT,
            reason='naïve, 12:3, "quoted" \u00e9\U0001f3b2\n',
        )
        move_money(wallet, D("12345678901234.123456"), kind=LedgerKind.DEPOSIT)
    key = chain_key()
    previous = None
    for entry in LedgerEntry.objects.filter(wallet=wallet).order_by("id"):
        fields = (
            entry.pk, entry.wallet_id, entry.bet_id, entry.kind, entry.amount,
            entry.balance_after, entry.provider, entry.provider_tx_id, entry.staff_user_id,
            entry.reason, entry.created_at,
        )  # fmt: skip
        assert bytes(entry.chain_hash) == ledger_link(key, previous, fields)
        previous = bytes(entry.chain_hash)


def test_an_edited_row_is_named_with_its_wallet(ledger: dict[str, list[int]]) -> None:
    edited = ledger["alice"][2]
    as_a_dba("UPDATE wallet_ledgerentry SET amount = amount - 1 WHERE id = %s", [edited])
    ok, out = verify()
    assert not ok
    assert f"BROKEN wallet {wallet_of('alice')}: row {edited} (after row {edited - 1})" in out
    assert f"wallet {wallet_of('bob')}" not in out
    assert "1 broken chains" in out


def test_a_deleted_row_is_named_by_the_row_after_it(ledger: dict[str, list[int]]) -> None:
    deleted, following = ledger["bob"][1], ledger["bob"][2]
    as_a_dba("DELETE FROM wallet_ledgerentry WHERE id = %s", [deleted])
    ok, out = verify()
    assert not ok
    expected = f"BROKEN wallet {wallet_of('bob')}: row {following} (after row {ledger['bob'][0]})"
    assert expected in out
    assert f"wallet {wallet_of('alice')}" not in out


def test_a_link_recomputed_without_the_key_is_found(ledger: dict[str, list[int]]) -> None:
    """Whoever edits a row and recomputes its link with another key is still found."""
    target = ledger["alice"][1]
    entry = LedgerEntry.objects.get(pk=target)
    previous = bytes(LedgerEntry.objects.get(pk=ledger["alice"][0]).chain_hash)
    forged = ledger_link(
        b"a guessed key",
        previous,
        (
            entry.pk,
            entry.wallet_id,
            None,
            entry.kind,
            D("500"),
            entry.balance_after,
            "",
            "",
            None,
            entry.reason,
            entry.created_at,
        ),
    )
    as_a_dba(
        "UPDATE wallet_ledgerentry SET amount = 500, chain_hash = %s WHERE id = %s",
        [forged, target],
    )
    ok, out = verify()
    assert not ok and f"row {target} " in out


@postgres_only
def test_a_row_written_past_the_chain_trigger_is_named(ledger: dict[str, list[int]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE wallet_ledgerentry DISABLE TRIGGER wallet_ledger_chain")
    wallet = Wallet.objects.get(pk=wallet_of("alice"))
    with transaction.atomic():
        move_money(wallet, D("1"), kind=LedgerKind.DEPOSIT)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE wallet_ledgerentry ENABLE TRIGGER wallet_ledger_chain")
    slipped = LedgerEntry.objects.filter(wallet=wallet).latest("id").pk
    ok, out = verify()
    assert not ok
    assert f"row {slipped} (after row {ledger['alice'][-1]}): no link" in out


@postgres_only
def test_a_session_without_the_key_cannot_write_a_ledger_row(ledger: dict[str, list[int]]) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as bare:
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="no key"):
            bare.execute(
                "INSERT INTO wallet_ledgerentry (wallet_id, kind, amount, balance_after, "
                "provider, provider_tx_id, reason, created_at) "
                "VALUES (%s, 'deposit', 1, 1, '', '', '', now())",
                [wallet_of("alice")],
            )


def test_another_key_breaks_every_chain(ledger: dict[str, list[int]]) -> None:
    report = verify_chains(b"not the key the rows were chained with")
    assert {link.chain for link in report.broken} == {
        f"wallet {wallet_of('alice')}",
        f"wallet {wallet_of('bob')}",
    }


# --- the staff audit chain ---------------------------------------------------------------------


@pytest.fixture
def audit(db: None) -> list[int]:
    actor = get_user_model().objects.create_user("sam", password="pw", is_staff=True)
    player = make_player("carol", "USD", "10")
    return [
        AuditEntry.objects.create(
            actor=actor,
            action="staff_adjustment",
            player=player,
            reason=f"reason {n}",
            before={"balance": "10.000000", "n": n},
            after={"balance": "11.000000", "note": "é"},
        ).pk
        for n in range(3)
    ]


def test_the_audit_chain_verifies(audit: list[int]) -> None:
    ok, out = verify()
    assert ok, out
    assert "3 audit rows" in out


def test_an_edited_audit_row_is_named(audit: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_auditentry SET reason = 'nothing to see' WHERE id = %s", [audit[1]]
        )
    ok, out = verify()
    assert not ok
    assert f"BROKEN audit: row {audit[1]} (after row {audit[0]})" in out


def test_a_deleted_audit_row_is_named_by_the_row_after_it(audit: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_auditentry WHERE id = %s", [audit[1]])
    ok, out = verify()
    assert not ok
    assert f"BROKEN audit: row {audit[2]} (after row {audit[0]})" in out


def test_a_deleted_last_audit_row_is_found_by_the_head(audit: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM wallet_auditentry WHERE id = %s", [audit[2]])
    ok, out = verify()
    assert not ok
    assert (
        f"BROKEN audit: head (after row {audit[1]}): the chain's head names row {audit[2]}" in out
    )


# --- the daily digest --------------------------------------------------------------------------


def test_a_kept_digest_verifies_and_a_changed_head_does_not(ledger: dict[str, list[int]]) -> None:
    kept = day_digest(DAY)
    assert kept != day_digest(DAY - timedelta(days=1))
    ok, out = verify("--digests-only", "--digest", f"{DAY.isoformat()}={kept}")
    assert ok and f"digest {DAY.isoformat()}: ok" in out
    # A later day's movement does not change the kept day's digest.
    with at(datetime(2026, 4, 2, 9, tzinfo=UTC)):
        wallet_deposit(wallet_id=wallet_of("alice"), amount=D("1"), reason="top up")
    assert day_digest(DAY) == kept
    # Dropping alice's last row of the day (and her later one) changes it.
    as_a_dba("DELETE FROM wallet_ledgerentry WHERE id >= %s", [ledger["alice"][-1]])
    ok, out = verify("--digests-only", "--digest", f"{DAY.isoformat()}={kept}")
    assert not ok
    assert f"DIGEST {DAY.isoformat()}: expected {kept}, found {day_digest(DAY)}" in out


def test_a_malformed_digest_argument_is_refused(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("verify_ledger", "--digest", "yesterday=abc")


# --- the key -------------------------------------------------------------------------------------


def test_production_settings_refuse_to_start_without_the_key(tmp_path: Path) -> None:
    environment = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        "SECRET_KEY": "x" * 50,
        "DEMO_KEYS": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    script = "import django; django.setup()"
    refused = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "LEDGER_CHAIN_KEY" in refused.stderr
    started = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT), "LEDGER_CHAIN_KEY": "k" * 64},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_key_is_set_on_connect_and_logged_nowhere() -> None:
    """Bound on psycopg's connection as it connects: the session holds the key, and no
    statement Django logs carries it."""
    connection.close()
    with CaptureQueriesContext(connection) as captured:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT encode(sha256(convert_to(current_setting(%s) || %s, 'UTF8')), 'hex')",
                [KEY_SETTING, KEY_PROBE],
            )
            assert cursor.fetchone() == (key_probe(chain_key()),)
    assert captured.captured_queries
    assert not any(chain_key().decode() in query["sql"] for query in captured.captured_queries)


# --- a wallet's time never goes backwards ----------------------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_movement_stamped_before_its_lock_wait_is_not_dated_before_the_one_ahead() -> None:
    """A movement stamps its time, then waits for the wallet's row lock while another one,
    stamped later, goes first: its row must not be dated before the row written ahead of it."""
    make_player("alice", "USD", "100")
    wallet_id = wallet_of("alice")
    errors: list[BaseException] = []

    def stamped_then_waiting() -> None:
        try:
            with transaction.atomic():
                move_money(Wallet(pk=wallet_id), D("1"), kind=LedgerKind.DEPOSIT)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        lock_wallet(wallet_id)
        waiting = threading.Thread(target=stamped_then_waiting)
        waiting.start()
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the second movement never waited for the wallet's lock")
        move_money(Wallet(pk=wallet_id), D("2"), kind=LedgerKind.DEPOSIT)
    waiting.join(30)
    assert not errors
    rows = list(
        LedgerEntry.objects.filter(wallet_id=wallet_id)
        .order_by("id")
        .values_list("amount", "created_at")
    )
    assert [amount for amount, _ in rows] == [D(100), D(2), D(1)]
    times = [created for _, created in rows]
    assert times == sorted(times)
    ok, out = verify()
    assert ok, out


@pytest.mark.skipif(not ON_POSTGRES, reason="the trigger's plan is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_on_a_ledger_analyzed_empty_reads_no_whole_ledger() -> None:
    """Planned from an empty ledger's statistics, the trigger's lookup of a row's predecessor
    would scan the whole table for every row (n² reads for a bulk load): the trigger function keeps
    it on the (wallet_id, id) index. Counted, not timed: the ledger's sequential scans."""
    make_player("bulk", "USD", "0")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE wallet_ledgerentry")
        connection.close()  # a new session plans the trigger's lookup anew
        cursor = connection.cursor()
        scans = "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'wallet_ledgerentry'"
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(scans)
        (before,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO wallet_ledgerentry (wallet_id, kind, amount, balance_after, provider, "
            "provider_tx_id, reason, created_at) "
            "SELECT w.id, 'deposit', 1, n, '', '', '', now() "
            "FROM wallet_wallet w, generate_series(1, 2000) AS n ORDER BY n"
        )
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(scans)
        (after,) = cursor.fetchone()
    assert after - before < 10
    assert verify_chains(chain_key()).ok
