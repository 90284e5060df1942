"""journal_archive and journal_restore (issue 28), on SQLite and on PostgreSQL: a month goes to
a file and comes back with every column as it was; a month is dropped only once its file is
good; support still finds a bet's requests of the months kept."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.db.models import JSONField, Value
from django.urls import reverse
from django.utils import timezone

from journal import archive
from journal.models import JournalEntry
from journal.partitions import add_months, ensure_months, first_of_month, month_bounds
from tests.admin.conftest import open_bet
from tests.helpers import ON_POSTGRES

pytestmark = pytest.mark.django_db

THIS_MONTH = first_of_month(timezone.now())
LAST_MONTH = add_months(THIS_MONTH, -1)
OLD_MONTH = add_months(THIS_MONTH, -2)


def at(month: date, day: int, microsecond: int = 0) -> datetime:
    return datetime(month.year, month.month, day, 10, 30, 5, microsecond, tzinfo=UTC)


def entry(when: datetime, **fields: Any) -> JournalEntry:
    row = JournalEntry.objects.create(**{"provider": "buffalo", "request_id": "r"} | fields)
    # created_at is set on insert (auto_now_add): put the row in its month afterwards.
    JournalEntry.objects.filter(pk=row.pk).update(created_at=when)
    return row


def month_rows(month: date) -> list[tuple[Any, ...]]:
    """Every column of the month's rows, as the database holds them (text of JSON columns)."""
    start, end = month_bounds(month)
    ops = connection.ops
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute(
                "SELECT t::text FROM providers_journalentry t "
                "WHERE created_at >= %s AND created_at < %s ORDER BY id",
                [start, end],
            )
        else:
            cursor.execute(
                "SELECT * FROM providers_journalentry "
                "WHERE created_at >= %s AND created_at < %s ORDER BY id",
                [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)],
            )
        return cursor.fetchall()


@pytest.fixture
def months() -> None:
    """Rows of an old month (all kinds of values), of last month and of this month."""
    if ON_POSTGRES:
        ensure_months(connection, [OLD_MONTH, LAST_MONTH])
    entry(at(OLD_MONTH, 1), bet_key="b1", action="bet", payload={"amount": "12.50"})
    entry(
        at(OLD_MONTH, 2, 123456),
        bet_key="b1",
        action="cancel",
        is_cancel=True,
        outcome="busy",
        client_ip="2001:db8::7",
        headers={"x-request-id": "é ü 日本", "nested": {"a": [1, 2.5, None, True]}},
        payload=Value(None, JSONField()),  # a JSON null, not SQL NULL
        answer={"status": "0000", "balance": 87.5, "empty": {}},
        error='line one\nline "two"\ttab',
        latency_us=2**31 - 1,
        http_status=503,
    )
    entry(at(OLD_MONTH, 28, 999999), payload=None, answer=None, account_id="alice")
    entry(at(LAST_MONTH, 15), bet_key="b1", action="settle")
    entry(timezone.now(), bet_key="b1", action="late cancel")
    if ON_POSTGRES:
        with connection.cursor() as cursor:  # numbers JSON keeps exactly, not as floats
            cursor.execute(
                "UPDATE providers_journalentry SET payload = "
                '\'{"amount": 1.10, "big": 123456789012345678901234567890}\'::jsonb '
                "WHERE action = 'bet'"
            )


