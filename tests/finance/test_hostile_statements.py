"""Statements that gave a 500 on the diff page (issue 21, item 5), through the admin's upload view.

A cell longer than csv's field limit and an amount the decimal context cannot hold each make
their line "unreadable line N", like any other bad line; the rest of the file is compared.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.finance.conftest import Book, body, parse_csv
from tests.finance.test_diff import post
from wallet.reconciliation.diff import Category
from wallet.reconciliation.statement import MAX_CELL_CHARS, parse_statement_amount

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ledger_is_consistent")]

HEADER = b"Transaction ID,Amount,Status\n"
GOOD = b"d1,-10.00,settled\nc1,25,settled\n"


def unreadable(response) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """Line number -> note of every unreadable line the page lists."""
    assert response.status_code == 200, response.content[:300]
    report = response.context["report"]
    return {line.theirs.lines[0]: line.note for line in report.samples[Category.UNREADABLE]}


def test_a_cell_longer_than_the_csv_limit_is_an_unreadable_line(
    book: Book, finance_client: Client
) -> None:
    huge = b"x" * (MAX_CELL_CHARS + 1)
    response = post(finance_client, HEADER + GOOD + b"d2," + huge + b",settled\nd3,-4,settled\n")
    assert unreadable(response) == {4: "a cell on this line is longer than 131,072 characters"}
    counts = response.context["report"].counts
    assert counts[Category.MATCHED] == 2 and counts[Category.UNREADABLE] == 1
    assert "unreadable" in response.content.decode()


def test_a_huge_cell_among_the_first_lines_does_not_stop_the_delimiter_guess(
    book: Book, finance_client: Client
) -> None:
    huge = b'"' + b"y" * (MAX_CELL_CHARS * 2) + b'"'
    response = post(finance_client, HEADER + huge + b",1,settled\n" + GOOD)
    assert unreadable(response) == {2: "a cell on this line is longer than 131,072 characters"}
    assert response.context["statement"].delimiter == ","
    assert response.context["report"].counts[Category.MATCHED] == 2


def test_an_amount_of_40_digits_is_an_unreadable_line(book: Book, finance_client: Client) -> None:
    forty = b"1234567890" * 4
    response = post(finance_client, HEADER + GOOD + b"d2," + forty + b",settled\n")
    notes = unreadable(response)
    assert list(notes) == [4]
    assert "more than 14 digits before the point" in notes[4]
    assert response.context["report"].counts[Category.MATCHED] == 2


@pytest.mark.parametrize(
    "amount",
    [
        b"12345678901234567890123.1234567",
        b"1e999999",
        b"0." + b"0" * 80 + b"1",
        b"9" * 200,
        b"(" + b"9" * 30 + b")",
    ],
)
def test_amounts_past_the_decimal_context_are_unreadable_lines(
    book: Book, finance_client: Client, amount: bytes
) -> None:
    response = post(finance_client, HEADER + b"d2," + amount + b",settled\n" + GOOD)
    assert list(unreadable(response)) == [2]


def test_the_largest_amount_the_ledger_holds_is_read(book: Book, finance_client: Client) -> None:
    response = post(finance_client, HEADER + b"zz1,99999999999999.999999,settled\n" + GOOD)
    assert unreadable(response) == {}
    assert response.context["report"].counts[Category.ONLY_THEIRS] == 1


def test_an_id_longer_than_any_of_ours_is_an_unreadable_line(
    book: Book, finance_client: Client
) -> None:
    response = post(finance_client, HEADER + b"z" * 129 + b",1,settled\n" + GOOD)
    notes = unreadable(response)
    assert list(notes) == [2] and "129 characters long" in notes[2]
    assert len(notes[2]) < 200  # the id is quoted short, not whole


def test_the_downloaded_report_lists_the_unreadable_lines(
    book: Book, finance_client: Client
) -> None:
    huge = b"x" * (MAX_CELL_CHARS + 1)
    data = HEADER + GOOD + b"d2," + huge + b",settled\nd3," + b"9" * 40 + b",settled\n"
    rows = parse_csv(body(post(finance_client, data, action="download")))
    bad = {r["their_lines"]: r["note"] for r in rows if r["category"] == "unreadable"}
    assert set(bad) == {"4", "5"}
    assert "131,072" in bad["4"] and "digits before the point" in bad["5"]


def test_the_upload_page_says_the_limits(finance_client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.FINANCE_STATEMENT_MAX_BYTES = 5 * 1024 * 1024
    html = finance_client.get("/admin/finance/diff/").content.decode()
    assert "at most 5.0 MB (5,242,880 bytes)" in html
    assert "longer than 131,072 characters" in html


def test_a_long_amount_message_quotes_it_short() -> None:
    with pytest.raises(ValueError, match=r"characters\) is too long to be an amount") as caught:
        parse_statement_amount("1" * 100_000)
    assert len(str(caught.value)) < 200
