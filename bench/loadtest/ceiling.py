"""The ceiling: the same cancel of an open bet done in raw SQL, by as many database clients.

Each cancel is one transaction of the fewest statements that do the job, in the services' lock
order: lock the bet row, move the wallet's balance (the UPDATE locks the wallet row and returns
the new balance), append the refund row with that balance, close the bet, commit. No HTTP, no
Django, no journal, no decryption: what the database alone can do on this machine. Our endpoint's
rate divided by this one is a ratio that means the same on a laptop and on a server.

The clients must not be what limits the ceiling (a slow client would flatter the ratio), so each
is a thread driving libpq directly (``psycopg.pq``, the C implementation: the GIL is released
while a statement runs) with prepared statements and text parameters: a few microseconds of
Python per statement, close to what ``pgbench`` spends.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from psycopg import pq

from bench.loadtest import cpu
from bench.loadtest.seed import SeededBets
from wallet.chain import give_session_key as give_chain_key

STATEMENTS: dict[bytes, bytes] = {
    b"lock_bet": (
        # By the unique key alone (the state is checked on the locked row, as the service
        # does): with ``state = 'open'`` in the WHERE the planner may walk the state index.
        b"SELECT id, wallet_id, stake, state FROM wallet_bet "
        b"WHERE provider = $1 AND bet_key = $2 FOR UPDATE"
    ),
    b"move_wallet": (
        b"UPDATE wallet_wallet SET balance = balance + $1, updated_at = now() "
        b"WHERE id = $2 RETURNING balance"
    ),
    b"append_refund": (
        b"INSERT INTO wallet_ledgerentry (wallet_id, bet_id, kind, amount, balance_after, "
        b"provider, provider_tx_id, reason, created_at) "
        b"VALUES ($1, $2, 'refund', $3, $4, $5, $6, '', now())"
    ),
    b"close_bet": (
        b"UPDATE wallet_bet SET state = 'cancelled', cancel_outcome = 'cancelled', "
        b"cancelled_at = now(), updated_at = now() WHERE id = $1"
    ),
}
STATEMENTS_PER_CANCEL = 6  # BEGIN, the four above, COMMIT


class CeilingError(RuntimeError):
    """A statement of the raw-SQL cancel failed."""


@dataclass
class CeilingResult:
    latencies_ns: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0
    missing: int = 0  # bets that were not open (should be 0)
    errors: list[str] = field(default_factory=list)
    cpu: cpu.CpuUsage | None = None


def connection_kwargs() -> dict[str, Any]:
    """psycopg connection arguments for the configured default database."""
    db = settings.DATABASES["default"]
    kwargs: dict[str, Any] = {
        "dbname": db["NAME"],
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
    }
    options = (db.get("OPTIONS") or {}).get("options")
    if options:
        kwargs["options"] = options
    return {k: v for k, v in kwargs.items() if v is not None}


def run_ceiling(bets: SeededBets, concurrency: int) -> CeilingResult:
    """Cancel every seeded open bet with raw SQL from ``concurrency`` connections."""
    result = CeilingResult()
    connections = [
        psycopg.Connection.connect(**connection_kwargs(), autocommit=True)
        for _ in range(concurrency)
    ]
    for connection in connections:
        give_chain_key(connection)
        for name, sql in STATEMENTS.items():
            _check(connection.pgconn.prepare(name, sql), name)
    keys: deque[bytes] = deque(bets.key(n).encode() for n in range(1, bets.count + 1))
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=_client, args=(c.pgconn, bets.provider.encode(), keys, result, lock)
        )
        for c in connections
    ]
    before = cpu.snapshot(_database_name())
    cpu0, t0 = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - t0
    result.client_cpu_s = time.process_time() - cpu0
    # Measured before the connections close: their server processes end with them.
    result.cpu = cpu.usage(before, cpu.snapshot(_database_name()))
    for connection in connections:
        connection.close()
    if result.errors:
        raise CeilingError("; ".join(result.errors[:3]))
    return result


def _client(
    pgconn: pq.abc.PGconn,
    provider: bytes,
    keys: deque[bytes],
    result: CeilingResult,
    lock: threading.Lock,
) -> None:
    clock = time.perf_counter_ns
    latencies: list[int] = []
    missing = 0
    try:
        while True:
            try:
                key = keys.popleft()
            except IndexError:
                break
            started = clock()
            _check(pgconn.exec_(b"BEGIN"), b"BEGIN")
            bet = _check(pgconn.exec_prepared(b"lock_bet", [provider, key]), b"lock_bet")
            if bet.ntuples == 0 or bet.get_value(0, 3) != b"open":
                missing += 1
                _check(pgconn.exec_(b"ROLLBACK"), b"ROLLBACK")
                continue
            bet_id, wallet_id, stake = (_value(bet, column) for column in range(3))
            moved = _check(pgconn.exec_prepared(b"move_wallet", [stake, wallet_id]), b"move")
            balance = _value(moved, 0)
            _check(
                pgconn.exec_prepared(
                    b"append_refund", [wallet_id, bet_id, stake, balance, provider, key]
                ),
                b"append_refund",
            )
            _check(pgconn.exec_prepared(b"close_bet", [bet_id]), b"close_bet")
            _check(pgconn.exec_(b"COMMIT"), b"COMMIT")
            latencies.append(clock() - started)
    except CeilingError as exc:
        with lock:
            result.errors.append(str(exc))
    with lock:
        result.latencies_ns.extend(latencies)
        result.missing += missing


def _value(res: pq.abc.PGresult, column: int) -> bytes:
    value = res.get_value(0, column)
    if value is None:
        raise CeilingError(f"unexpected NULL in column {column}")
    return value


def _check(res: pq.abc.PGresult, what: bytes) -> pq.abc.PGresult:
    if res.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        message = (res.error_message or b"").decode(errors="replace").strip()
        raise CeilingError(f"{what.decode()}: {message}")
    return res


def _database_name() -> str:
    from django.conf import settings

    return str(settings.DATABASES["default"]["NAME"])
