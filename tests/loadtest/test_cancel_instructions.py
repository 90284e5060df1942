"""manage.py cancel_instructions: real cancels through the WSGI application, counted.

The count is what later optimisation steps are judged by, so the tests check that the cancels
it measures really happen (refund rows) and that the count it prints is a real one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from tests.app_server import ROOT, server_environment
from tests.helpers import ON_POSTGRES
from wallet.consistency import check_ledger
from wallet.models import Bet, LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)
needs_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="seeds PostgreSQL, as loadtest does")


@pytest.mark.skipif(ON_POSTGRES, reason="the refusal on SQLite")
def test_on_sqlite_it_says_it_needs_postgresql() -> None:
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("cancel_instructions", cancels=5)


@needs_postgres
@pytest.mark.parametrize("provider", ["jdb", "buffalo"])
def test_the_cancels_it_measures_are_real_refunds(provider: str) -> None:
    out = StringIO()

    call_command("cancel_instructions", cancels=20, provider=provider, cpu_only=True, stdout=out)

    assert re.search(rf"{provider} cancel: [\d,]+ µs of CPU per request", out.getvalue())
    refunds = LedgerEntry.objects.filter(kind="refund", provider=provider)
    assert refunds.count() == 20 + 50  # the measured cancels and the warm-up's, each once
    # Each refund gave back exactly its bet's stake, and every balance still adds up.
    bets = Bet.objects.filter(provider=provider, state="cancelled")
    assert bets.count() == 70
    assert refunds.aggregate(total=Sum("amount"))["total"] == bets.aggregate(t=Sum("stake"))["t"]
    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]


@needs_postgres
@pytest.mark.parametrize("provider", ["jdb", "buffalo"])
def test_the_bets_and_settles_it_measures_are_real(provider: str) -> None:
    out = StringIO()

    call_command(
        "cancel_instructions",
        cancels=20,
        provider=provider,
        request="settle",
        cpu_only=True,
        stdout=out,
    )

    assert re.search(rf"{provider} settle: [\d,]+ µs of CPU per request", out.getvalue())
    # Every bet placed (uncounted) and settled (the measured settles and the warm-up's), once.
    assert LedgerEntry.objects.filter(kind="stake", provider=provider).count() == 70
    assert LedgerEntry.objects.filter(kind="win", provider=provider).count() == 70
    assert Bet.objects.filter(provider=provider, state="settled").count() == 70
    report = check_ledger()
    assert report.ok, [str(p) for p in report.problems]


@needs_postgres
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_the_count_under_callgrind_is_a_real_count(settings: Any) -> None:
    env = server_environment()
    run = subprocess.run(
        [sys.executable, "manage.py", "cancel_instructions", "--cancels", "10"],
        cwd=ROOT,
        env={**env, "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 0, run.stderr[-2000:]
    found = re.search(r"jdb cancel: ([\d,]+) instructions per request", run.stdout)
    assert found, run.stdout
    # A cancel is about two million instructions; zero or a billion would be a counting bug.
    assert 200_000 < int(found.group(1).replace(",", "")) < 50_000_000
