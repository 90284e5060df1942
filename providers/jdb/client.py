"""What JDB itself would send us: the form body ``x=<encrypted JSON>`` under the configured keys.

Used by the tests, ``manage.py provider_call jdb '<json>'`` and the load harness. The keys are
read from ``django.conf.settings`` at call time, like the adapter reads them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from providers.client_base import SignedRequest
from providers.jdb import crypto
from providers.jdb.config import aes_key_and_iv
from providers.wire import dumps

PATH = "/providers/jdb/"
CONTENT_TYPE = "application/x-www-form-urlencoded"


def encrypt_payload(payload: dict[str, Any]) -> str:
    """The ``x`` value for a payload: compact JSON (Decimals exact), encrypted like JDB does."""
    key, iv = aes_key_and_iv()
    return crypto.encrypt(dumps(payload).encode("utf-8"), key, iv)


def build_request(payload: dict[str, Any], *, function: str = "") -> SignedRequest:
    """The request JDB would send for ``payload`` (JDB has one URL: ``function`` is unused)."""
    body = urlencode({"x": encrypt_payload(payload)}).encode("ascii")
    return SignedRequest(path=PATH, body=body, content_type=CONTENT_TYPE)
