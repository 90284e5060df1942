"""VP callback nonces: each signed callback's ``x-nonce`` is accepted once (replay protection).

A captured callback can be sent again by anyone who saw it (the signature holds no secret, and
the body still decrypts). The clock-skew bound of ``providers.vp.signature`` refuses copies older
than five minutes; this store refuses copies inside those five minutes. Money never depended on
it (every money call is idempotent on ``betId``), but a replay should be refused and journaled
as one, not answered as if VP had asked again.

The nonce is claimed only after the body decrypted, the signature matched and the wallet
decided with an answer that stands (not "try again"), in the same transaction as that decision
(the endpoint's held commit): a stranger cannot fill the table or burn VP's nonces in advance,
and a callback answered "try again" (a lock wait, an outage) can be resent as it was.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.utils import timezone

from providers.models import VpNonce
from providers.vp.signature import MAX_CLOCK_SKEW_MS
from wallet.db import hot_sql

#: A nonce is kept this long past its timestamp: the skew window plus a margin for slow clocks.
KEEP_FOR = timedelta(milliseconds=MAX_CLOCK_SKEW_MS) + timedelta(minutes=1)
#: Expired nonces are deleted at most this often per process (one DELETE on the index).
PURGE_EVERY_SECONDS = 60.0

_last_purge = 0.0


def claim(nonce: str, *, timestamp_ms: int) -> bool:
    """Record a nonce; True the first time it is seen, False when it was already used.

    One statement in the caller's transaction, if any (the money movement's, so the nonce is
    spent exactly when the movement commits): ``INSERT … ON CONFLICT DO NOTHING``, so a second
    use is told by the row not returned, with no error (one round trip). A copy racing the
    first use waits for its transaction, then sees the nonce used if that committed.
    """
    signed_at = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    return hot_sql.fetch_one(_claim_sql(), [nonce, signed_at, timezone.now()]) is not None


@functools.cache
def _claim_sql() -> str:
    quote = connection.ops.quote_name
    # Only model metadata (quoted identifiers) is interpolated; values are parameters.
    return (
        f"INSERT INTO {quote(VpNonce._meta.db_table)} "  # noqa: S608
        f"({quote('nonce')}, {quote('signed_at')}, {quote('created_at')}) VALUES (%s, %s, %s) "
        f"ON CONFLICT ({quote('nonce')}) DO NOTHING RETURNING {quote('id')}"
    )


def purge_expired(now: datetime | None = None) -> int:
    """Delete nonces whose timestamp left the acceptance window; returns how many."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = VpNonce.objects.filter(signed_at__lt=cutoff).delete()
    return deleted


def purge_now_and_then() -> None:
    """Purge expired nonces at most every ``PURGE_EVERY_SECONDS`` (call outside a transaction)."""
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_EVERY_SECONDS:
        return
    _last_purge = now
    purge_expired()
