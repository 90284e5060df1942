"""``export_reconciliation``: the same CSV as the admin, for cron, to stdout or a file."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.finance.conftest import DAY2, DAY3, Book, at, body, parse_csv, utc
from wallet.reconciliation import cells, transactions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]


class RecordingStdout(io.StringIO):
    """Counts writes, to see that the command writes as rows arrive, not once at the end."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("export_reconciliation", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_stdout_is_byte_for_byte_the_admin_download(book: Book, finance_client: Client) -> None:
    printed = run("--provider", "buffalo", "--from", DAY2, "--to", DAY3).encode()
    response = finance_client.get(
        reverse("admin:finance_export"),
        {"download": "1", "provider": "buffalo", "date_from": DAY2, "date_to": DAY3, "bom": "on"},
    )
    assert printed == body(response)
    assert [r["provider_tx_id"] for r in parse_csv(printed)] == ["x2", "'-cmd", "", "d3", "c3"]


def test_filters_basis_and_no_bom(book: Book) -> None:
    printed = run("--currency", "cny", "--by", "settled", "--day", DAY2, "--no-bom")
    assert not printed.startswith("\ufeff")
    rows = parse_csv(printed.encode())
    assert [(r["kind"], r["date_basis"]) for r in rows] == [
        ("stake", "settled"), ("win", "settled"), ("reversal", "settled"),
    ]  # fmt: skip


def test_summary_report(book: Book) -> None:
    rows = parse_csv(run("--report", "summary", "--provider", "vp").encode())
    assert [(r["day"], r["stakes"], r["net"]) for r in rows] == [(DAY2, "8.000000", "0.000000")]


def test_yesterday_for_cron(book: Book) -> None:
    with at(utc("2026-03-04", "00:30:00")):
        rows = parse_csv(run("--day", "yesterday").encode())
    assert {r["time_utc"][:10] for r in rows} == {DAY3}


def test_writes_a_file_atomically(book: Book, tmp_path: Path) -> None:
    target = tmp_path / "march.csv"
    run("--output", str(target), "--provider", "vp")
    assert [r["kind"] for r in parse_csv(target.read_bytes())] == ["stake", "win", "reversal"]
    assert os.listdir(tmp_path) == ["march.csv"]
    assert target.stat().st_mode & 0o044  # readable by the group/others the umask allows


class Terminal(io.StringIO):
    """Standard error as a person's shell has it."""

    def isatty(self) -> bool:
        return True


def test_writing_a_file_under_cron_prints_the_closing_line_only(book: Book, tmp_path: Path) -> None:
    target = tmp_path / "march.csv"
    out, err = io.StringIO(), io.StringIO()
    call_command("export_reconciliation", "--output", str(target), stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert err.getvalue() == f"wrote {target.stat().st_size:,} bytes to {target}\n"


def test_writing_a_file_on_a_terminal_draws_bytes_and_rate_on_stderr(
    book: Book, tmp_path: Path
) -> None:
    target = tmp_path / "march.csv"
    out, err = io.StringIO(), Terminal()
    call_command("export_reconciliation", "--output", str(target), stdout=out, stderr=err)
    drawn = err.getvalue()
    assert out.getvalue() == ""  # stdout never carries the bar
    assert drawn.startswith("\rwriting")
    assert "B/s" in drawn
    assert drawn.endswith(f"wrote {target.stat().st_size:,} bytes to {target}\n")
    assert target.read_bytes() == run().encode()  # the file is what stdout would have been


def test_a_failure_leaves_no_file(book: Book, tmp_path: Path) -> None:
    target = tmp_path / "broken.csv"

    def explode(selection):  # type: ignore[no-untyped-def]
        raise RuntimeError("database went away")

    # After the header: the rows (COPY on PostgreSQL, the Python writer on SQLite) fail.
    with mock.patch.object(transactions, "data_chunks", explode), pytest.raises(RuntimeError):
        run("--output", str(target))
    assert os.listdir(tmp_path) == []


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        run("--output", str(tmp_path / "nowhere" / "x.csv"))


def test_the_command_streams(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cells, "CHUNK_BYTES", 1)
    out = RecordingStdout()
    call_command("export_reconciliation", stdout=out, stderr=io.StringIO())
    assert out.writes >= 1 + 20  # the header, then every row as it came


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01"], "is not a day"),
        (["--from", DAY3, "--to", DAY2], "the first day is after the last day"),
        (["--day", DAY2, "--from", DAY2], "--day replaces --from and --to"),
    ],
)
def test_bad_arguments(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_timestamps_in_the_file_are_utc(book: Book) -> None:
    rows = parse_csv(run("--provider", "jdb").encode())
    assert all(datetime.fromisoformat(r["time_utc"]).utcoffset() == timedelta(0) for r in rows)
