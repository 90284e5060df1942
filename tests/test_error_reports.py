"""Django's error report masks DATABASE_URL, which the app server copies into request.META."""

from __future__ import annotations

from django.test import RequestFactory
from django.views.debug import get_default_exception_reporter_filter


def test_the_database_url_in_request_meta_is_masked_with_the_usual_secrets() -> None:
    request = RequestFactory().get(
        "/",
        DATABASE_URL="postgres://app:hunter2@db:5432/backoffice",
        JDB_KEY="0123456789abcdef",
        PATH_INFO="/",
    )
    meta = get_default_exception_reporter_filter().get_safe_request_meta(request)

    assert "hunter2" not in str(meta["DATABASE_URL"])
    assert "0123456789abcdef" not in str(meta["JDB_KEY"])
    assert meta["PATH_INFO"] == "/"  # what is not secret stays readable
