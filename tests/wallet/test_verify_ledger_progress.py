"""verify_ledger draws the rows checked, against all there are, on a terminal; nothing else."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from tests.wallet.test_ledger_chain import ledger
from wallet.models import AuditEntry, LedgerEntry

__all__ = ["ledger"]  # the fixture, used by name


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(stderr: io.StringIO) -> str:
    out = io.StringIO()
    call_command("verify_ledger", stdout=out, stderr=stderr)
    return out.getvalue()


@pytest.mark.usefixtures("ledger")
def test_under_cron_the_output_is_its_line_alone() -> None:
    err = io.StringIO()
    printed = run(err)
    assert re.fullmatch(
        r"verify_ledger: 8 ledger rows in 2 wallets, \d+ audit rows, 0 broken chains "
        r"\(\d+\.\d s\)\n",
        printed,
    )
    assert err.getvalue() == ""


@pytest.mark.usefixtures("ledger")
def test_on_a_terminal_the_bar_reaches_every_row() -> None:
    rows = LedgerEntry.objects.count() + AuditEntry.objects.count()
    err = Terminal()
    printed = run(err)
    drawn = err.getvalue()
    assert drawn.startswith("\rverifying")
    assert "100%" in drawn and f"{rows}/{rows} [" in drawn and "rows/s]" in drawn
    assert "\r" not in printed and printed.startswith("verify_ledger: 8 ledger rows")
