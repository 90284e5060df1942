"""providers.journal.request_headers: the journal's headers, read from the WSGI environ.

They must be the headers Django's ``request.headers`` gives (names lower-cased), with the
secret ones masked, at most 40, whatever else the environ holds (granian copies the server's
whole process environment into it).
"""

from __future__ import annotations

import io

from django.core.handlers.wsgi import WSGIRequest
from hypothesis import given
from hypothesis import strategies as st

from providers.journal import REDACTED, redact_headers, request_headers

_BASE = {
    "REQUEST_METHOD": "POST",
    "PATH_INFO": "/providers/jdb/",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "wsgi.input": io.BytesIO(b""),
    # What a server's process environment brings along: not headers.
    "PATH": "/usr/bin",
    "DATABASE_URL": "postgres://secret@db/prod",
    "HTTPS_PROXY": "http://proxy",
    "CONTENT_TYPEX": "not a header",
    "HTTP_": "a header without a name",
}


def _as_django_names_them(environ: dict[str, object]) -> dict[str, str]:
    return redact_headers(WSGIRequest(environ).headers)


def test_the_headers_django_sees_secrets_masked_and_nothing_else() -> None:
    environ = {
        **_BASE,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": "12",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": "Bearer top-secret",
        "HTTP_COOKIE": "sessionid=abc",
        "HTTP_X_REQUEST_ID": "req-1",
        "HTTP_X_SIGNATURE": "s" * 600,
    }

    kept = request_headers(environ)

    assert kept == {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": "12",
        "host": "127.0.0.1:8000",
        "authorization": REDACTED,
        "cookie": REDACTED,
        "x-request-id": "req-1",
        "x-signature": "s" * 500,
    }
    assert kept == _as_django_names_them(environ)


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True).map(lambda n: f"HTTP_{n}"),
        st.text(max_size=20),
        max_size=60,
    )
)
def test_any_headers_come_out_as_django_gives_them_at_most_forty(
    headers: dict[str, str],
) -> None:
    environ = {**_BASE, **headers}

    kept = request_headers(environ)

    assert kept == _as_django_names_them(environ)
    assert len(kept) == min(40, len(headers))
