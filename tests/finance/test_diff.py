"""The statement diff: five categories (plus unreadable lines), sign conventions, tolerance,
status words, and the report as a page and as CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from tests.finance.conftest import DAY1, DAY2, DAY3, Book, body, parse_csv
from wallet.reconciliation.diff import (
    REPORT_HEADER,
    Category,
    DiffLine,
    DiffOptions,
    SignConvention,
    compare,
    parse_status_words,
)
from wallet.reconciliation.filters import ReconciliationFilter
from wallet.reconciliation.statement import ColumnMapping, read_statement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

DIFF = reverse("admin:finance_diff")
D = Decimal
DAYS_1_2 = ReconciliationFilter(
    provider="buffalo", date_from=date.fromisoformat(DAY1), date_to=date.fromisoformat(DAY2)
)
STATEMENT = b"""Transaction ID,Amount,Status
d1,-10.00,settled
c1,"25.000",Completed
d2,-7.50,settled
x2,7.00,refunded
d3,-4,settled
zz9,5,settled
oops,abc,settled
"""


def diff(
    data: bytes, selection: ReconciliationFilter = DAYS_1_2, **options: object
) -> dict[str, DiffLine]:
    statement = read_statement(data, ColumnMapping())
    return {
        f"{line.category}:{line.tx_id}": line
        for line in compare(statement, selection, DiffOptions(**options))  # type: ignore[arg-type]
    }


def test_the_five_categories(book: Book) -> None:
    lines = diff(STATEMENT)
    assert sorted(lines) == [
        "amount_differs:x2",
        "matched:c1",
        "matched:d1",
        "only_in_ours:-cmd",
        "only_in_theirs:d3",
        "only_in_theirs:zz9",
        "status_differs:d2",
        "unreadable:oops",
    ]
    matched = lines["matched:c1"]
    assert (matched.our_amount, matched.their_amount, matched.ours.status) == (  # type: ignore[union-attr]
        D("25"), D("25.000"), "settled",
    )  # fmt: skip
    amount = lines["amount_differs:x2"]
    assert (amount.our_amount, amount.their_amount) == (D("7.5"), D("7.00"))
    status = lines["status_differs:d2"]
    assert (status.ours.status, status.theirs.status, status.their_status_as_ours) == (  # type: ignore[union-attr]
        "cancelled", "settled", "settled",
    )  # fmt: skip
    only_ours = lines["only_in_ours:-cmd"]
    assert (only_ours.our_amount, only_ours.ours.bet_key, only_ours.ours.player) == (  # type: ignore[union-attr]
        D("-2"), "=1+2", "zoë",
    )  # fmt: skip
    assert lines["only_in_theirs:zz9"].note == ""
    assert lines["only_in_theirs:d3"].note == (
        f"outside the chosen period: we have it at {DAY3}T09:00:00.000000Z"
    )
    assert lines["unreadable:oops"].note == "the amount 'abc' is not a number"
    assert lines["unreadable:oops"].theirs.lines == [8]  # type: ignore[union-attr]


def test_amount_differs_wins_over_status(book: Book) -> None:
    lines = diff(b"id,amount,status\nd2,-7.00,settled\n")
    assert "amount_differs:d2" in lines


def test_several_statement_lines_for_one_id_are_summed(book: Book) -> None:
    lines = diff(b"id,amount,status\nd1,-4,open\nd1,-6,settled\n")
    line = lines["matched:d1"]
    assert (line.their_amount, line.theirs.lines, line.theirs.status) == (  # type: ignore[union-attr]
        D("-10"), [2, 3], "settled",
    )  # fmt: skip


def test_operator_signed_statement(book: Book) -> None:
    lines = diff(b"id,amount,status\nd1,10,settled\nc1,-25,settled\n", sign=SignConvention.OPERATOR)
    assert {"matched:d1", "matched:c1"} <= set(lines)
    assert "amount_differs:d1" in diff(
        b"id,amount,status\nd1,-10,settled\n", sign=SignConvention.OPERATOR
    )


def test_unsigned_statement_compares_absolute_amounts(book: Book) -> None:
    lines = diff(
        b"id,amount,status\nd1,10,settled\nx2,7.5,cancelled\n", sign=SignConvention.UNSIGNED
    )
    assert {"matched:d1", "matched:x2"} <= set(lines)


def test_tolerance(book: Book) -> None:
    statement = b"id,amount,status\nx2,7.49,refund\n"
    assert "amount_differs:x2" in diff(statement)
    assert "matched:x2" in diff(statement, tolerance=D("0.01"))
    assert "amount_differs:x2" in diff(statement, tolerance=D("0.009999"))


def test_extra_status_words(book: Book) -> None:
    statement = b"id,amount,status\nd1,-10,PAID-OUT\n"
    assert "status_differs:d1" in diff(statement)
    words = parse_status_words("paid out = settled\n\n")
    assert "matched:d1" in diff(statement, extra_status_words=words)
    with pytest.raises(ValueError, match="line 1"):
        parse_status_words("paid out = maybe")


def test_settled_basis_compares_bets_closed_in_the_period(book: Book) -> None:
    selection = ReconciliationFilter(
        provider="buffalo",
        date_from=date.fromisoformat(DAY2),
        date_to=date.fromisoformat(DAY2),
        basis="settled",  # type: ignore[arg-type]
    )
    # b2 was staked on day 1 and cancelled on day 2: both its ids belong to day 2.
    lines = diff(b"id,amount,status\nd2,-7.5,cancelled\nx2,7.5,cancelled\n", selection)
    assert set(lines) == {"matched:d2", "matched:x2", "only_in_ours:-cmd"}


# --- through the admin ------------------------------------------------------------------------


def post(client: Client, data: bytes, name: str = "statement.csv", **fields: str):  # type: ignore[no-untyped-def]
    form = {
        "provider": "buffalo",
        "date_from": DAY1,
        "date_to": DAY2,
        "basis": "created",
        "decimal_separator": ".",
        "sign": "player",
        "tolerance": "0",
        "action": "show",
        "statement": SimpleUploadedFile(name, data, content_type="text/csv"),
        **fields,
    }
    return client.post(DIFF, form)


def test_page_shows_counts_and_the_differences(book: Book, finance_client: Client) -> None:
    response = post(finance_client, STATEMENT)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.counts == {
        Category.MATCHED: 2,
        Category.ONLY_OURS: 1,
        Category.ONLY_THEIRS: 2,
        Category.AMOUNT_DIFFERS: 1,
        Category.STATUS_DIFFERS: 1,
        Category.UNREADABLE: 1,
    }
    assert report.not_compared == 1  # the staff-resolved win has no provider id
    html = response.content.decode()
    assert "the amount &#x27;abc&#x27; is not a number" in html
    assert "Read as UTF-8, delimiter “,”" in html


def test_download_is_the_whole_report_as_csv(book: Book, finance_client: Client) -> None:
    response = post(finance_client, STATEMENT, action="download")
    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == (
        'attachment; filename="statement-diff_created_2026-03-01_2026-03-02_buffalo_'
        'all-currencies.csv"'
    )
    raw = body(response)
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(REPORT_HEADER).encode() + b"\r\n")
    rows = {(r["category"], r["provider_tx_id"]): r for r in parse_csv(raw)}
    assert len(rows) == 8
    assert rows["amount_differs", "x2"] | {} == {
        "category": "amount_differs",
        "provider_tx_id": "x2",
        "our_amount": "7.500000",
        "their_amount": "7.000000",
        "difference": "0.500000",
        "our_status": "cancelled",
        "their_status": "refunded",
        "their_status_as_ours": "cancelled",
        "their_lines": "5",
        "bet_key": "b2",
        "player": "bob",
        "currency": "USD",
        "note": "",
    }
    only_ours = rows["only_in_ours", "'-cmd"]
    assert (only_ours["bet_key"], only_ours["their_amount"], only_ours["difference"]) == (
        "'=1+2", "", "",
    )  # fmt: skip
    unreadable = rows["unreadable", "oops"]
    assert (unreadable["their_amount"], unreadable["their_lines"]) == ("", "8")


def test_their_text_is_neutralised_in_the_report(book: Book, finance_client: Client) -> None:
    statement = b'id,amount,status\n"=HYPERLINK(""http://evil"")",1,@SUM(A1)\n'
    response = post(finance_client, statement, action="download")
    [row] = parse_csv(body(response))[-1:]
    assert row["provider_tx_id"] == '\'=HYPERLINK("http://evil")'
    assert row["their_status"] == "'@SUM(A1)"


def test_column_mapping_from_the_form(book: Book, finance_client: Client) -> None:
    statement = b"Ref;Betrag;Zustand\nd1;-10,00;settled\n"
    response = post(
        finance_client,
        statement,
        tx_id_column="ref",
        amount_column="2",
        status_column="Zustand",
        decimal_separator=",",
        delimiter="semicolon",
    )
    assert response.status_code == 200
    assert response.context["report"].counts[Category.MATCHED] == 1


def test_non_csv_upload_gets_a_clear_message(book: Book, finance_client: Client) -> None:
    response = post(finance_client, b"PK\x03\x04 a zipped workbook", name="statement.xlsx")
    assert response.status_code == 400
    assert "This is an Excel workbook (.xlsx) or another zip file, not a CSV file." in (
        response.content.decode()
    )


def test_unmappable_statement_lists_its_columns(book: Book, finance_client: Client) -> None:
    response = post(finance_client, b"a,b,c\n1,2,3\n")
    assert response.status_code == 400
    assert "The file&#x27;s columns are: &#x27;a&#x27;, &#x27;b&#x27;, &#x27;c&#x27;" in (
        response.content.decode()
    )


def test_provider_and_period_are_required(finance_client: Client) -> None:
    response = post(finance_client, STATEMENT, provider="", date_from="", date_to="")
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) >= {"provider", "date_from", "date_to"}


def test_upload_larger_than_the_limit_is_refused_unread(
    book: Book, finance_client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.FINANCE_STATEMENT_MAX_BYTES = 1000
    small = post(finance_client, STATEMENT)
    assert small.status_code == 200
    big = STATEMENT + b"zz,1,settled\n" * 20_000  # ~260 KB: over the limit and its overhead
    response = post(finance_client, big)
    assert response.status_code == 413
    assert "larger than 1,000 bytes: nothing was read" in response.content.decode()


def test_upload_over_the_limit_without_a_telling_length_is_cut_off(
    book: Book, finance_client: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.FINANCE_STATEMENT_MAX_BYTES = 1000
    data = STATEMENT + b"zz,1,settled\n" * 100  # ~1.4 KB: inside the Content-Length allowance
    response = post(finance_client, data)
    assert response.status_code == 413
    assert "nothing was read" in response.content.decode()


def test_csrf_is_still_enforced(book: Book) -> None:
    from tests.finance.conftest import finance_user

    client = Client(enforce_csrf_checks=True)
    client.force_login(finance_user("csrf-check"))  # type: ignore[arg-type]
    response = post(client, STATEMENT)
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_limit_from_the_setting(settings) -> None:  # type: ignore[no-untyped-def]
    """FINANCE_STATEMENT_MAX_BYTES (from the environment through settings), read per call."""
    from wallet.reconciliation.uploads import statement_max_bytes

    assert statement_max_bytes() == 20 * 1024 * 1024
    settings.FINANCE_STATEMENT_MAX_BYTES = 5000
    assert statement_max_bytes() == 5000