def test_a_month_goes_to_its_file_and_comes_back_byte_for_byte(
    months: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = month_rows(OLD_MONTH)
    assert len(before) == 3
    kept = month_rows(LAST_MONTH) + month_rows(THIS_MONTH)

    call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    out = capsys.readouterr().out
    assert f"{OLD_MONTH:%Y-%m}: 3 rows, sha256 " in out
    assert "journal_archive: 1 months archived, 0 failed" in out

    path = tmp_path / f"journal-{OLD_MONTH:%Y-%m}.jsonl.gz"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (tmp_path / f"{path.name}.sha256").read_text() == f"{digest}  {path.name}\n"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["bet", "cancel", ""]
    assert len(json.loads(lines[1])) == len(JournalEntry._meta.concrete_fields)  # all columns
    assert month_rows(OLD_MONTH) == []
    assert month_rows(LAST_MONTH) + month_rows(THIS_MONTH) == kept

    call_command("journal_restore", str(path))
    assert month_rows(OLD_MONTH) == before
    assert "3 rows of" in capsys.readouterr().out
    # Restoring twice would duplicate the month: refused, nothing loaded.
    with pytest.raises(CommandError, match="nothing restored"):
        call_command("journal_restore", str(path))
    assert month_rows(OLD_MONTH) == before


def test_support_still_finds_a_bets_requests_of_the_months_kept(
    months: None, tmp_path: Path, as_user: Any, readonly_user: Any, alice: Any
) -> None:
    bet = open_bet("b1")
    call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    client = as_user(readonly_user)
    page = client.get(reverse("admin:wallet_bet_change", args=[bet.pk])).content.decode()
    link = "/admin/journal/journalentry/?provider=buffalo&amp;bet_key=b1"
    assert link in page
    assert "late cancel" in page  # this month's request in the bet's history
    listing = client.get(link.replace("&amp;", "&"))
    assert listing.status_code == 200
    assert [e.action for e in listing.context["cl"].result_list] == ["late cancel", "settle"]


def test_a_month_not_over_is_refused(months: None, tmp_path: Path) -> None:
    next_month = add_months(THIS_MONTH, 1)
    with pytest.raises(CommandError, match="is not over yet"):
        call_command("journal_archive", "--before", f"{next_month:%Y-%m}", "--to", str(tmp_path))
    assert list(tmp_path.iterdir()) == []
    assert len(month_rows(OLD_MONTH)) == 3


def test_a_file_that_fails_its_check_drops_nothing(
    months: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = month_rows(OLD_MONTH)

    def unreadable(path: Path, rows: int) -> str:
        raise archive.ArchiveError(f"{path.name}: 0 rows read back of {rows} written")

    monkeypatch.setattr(archive, "_verify", unreadable)
    with pytest.raises(CommandError, match="0 months archived, 1 failed"):
        call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    assert month_rows(OLD_MONTH) == before
    assert list(tmp_path.iterdir()) == []  # no partial file left behind either


def test_an_existing_file_is_never_overwritten(months: None, tmp_path: Path) -> None:
    (tmp_path / f"journal-{OLD_MONTH:%Y-%m}.jsonl.gz").write_bytes(b"earlier")
    with pytest.raises(CommandError, match="1 failed"):
        call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    assert len(month_rows(OLD_MONTH)) == 3


def test_a_file_that_does_not_match_its_checksum_is_not_restored(
    months: None, tmp_path: Path
) -> None:
    call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    path = tmp_path / f"journal-{OLD_MONTH:%Y-%m}.jsonl.gz"
    rows = gzip.decompress(path.read_bytes()).decode().splitlines()
    path.write_bytes(gzip.compress(("\n".join(rows[:2]) + "\n").encode()))  # a row lost
    with pytest.raises(CommandError, match="checksum"):
        call_command("journal_restore", str(path))
    assert month_rows(OLD_MONTH) == []


def test_rows_of_another_month_in_a_file_are_refused(months: None, tmp_path: Path) -> None:
    call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    path = tmp_path / f"journal-{OLD_MONTH:%Y-%m}.jsonl.gz"
    renamed = tmp_path / f"journal-{add_months(OLD_MONTH, -1):%Y-%m}.jsonl.gz"
    path.rename(renamed)
    digest = hashlib.sha256(renamed.read_bytes()).hexdigest()
    (tmp_path / f"{renamed.name}.sha256").write_text(f"{digest}  {renamed.name}\n")
    with pytest.raises(CommandError, match="nothing restored"):
        call_command("journal_restore", str(renamed))
    assert month_rows(OLD_MONTH) == [] and month_rows(add_months(OLD_MONTH, -1)) == []


def test_nothing_to_archive_is_said_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry(timezone.now() - timedelta(minutes=1))
    call_command("journal_archive", "--before", f"{THIS_MONTH:%Y-%m}", "--to", str(tmp_path))
    assert "journal_archive: 0 months archived, 0 failed" in capsys.readouterr().out


def test_a_month_that_cannot_be_dropped_keeps_its_rows_and_loses_its_file(
    months: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = month_rows(OLD_MONTH)

    def busy(*args: Any) -> None:
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(archive, "_drop_month", busy)
    with pytest.raises(CommandError, match="1 failed"):
        call_command("journal_archive", "--before", f"{LAST_MONTH:%Y-%m}", "--to", str(tmp_path))
    assert month_rows(OLD_MONTH) == before
    assert list(tmp_path.iterdir()) == []  # the next run archives the month afresh
