"""No code of ours turns a value into SQL text: psycopg binds every parameter (issue 26).

The application packages may not call a quoting or literal-building function; a COPY, which
takes no bound parameters, passes its parameters to psycopg's ``copy()``, which merges them.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPLICATION_PACKAGES = ("backoffice", "wallet", "providers", "operator_api", "monitoring", "bench")
QUOTING = re.compile(r"escape_literal|PQescape|as_literal|mogrify")


def test_no_application_module_quotes_values_into_sql() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in APPLICATION_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if QUOTING.search(line)
    ]
    assert offenders == []
