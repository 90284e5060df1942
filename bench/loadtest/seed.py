"""Seeding players, wallets, sessions and bets in PostgreSQL with a few set-based statements.

Everything a run creates carries the run's tag in its account ids, bet keys and session tokens,
so runs never collide and a run's rows are easy to find. The rows are what the wallet services
would have written: a deposit row opens each wallet, each open bet has its stake row, each
settled bet-and-settle round its stake and win rows, every ``balance_after`` is the running
balance in id order and every wallet's balance is the sum of its rows, so ``check_ledger`` holds
before the first request is sent.

Values are a function of the bet number ``n`` (``stake_of``), computed the same way here in SQL
and in Python, so the harness builds the matching requests without reading the rows back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

CURRENCY = "USD"
OPENING_BALANCE = Decimal(1_000_000)
SESSION_HOURS = 12

#: The stake of bet ``n`` (1..N), in SQL and in Python: 1.25 to 50.25, cents only.
STAKE_SQL = "(1 + (n %% 50))::numeric + 0.25"
#: The win of a settled round ``n``: 0 for every third, else 1.5 x the stake rounded to cents.
WIN_SQL = f"CASE WHEN n %% 3 = 0 THEN 0 ELSE round(({STAKE_SQL}) * 1.5, 2) END"


def stake_of(n: int) -> Decimal:
    return Decimal(1 + n % 50) + Decimal("0.25")


def win_of(n: int) -> Decimal:
    # PostgreSQL's round() rounds halves away from zero: the same here.
    win = (stake_of(n) * Decimal("1.5")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Decimal(0) if n % 3 == 0 else win


@dataclass(frozen=True)
class Players:
    """``count`` players ``<tag>p0`` .. with one USD wallet each and a live session for Naga
    (``playerToken``) and Buffalo (``sid``)."""

    tag: str
    count: int

    def account(self, slot: int) -> str:
        return f"{self.tag}p{slot}"

    def token(self, provider: str, slot: int) -> str:
        return f"{self.tag}-{provider}-{slot}"

    def slot_of(self, n: int) -> int:
        """The player of bet ``n``: consecutive bets belong to different players."""
        return n % self.count


@dataclass(frozen=True)
class SeededBets:
    """Bets ``<prefix>1`` .. ``<prefix><count>`` of one provider, all in one state."""

    provider: str
    prefix: str
    count: int
    players: Players
    settled: bool  # bet-and-settle rounds (stake and win applied) rather than open debits

    def key(self, n: int) -> str:
        return f"{self.prefix}{n}"


def _require_postgres() -> None:
    if connection.vendor != "postgresql":
        raise RuntimeError("the load harness seeds and measures PostgreSQL only")


def seed_players(tag: str, count: int) -> Players:
    """Players, wallets with their opening deposit row, and Naga and Buffalo sessions."""
    _require_postgres()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH p AS (
                INSERT INTO wallet_player (account_id, status, created_at)
                SELECT %(tag)s || 'p' || n, 'active', now()
                FROM generate_series(0, %(count)s - 1) AS n
                RETURNING id
            ), w AS (
                INSERT INTO wallet_wallet (player_id, currency, balance, updated_at)
                SELECT id, %(currency)s, %(opening)s, now() FROM p ORDER BY id
                RETURNING id, balance
            )
            INSERT INTO wallet_ledgerentry (
                wallet_id, kind, amount, balance_after, provider, provider_tx_id, reason,
                created_at)
            SELECT id, 'deposit', balance, balance, '', '', 'load test opening balance', now()
            FROM w ORDER BY id
            """,
            {"tag": tag, "count": count, "currency": CURRENCY, "opening": OPENING_BALANCE},
        )
        cursor.execute(
            """
            INSERT INTO wallet_playersession (
                token, player_id, provider, currency, created_at, expires_at)
            SELECT %(tag)s || '-' || prov || '-' || substr(p.account_id, length(%(tag)s) + 2),
                   p.id, prov, %(currency)s, now(), now() + make_interval(hours => %(hours)s)
            FROM wallet_player p CROSS JOIN (VALUES ('naga'), ('buffalo')) AS v(prov)
            WHERE p.account_id LIKE %(pattern)s
            """,
            {
                "tag": tag,
                "currency": CURRENCY,
                "hours": SESSION_HOURS,
                "pattern": f"{tag}p%",
            },
        )
    return Players(tag=tag, count=count)


