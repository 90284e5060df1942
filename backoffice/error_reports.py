"""What Django's error pages and error e-mails may show of settings and of the request's META.

granian puts the whole process environment into every request's WSGI environ (so into
``request.META``), and ``DATABASE_URL`` carries the database password in a name that Django's
own filter (API, AUTH, TOKEN, KEY, SECRET, PASS, SIGNATURE, HTTP_COOKIE) does not match. This
filter masks it too.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretsFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DATABASE_URL", flags=re.IGNORECASE
    )
