"""The transaction export: every column, every filter, order, encoding, formulas, streaming."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.finance.conftest import DAY1, DAY2, DAY3, Book, body, parse_csv
from tests.helpers import ON_POSTGRES, requires_postgres, run_concurrently
from wallet.models import LedgerEntry
from wallet.reconciliation import cells, transactions
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.transactions import HEADER, export_chunks
from wallet.services import Outcome, bet_open

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

EXPORT = reverse("admin:finance_export")


def export(**filters: object) -> list[dict[str, str]]:
    return parse_csv(b"".join(export_chunks(ReconciliationFilter(**filters))))  # type: ignore[arg-type]


def by_tx(rows: list[dict[str, str]], kind: str, tx: str) -> dict[str, str]:
    [row] = [r for r in rows if r["kind"] == kind and r["provider_tx_id"] == tx]
    return row


def test_header_is_the_documented_columns_in_order(book: Book) -> None:
    raw = b"".join(export_chunks(ReconciliationFilter()))
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    first_line = raw[3:].split(b"\r\n")[0].decode()
    assert first_line.split(",") == list(HEADER)
    assert HEADER == (
        "ledger_id", "time_utc", "provider", "provider_tx_id", "bet_key", "round_id",
        "game_code", "player", "currency", "kind", "amount", "balance_after", "bet_state",
        "bet_settled_utc", "staff_user", "reason", "date_basis",
    )  # fmt: skip


def test_one_row_per_ledger_entry_in_ledger_id_order(book: Book) -> None:
    rows = export()
    ids = [int(r["ledger_id"]) for r in rows]
    assert ids == list(LedgerEntry.objects.order_by("id").values_list("id", flat=True))
    assert len(rows) == LedgerEntry.objects.count() == 20


def test_stake_row_has_every_column(book: Book) -> None:
    row = by_tx(export(), "stake", "d1")
    ledger = LedgerEntry.objects.get(kind="stake", provider_tx_id="d1")
    assert row == {
        "ledger_id": str(ledger.pk),
        "time_utc": f"{DAY1}T10:00:00.250000Z",
        "provider": "buffalo",
        "provider_tx_id": "d1",
        "bet_key": "b1",
        "round_id": "round-1",
        "game_code": "slot-7",
        "player": "alice",
        "currency": "USD",
        "kind": "stake",
        "amount": "-10.000000",
        "balance_after": "90.000000",
        "bet_state": "settled",
        "bet_settled_utc": f"{DAY1}T12:00:00.000000Z",
        "staff_user": "",
        "reason": "",
        "date_basis": "created",
    }


def test_each_kind_is_exported_with_its_sign_and_balance(book: Book) -> None:
    rows = export()
    assert by_tx(rows, "win", "c1")["amount"] == "25.000000"
    assert by_tx(rows, "win", "c1")["balance_after"] == "115.000000"
    refund = by_tx(rows, "refund", "x2")
    assert (refund["amount"], refund["bet_state"], refund["player"]) == (
        "7.500000",
        "cancelled",
        "bob",
    )
    assert refund["bet_settled_utc"] == f"{DAY2}T01:00:00.000000Z"  # a cancel closes the bet
    reversal = by_tx(rows, "reversal", "v1-rb")
    assert (reversal["amount"], reversal["currency"], reversal["balance_after"]) == (
        "-12.000000", "CNY", "1000.000000",
    )  # fmt: skip
    stake = by_tx(rows, "stake", "nt1")
    assert (stake["amount"], stake["bet_state"], stake["bet_settled_utc"]) == (
        "-3.333333",
        "open",
        "",
    )
    deposit = next(r for r in rows if r["kind"] == "deposit" and r["player"] == "zoë")
    assert deposit["provider"] == deposit["bet_key"] == deposit["bet_state"] == ""
    assert (deposit["amount"], deposit["reason"]) == ("10.500000", "opening balance")
    zero_win = by_tx(rows, "win", "c3")
    assert zero_win["amount"] == "0.000000"


def test_staff_rows_name_the_user_and_reason(book: Book) -> None:
    rows = export()
    resolve = next(r for r in rows if r["kind"] == "win" and r["bet_key"] == "'=1+2")
    assert resolve["provider_tx_id"] == ""
    assert resolve["staff_user"] == "'@staffer"
    assert resolve["reason"] == '\'=HYPERLINK("http://x")'
    adjustment = next(r for r in rows if r["kind"] == "staff_adjustment")
    assert adjustment["amount"] == "-1.250000"  # a negative amount stays a number
    assert adjustment["staff_user"] == "'@staffer"
    assert adjustment["reason"] == "goodwill correction ✓"
    assert adjustment["balance_after"] == "48.750000"


def test_text_cells_that_look_like_formulas_are_neutralised(book: Book) -> None:
    rows = export()
    stake = by_tx(rows, "stake", "'-cmd")
    assert (stake["bet_key"], stake["round_id"]) == ("'=1+2", "'@round")
    # Numbers are never prefixed, even negative ones.
    for row in rows:
        for column in ("amount", "balance_after"):
            Decimal(row[column])
            assert not row[column].startswith("'")


def test_bytes_are_utf8_and_crlf(book: Book) -> None:
    raw = b"".join(export_chunks(ReconciliationFilter(), bom=False))
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert "zoë".encode() in raw and "✓".encode() in raw
    assert raw.count(b"\r\n") == 21 and b"\n" not in raw.replace(b"\r\n", b"")


def test_provider_filter(book: Book) -> None:
    rows = export(provider="buffalo")
    assert {r["provider"] for r in rows} == {"buffalo"}
    assert [r["provider_tx_id"] for r in rows] == ["d1", "c1", "d2", "x2", "'-cmd", "", "d3", "c3"]


def test_currency_filter(book: Book) -> None:
    rows = export(currency="CNY")
    assert [(r["kind"], r["amount"]) for r in rows] == [
        ("deposit", "1000.000000"), ("stake", "-8.000000"), ("win", "20.000000"),
        ("reversal", "-12.000000"),
    ]  # fmt: skip


def test_created_day_range_includes_both_ends_and_nothing_else(book: Book) -> None:
    day2 = export(date_from=_day(DAY2), date_to=_day(DAY2))
    assert {r["time_utc"][:10] for r in day2} == {DAY2}
    assert len(day2) == 8
    day1 = export(date_from=_day(DAY1), date_to=_day(DAY1))
    # The stake at 23:59:59.999999 is day 1; its refund at 01:00 is day 2.
    assert by_tx(day1, "stake", "d2")["time_utc"] == f"{DAY1}T23:59:59.999999Z"
    assert not [r for r in day1 if r["kind"] == "refund"]
    open_end = export(date_from=_day(DAY3))
    assert {r["provider_tx_id"] for r in open_end} == {"d3", "c3"}
    assert {r["date_basis"] for r in open_end} == {"created"}


def test_settled_basis_selects_by_the_bets_settle_or_cancel_day(book: Book) -> None:
    rows = export(date_from=_day(DAY2), date_to=_day(DAY2), basis=DateBasis.SETTLED)
    keys = [(r["bet_key"], r["kind"]) for r in rows]
    # b2 was staked on day 1 and cancelled on day 2: both its rows belong to day 2.
    assert ("b2", "stake") in keys and ("b2", "refund") in keys
    assert by_tx(rows, "stake", "d2")["time_utc"].startswith(DAY1)
    # Open bets, deposits, staff adjustments and bets closed on other days are left out.
    assert not {"n0", "n1", "b1", "b3", ""} & {k for k, _ in keys}
    assert {r["bet_settled_utc"][:10] for r in rows} == {DAY2}
    assert {r["date_basis"] for r in rows} == {"settled"}


def _day(text: str):  # type: ignore[no-untyped-def]
    from datetime import date

    return date.fromisoformat(text)


# --- through the admin: streaming --------------------------------------------------------------


def test_admin_download_streams_a_csv_attachment(book: Book, finance_client: Client) -> None:
    response = finance_client.get(
        EXPORT,
        {"download": "1", "provider": "vp", "date_from": DAY1, "date_to": DAY3, "bom": "on"},
    )
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="transactions_created_2026-03-01_2026-03-03_vp_all-currencies.csv"'
    )
    rows = parse_csv(body(response))
    assert [(r["kind"], r["amount"]) for r in rows] == [
        ("stake", "-8.000000"), ("win", "20.000000"), ("reversal", "-12.000000"),
    ]  # fmt: skip


def test_admin_download_without_bom_checkbox(book: Book, finance_client: Client) -> None:
    response = finance_client.get(EXPORT, {"download": "1"})
    assert not body(response).startswith(b"\xef\xbb\xbf")


def test_header_leaves_before_the_query_and_rows_take_one_query(
    book: Book, finance_client: Client, django_assert_num_queries
) -> None:  # type: ignore[no-untyped-def]
    response = finance_client.get(EXPORT, {"download": "1"})
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]
    with django_assert_num_queries(0):
        first = next(chunks)
    assert first.decode().startswith("ledger_id,")
    with CaptureQueriesContext(connection) as queries:
        rest = b"".join(chunks)
    assert rest.count(b"\r\n") == 20
    selects = [q["sql"] for q in queries if "wallet_ledgerentry" in q["sql"]]
    assert len(selects) == 1  # (PostgreSQL adds only SAVEPOINT/RELEASE around it here)


def test_rows_come_in_chunks_not_one_blob(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cells, "CHUNK_BYTES", 1)
    chunks = list(export_chunks(ReconciliationFilter()))
    assert len(chunks) == 1 + 20  # the header, then one chunk per row at this tiny size


@pytest.mark.skipif(not ON_POSTGRES, reason="server-side cursors are PostgreSQL's")
@pytest.mark.django_db(transaction=True)  # autocommit, as in production
def test_rows_are_read_through_a_server_side_cursor_without_hold(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WITH HOLD cursor (what autocommit gives) would compute the whole result before the
    first row; the export reads inside a transaction, so rows leave as they are found.

    (On PostgreSQL the export is written by COPY, which holds the connection until its last
    row; the Python writer, which reads through the cursor, is checked here.)"""
    monkeypatch.setattr(transactions, "FETCH_ROWS", 2)
    monkeypatch.setattr(cells, "CHUNK_BYTES", 1)
    chunks = transactions.python_export_chunks(ReconciliationFilter())
    next(chunks), next(chunks)  # the header and the first row
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchall() == [(False,)]
    assert len(list(chunks)) == 19
    assert connection.get_autocommit() and not connection.in_atomic_block  # closed again


