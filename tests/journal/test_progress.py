"""journal_archive and journal_restore draw rows and their rate on a terminal, nothing else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.journal.test_archive import LAST_MONTH, OLD_MONTH, months

pytestmark = pytest.mark.django_db
__all__ = ["months"]  # the fixture, used by name


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def archive(tmp_path: Path, stderr: io.StringIO) -> str:
    out = io.StringIO()
    arguments = ["--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path)]
    call_command("journal_archive", *arguments, stdout=out, stderr=stderr)
    return out.getvalue()


def restore(path: Path, stderr: io.StringIO) -> str:
    out = io.StringIO()
    call_command("journal_restore", str(path), stdout=out, stderr=stderr)
    return out.getvalue()


@pytest.mark.usefixtures("months")
def test_under_cron_only_the_lines_are_printed(tmp_path: Path) -> None:
    err = io.StringIO()
    printed = archive(tmp_path, err)
    assert (
        printed.splitlines()[0]
        == f"{OLD_MONTH:%Y-%m}: writing {tmp_path}/journal-{OLD_MONTH:%Y-%m}.jsonl.gz"
    )
    assert printed.splitlines()[-1] == "journal_archive: 1 months archived, 0 failed"
    path = tmp_path / f"journal-{OLD_MONTH:%Y-%m}.jsonl.gz"
    assert (
        restore(path, err).splitlines()[-1] == f"{path.name}: 3 rows of {OLD_MONTH:%Y-%m} restored"
    )
    assert err.getvalue() == ""
    assert "\r" not in printed and "\x1b" not in printed


@pytest.mark.usefixtures("months")
def test_on_a_terminal_each_month_draws_its_rows_and_rate(tmp_path: Path) -> None:
    err = Terminal()
    printed = archive(tmp_path, err)
    assert f"\r{OLD_MONTH:%Y-%m}: " in err.getvalue()
    assert "3 rows [" in err.getvalue() and "rows/s]" in err.getvalue()
    assert "\r" not in printed  # stdout keeps its lines
    err = Terminal()
    restore(tmp_path / f"journal-{OLD_MONTH:%Y-%m}.jsonl.gz", err)
    assert f"\rjournal-{OLD_MONTH:%Y-%m}.jsonl.gz: " in err.getvalue()
    assert "3 rows [" in err.getvalue()
