"""VP's optional signature headers: computing them (our client) and checking them (callbacks).

The signature is a plain SHA-256 with no secret in it (vp.md): anyone who can read a request
can forge one. What authenticates a callback is that its body decrypts under our API key (the
GCM tag). The headers are still checked when VP sends them, because a wrong agent id or a stale
timestamp says the request was not meant for us or is being replayed long after the fact.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from enum import StrEnum

AGENT_HEADER = "x-agentid"
TIMESTAMP_HEADER = "x-timestamp"
NONCE_HEADER = "x-nonce"
SIGNATURE_HEADER = "x-signature"
SIGNATURE_HEADERS = (AGENT_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)

#: How far the caller's clock may be from ours, either way [ours, vp.md].
MAX_CLOCK_SKEW_MS = 5 * 60 * 1000
_MAX_NONCE_LENGTH = 128


class SignatureForm(StrEnum):
    """Which signing form a callback used; written to the journal's ``signature_form``."""

    ABSENT = "absent"  # no signature headers at all (they are optional on callbacks)
    PIPE = "pipe_ciphertext"  # sha256(agentId|timestamp|nonce|cipherText), VP's current pages
    CONCAT = "concat_body"  # sha256(agentId + timestamp + nonce + body), VP's older pages
    REFUSED = "refused"  # headers present but not acceptable


class SignatureError(ValueError):
    """The signature headers are incomplete, stale, for another agent, or do not match."""


def sign(agent_id: str, timestamp: str, nonce: str, cipher_text: str) -> str:
    """The current form: lowercase hex SHA-256 of ``agentId|timestamp|nonce|cipherText``."""
    text = f"{agent_id}|{timestamp}|{nonce}|{cipher_text}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sign_concatenated(agent_id: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The older form: SHA-256 of ``agentId + timestamp + nonce`` followed by the JSON body.

    The body is the HTTP request body exactly as sent (the ``{"cipherText": ...}`` envelope).
    """
    prefix = f"{agent_id}{timestamp}{nonce}".encode()
    return hashlib.sha256(prefix + body).hexdigest()


def new_headers(agent_id: str, cipher_text: str, *, now_ms: int | None = None) -> dict[str, str]:
    """Fresh signature headers in the current form (what we send, and what VP may send us)."""
    timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
    nonce = secrets.token_hex(16)
    return {
        AGENT_HEADER: agent_id,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: sign(agent_id, timestamp, nonce, cipher_text),
    }


def verify(
    headers: Mapping[str, str],
    *,
    agent_id: str,
    cipher_text: str,
    body: bytes,
    now_ms: int | None = None,
) -> SignatureForm:
    """Check a callback's signature headers; return the form that matched.

    No header at all is accepted (``ABSENT``). A partial set is refused: a caller that signs
    signs completely, and accepting half a set would let anyone strip the part that fails.
    Raises ``SignatureError`` with a message for VP's ``errText``.
    """
    present = {name: headers.get(name) for name in SIGNATURE_HEADERS}
    if all(value is None for value in present.values()):
        return SignatureForm.ABSENT
    missing = [name for name, value in present.items() if not value]
    if missing:
        raise SignatureError(f"incomplete signature headers: {', '.join(missing)} missing")
    their_agent = str(present[AGENT_HEADER])
    timestamp = str(present[TIMESTAMP_HEADER])
    nonce = str(present[NONCE_HEADER])
    signature = str(present[SIGNATURE_HEADER]).strip().lower()
    if not agent_id or not hmac.compare_digest(their_agent.encode(), agent_id.encode()):
        raise SignatureError(f"{AGENT_HEADER} is not our agent id")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 16:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix time in milliseconds")
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_MS:
        raise SignatureError(f"{TIMESTAMP_HEADER} is more than 5 minutes from our clock")
    if len(nonce) > _MAX_NONCE_LENGTH:
        raise SignatureError(f"{NONCE_HEADER} is too long")
    if not (nonce.isascii() and nonce.isprintable()):
        # The nonce is stored (replay protection): only text any database column can hold.
        raise SignatureError(f"{NONCE_HEADER} must be printable ASCII")
    candidates = (
        (SignatureForm.PIPE, sign(their_agent, timestamp, nonce, cipher_text)),
        (SignatureForm.CONCAT, sign_concatenated(their_agent, timestamp, nonce, body)),
    )
    for form, expected in candidates:
        if hmac.compare_digest(signature.encode(), expected.encode()):
            return form
    raise SignatureError(f"{SIGNATURE_HEADER} matches neither signing form")
