"""VP callback nonces: each signed callback's ``x-nonce`` is accepted once (replay protection).

A captured callback can be sent again by anyone who saw it (the signature holds no secret, and
the body still decrypts). The clock-skew bound of ``providers.vp.signature`` refuses copies older
than five minutes; this store refuses copies inside those five minutes. Money never depended on
it (every money call is idempotent on ``betId``), but a replay should be refused and journaled
as one, not answered as if VP had asked again.

The nonce is claimed only after the body decrypted and the signature matched, so a stranger
cannot fill the table or burn VP's nonces in advance.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from providers.models import VpNonce
from providers.vp.signature import MAX_CLOCK_SKEW_MS

#: A nonce is kept this long past its timestamp: the skew window plus a margin for slow clocks.
KEEP_FOR = timedelta(milliseconds=MAX_CLOCK_SKEW_MS) + timedelta(minutes=1)
#: Expired nonces are deleted at most this often per process (one DELETE on the index).
PURGE_EVERY_SECONDS = 60.0

_last_purge = 0.0


def claim(nonce: str, *, timestamp_ms: int) -> bool:
    """Record a nonce; True the first time it is seen, False when it was already used."""
    _purge_now_and_then()
    signed_at = datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)
    try:
        with transaction.atomic():
            VpNonce.objects.create(nonce=nonce, signed_at=signed_at)
    except IntegrityError:
        return False
    return True


def purge_expired(now: datetime | None = None) -> int:
    """Delete nonces whose timestamp left the acceptance window; returns how many."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _ = VpNonce.objects.filter(signed_at__lt=cutoff).delete()
    return deleted


def _purge_now_and_then() -> None:
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_EVERY_SECONDS:
        return
    _last_purge = now
    purge_expired()
