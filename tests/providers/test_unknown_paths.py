"""Paths under /providers/ that name no endpoint: the provider's own error, journaled, no money.

A provider that misconfigures a URL (a deeper path, a typo in its own prefix) must read an
answer in its own format, and support must find the request in the journal; never Django's
HTML 404 page.
"""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("path", ["/providers/nobody/", "/providers/jdbx", "/providers/"])
def test_a_path_naming_no_provider_gets_a_json_404(client: Client, db: None, path: str) -> None:
    response = client.post(path, b"{}", content_type="application/json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "no provider endpoint at this path"}