def seed_bets(
    players: Players, provider: str, prefix: str, count: int, *, settled: bool = False
) -> SeededBets:
    """``count`` open debits (or settled bet-and-settle rounds) with their ledger rows.

    One statement: insert the bets, derive their movements, number each wallet's running
    balance in bet order, append the ledger rows in that order, and update the wallets.
    """
    _require_postgres()
    win = WIN_SQL if settled else "0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH slots AS (
                SELECT substr(p.account_id, length(%(tag)s) + 2)::int AS slot,
                       w.id AS wallet_id, w.player_id, w.balance
                FROM wallet_wallet w JOIN wallet_player p ON p.id = w.player_id
                WHERE p.account_id LIKE %(pattern)s
            ), src AS (
                SELECT n, {STAKE_SQL} AS stake, {win} AS win
                FROM generate_series(1, %(count)s) AS n
            ), bets AS (
                INSERT INTO wallet_bet (
                    provider, bet_key, round_id, game_code, kind, player_id, wallet_id,
                    currency, stake, win, state, open_tx_id, open_outcome, cancel_outcome,
                    more_settles_expected, needs_review, review_reason, details, created_at,
                    updated_at, settled_at)
                SELECT %(provider)s, %(prefix)s || src.n, 'round-' || %(prefix)s || src.n,
                       'loadtest', %(kind)s, s.player_id, s.wallet_id, %(currency)s,
                       src.stake, src.win, %(state)s, %(prefix)s || src.n, 'ok', '', false,
                       false, '', '{{}}'::jsonb, now(), now(),
                       CASE WHEN %(settled)s THEN now() END
                FROM src JOIN slots s ON s.slot = src.n %% %(players)s
                ORDER BY src.n
                RETURNING id, wallet_id, bet_key, stake, win
            ), moves AS (
                SELECT id AS bet_id, wallet_id, bet_key, 'stake' AS kind, -stake AS amount,
                       2 * id AS seq
                FROM bets
                UNION ALL
                SELECT id, wallet_id, bet_key, 'win', win, 2 * id + 1
                FROM bets WHERE %(settled)s
            ), numbered AS (
                SELECT m.*, s.balance + sum(m.amount) OVER (
                    PARTITION BY m.wallet_id ORDER BY m.seq) AS balance_after
                FROM moves m JOIN slots s ON s.wallet_id = m.wallet_id
            ), ledger AS (
                INSERT INTO wallet_ledgerentry (
                    wallet_id, bet_id, kind, amount, balance_after, provider, provider_tx_id,
                    reason, created_at)
                SELECT wallet_id, bet_id, kind, amount, balance_after, %(provider)s, bet_key,
                       '', now()
                FROM numbered ORDER BY seq
            )
            UPDATE wallet_wallet w
            SET balance = w.balance + t.total, updated_at = now()
            FROM (SELECT wallet_id, sum(amount) AS total FROM moves GROUP BY wallet_id) AS t
            WHERE w.id = t.wallet_id
            """,  # noqa: S608  (only the fixed SQL expressions above are interpolated)
            {
                "pattern": f"{players.tag}p%",
                "tag": players.tag,
                "count": count,
                "provider": provider,
                "prefix": prefix,
                "kind": "bet_and_settle" if settled else "debit",
                "state": "settled" if settled else "open",
                "settled": settled,
                "currency": CURRENCY,
                "players": players.count,
            },
        )
    return SeededBets(provider, prefix, count, players, settled)
