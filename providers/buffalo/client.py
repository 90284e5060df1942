"""What Buffalo sends us: JSON to ``/providers/buffalo/<method>`` with the token in both places.

Used by the tests, ``manage.py provider_call buffalo`` and the load harness. The token is read
at call time (``BUFFALO_AUTH_TOKEN``, through ``providers.buffalo.config``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from providers.buffalo import config
from providers.buffalo.authentication import QUERY_PARAMETER
from providers.client_base import SignedRequest
from providers.wire import dumps

METHODS = ("check", "balance", "debit", "credit", "cancel", "sid")


def build_request(payload: dict[str, Any], *, function: str = "") -> SignedRequest:
    """A request for ``function`` (one of ``METHODS``) carrying ``payload`` as JSON.

    Like Buffalo, it sends the token both as ``?authToken=`` and as ``Authorization: Bearer``.
    Decimals in ``payload`` are written as exact JSON numbers.
    """
    if function not in METHODS:
        raise ValueError(f"Buffalo method must be one of {', '.join(METHODS)} (--function)")
    token = config.auth_token()
    return SignedRequest(
        path=f"/providers/buffalo/{function}?{urlencode({QUERY_PARAMETER: token})}",
        body=dumps(payload).encode("utf-8"),
        headers={"Authorization": f"Bearer {token}"},
    )
