"""The providers' own tables (the request journal is the ``journal`` app's)."""

from __future__ import annotations

from django.db import models


class VpNonce(models.Model):
    """An ``x-nonce`` of a signed VP callback, kept while its ``x-timestamp`` is acceptable.

    The unique constraint, not a "look, then insert", is what refuses the second use of a nonce
    (two copies of one request racing on two workers included). Rows whose timestamp is past the
    clock-skew window are purged by ``providers.vp.nonces``: a replay that old is refused for
    its stale timestamp anyway.
    """

    nonce = models.CharField(max_length=128)
    signed_at = models.DateTimeField(help_text="The request's x-timestamp.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "VP nonce"
        constraints = [models.UniqueConstraint(fields=["nonce"], name="vp_nonce_once")]
        indexes = [models.Index(fields=["signed_at"], name="vp_nonce_signed_at")]

    def __str__(self) -> str:
        return self.nonce