@requires_postgres
@pytest.mark.django_db(transaction=True)  # autocommit, as in production
def test_postgres_rows_stream_from_one_copy_inside_a_transaction(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half-way through a download the connection is running the export's COPY inside a
    transaction (one snapshot); at the end the transaction is closed again."""
    monkeypatch.setattr(cells, "CHUNK_BYTES", 1)
    chunks = export_chunks(ReconciliationFilter())
    next(chunks), next(chunks)  # the header and the first row
    assert connection.in_atomic_block
    pid = connection.connection.info.backend_pid
    [other] = run_concurrently([lambda: _activity(pid)], timeout=10)
    assert isinstance(other, tuple), other
    query, in_transaction = other
    assert query.startswith("COPY (SELECT ") and "wallet_ledgerentry" in query
    assert in_transaction
    assert len(list(chunks)) == 19
    assert connection.get_autocommit() and not connection.in_atomic_block  # closed again


def _activity(pid: int) -> tuple[str, bool]:
    """Another connection's view of backend ``pid``: its statement, and whether it is inside
    a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query, xact_start IS NOT NULL FROM pg_stat_activity WHERE pid = %s", [pid]
        )
        query, in_transaction = cursor.fetchone()
    return query, in_transaction


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_export_reads_one_snapshot_and_never_blocks_bets(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bet placed on another connection while a download is half-way is not held up, and
    does not appear in that download (one snapshot from start to end)."""
    monkeypatch.setattr(transactions, "FETCH_ROWS", 2)
    monkeypatch.setattr(cells, "CHUNK_BYTES", 1)
    chunks = export_chunks(ReconciliationFilter())
    head = [next(chunks), next(chunks)]

    def place_a_bet() -> Outcome:
        return bet_open(
            provider="jdb", bet_key="during", tx_id="during", account_id="alice",
            currency="USD", amount=Decimal("1"),
        ).outcome  # fmt: skip

    started = time.monotonic()
    [outcome] = run_concurrently([place_a_bet], timeout=10)
    assert outcome == Outcome.OK and time.monotonic() - started < 5
    rows = parse_csv(b"".join([*head, *chunks]))
    assert len(rows) == 20 and "during" not in {r["bet_key"] for r in rows}
    assert len(export(provider="jdb")) == 3  # a new download sees it


def test_invalid_filters_show_the_form_again(finance_client: Client) -> None:
    response = finance_client.get(
        EXPORT, {"download": "1", "date_from": DAY2, "date_to": DAY1, "currency": "U$"}
    )
    assert response.status_code == 400
    assert b"The first day is after the last day." in response.content
    assert b"A currency is 2 to 10 letters or digits" in response.content


def test_export_page_documents_every_column(finance_client: Client) -> None:
    response = finance_client.get(EXPORT)
    assert response.status_code == 200
    for column in transactions.COLUMNS:
        assert f"<dt>{column.name}</dt>".encode() in response.content
