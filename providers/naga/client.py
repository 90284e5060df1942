"""What Naga's servers send us, built the way they build it: for tests, ``provider_call`` and load.

``build_request(data, function="place-bet")`` prints ``data`` as ``JSON.stringify`` would,
hashes it (``dataHash``), signs the hash with an RSA private key (PKCS1v15 + SHA-256) into the
``X-Signature`` header, and posts ``{"data": ..., "dataHash": ...}``.

The signing key is, in order: the ``private_key`` argument (tests pass their own), the
``NAGA_CLIENT_PRIVATE_KEY`` setting (PEM text or a path; for test and load rigs only: in
production Naga holds its private key and we never sign), or, with ``DEMO_KEYS`` on, the
published demo key ``providers/demo_keys/naga_demo_private.pem``.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.exceptions import ImproperlyConfigured

from providers.client_base import SignedRequest
from providers.naga import config
from providers.naga.crypto import SignatureForm, data_hash, data_text, pem_bytes

PrivateKeySource = rsa.RSAPrivateKey | str | bytes


def build_request(
    payload: dict[str, Any],
    *,
    function: str = "",
    private_key: PrivateKeySource | None = None,
    signature_form: SignatureForm = SignatureForm.DATA_HASH,
) -> SignedRequest:
    """A signed Naga request for ``function`` carrying ``payload`` as its ``data``.

    ``signature_form`` picks what is signed: the ``dataHash`` string (Naga's documented way)
    or the compact data JSON (the second form we accept).
    """
    if not function:
        raise ValueError("Naga has one URL per function: pass function='authorize' (or another)")
    key = _signing_key(private_key)
    text = data_text(payload)
    digest = data_hash(payload)
    signed = digest.encode("ascii") if signature_form == SignatureForm.DATA_HASH else text.encode()
    body = '{"data":' + text + ',"dataHash":"' + digest + '"}'
    return SignedRequest(
        path=f"/providers/naga/{function}/",
        body=body.encode("utf-8"),
        headers={"X-Signature": sign(signed, key)},
    )


def sign(message: bytes, private_key: rsa.RSAPrivateKey) -> str:
    """Base64 RSASSA-PKCS1-v1_5 / SHA-256 signature, as Naga puts in ``X-Signature``."""
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def _signing_key(source: PrivateKeySource | None) -> rsa.RSAPrivateKey:
    if isinstance(source, rsa.RSAPrivateKey):
        return source
    if source is None:
        source = config.client_private_key()
    if not source:
        raise ImproperlyConfigured(
            "no key to sign Naga requests with: pass private_key, set NAGA_CLIENT_PRIVATE_KEY, "
            "or turn DEMO_KEYS on to use the demo key"
        )
    return _load_private_key(source)


@lru_cache(maxsize=8)
def _load_private_key(source: str | bytes) -> rsa.RSAPrivateKey:
    # Cached by the setting's value (a changed setting is read anew): loading and checking an
    # RSA key costs tens of milliseconds, far more than signing with it (the load harness
    # signs tens of thousands of requests).
    pem = source if isinstance(source, bytes) else pem_bytes(source, "NAGA_CLIENT_PRIVATE_KEY")
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured("the Naga signing key is not an RSA private key")
    return key
