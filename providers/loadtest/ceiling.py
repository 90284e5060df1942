"""The ceiling: the same cancel of an open bet done in raw SQL, by as many database clients.

Each cancel is one transaction of the fewest statements that do the job, in the services' lock
order: lock the bet row, move the wallet's balance (the UPDATE locks the wallet row and returns
the new balance), append the refund row with that balance, close the bet, commit. No HTTP, no
Django, no journal, no decryption: what the database alone can do on this machine. Our endpoint's
rate divided by this one is a ratio that means the same on a laptop and on a server.

The clients are asyncio tasks on psycopg's async connections in this process (statements are
prepared by psycopg after their fifth use, as a plain psycopg program would).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings

from providers.loadtest.seed import SeededBets

LOCK_BET = (
    "SELECT id, wallet_id, stake FROM wallet_bet "
    "WHERE provider = %s AND bet_key = %s AND state = 'open' FOR UPDATE"
)
MOVE_WALLET = (
    "UPDATE wallet_wallet SET balance = balance + %s, updated_at = now() "
    "WHERE id = %s RETURNING balance"
)
APPEND_REFUND = (
    "INSERT INTO wallet_ledgerentry (wallet_id, bet_id, kind, amount, balance_after, provider, "
    "provider_tx_id, reason, created_at) VALUES (%s, %s, 'refund', %s, %s, %s, %s, '', now())"
)
CLOSE_BET = (
    "UPDATE wallet_bet SET state = 'cancelled', cancel_outcome = 'cancelled', "
    "cancelled_at = now(), updated_at = now() WHERE id = %s"
)


@dataclass
class CeilingResult:
    latencies_ns: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0
    missing: int = 0  # bets that were not open (should be 0)


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
    return asyncio.run(_run(bets, concurrency))


async def _run(bets: SeededBets, concurrency: int) -> CeilingResult:
    result = CeilingResult()
    connections = [
        await psycopg.AsyncConnection.connect(**connection_kwargs(), autocommit=True)
        for _ in range(concurrency)
    ]
    keys: deque[str] = deque(bets.key(n) for n in range(1, bets.count + 1))
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        await asyncio.gather(*(_client(c, bets.provider, keys, result) for c in connections))
    finally:
        result.elapsed_s = time.perf_counter() - t0
        result.client_cpu_s = time.process_time() - cpu0
        for connection in connections:
            await connection.close()
    return result


async def _client(
    connection: psycopg.AsyncConnection[Any],
    provider: str,
    keys: deque[str],
    result: CeilingResult,
) -> None:
    clock = time.perf_counter_ns
    while keys:
        key = keys.popleft()
        started = clock()
        async with connection.transaction():
            cursor = await connection.execute(LOCK_BET, (provider, key))
            bet = await cursor.fetchone()
            if bet is None:
                result.missing += 1
                continue
            bet_id, wallet_id, stake = bet
            cursor = await connection.execute(MOVE_WALLET, (stake, wallet_id))
            row = await cursor.fetchone()
            assert row is not None
            await connection.execute(
                APPEND_REFUND, (wallet_id, bet_id, stake, row[0], provider, key)
            )
            await connection.execute(CLOSE_BET, (bet_id,))
        result.latencies_ns.append(clock() - started)
