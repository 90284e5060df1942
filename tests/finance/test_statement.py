"""Reading providers' statements as real files come: encodings, delimiters, number formats."""

from __future__ import annotations

import codecs
from decimal import Decimal

import pytest

from wallet.reconciliation.statement import (
    ColumnMapping,
    StatementError,
    parse_statement_amount,
    read_statement,
)

D = Decimal
GUESS = ColumnMapping()


def lines(statement) -> list[tuple[int, str, Decimal, str]]:  # type: ignore[no-untyped-def]
    return [(x.line, x.tx_id, x.amount, x.status) for x in statement.lines]


def test_plain_comma_file_with_guessed_columns() -> None:
    data = (
        b"Transaction ID,Player,Amount,Status\r\nt1,alice,-10.50,settled\r\nt2,bob,25,Cancelled\r\n"
    )
    statement = read_statement(data, GUESS)
    assert lines(statement) == [(2, "t1", D("-10.50"), "settled"), (3, "t2", D("25"), "Cancelled")]
    assert statement.used_columns == {
        "tx_id": "Transaction ID",
        "amount": "Amount",
        "status": "Status",
    }
    assert (statement.delimiter, statement.encoding) == (",", "UTF-8")


@pytest.mark.parametrize(
    ("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")]
)
def test_delimiter_is_recognised(delimiter: str, name: str) -> None:
    rows = [["txid", "amount", "status", "note"], ["a1", "1.5", "ok", "x, y; z"]]
    text = "\n".join(delimiter.join(f'"{c}"' if c == "x, y; z" else c for c in r) for r in rows)
    statement = read_statement(text.encode(), GUESS)
    assert statement.delimiter == delimiter, name
    assert lines(statement) == [(2, "a1", D("1.5"), "ok")]


def test_european_file_semicolons_and_decimal_comma_with_bom() -> None:
    data = codecs.BOM_UTF8 + "Référence;Montant;Statut\n«t1»;-1.234,56;annulé\n".encode()
    mapping = ColumnMapping(tx_id="Référence", amount="montant", status="STATUT")
    statement = read_statement(data, mapping, decimal_separator=",")
    assert lines(statement) == [(2, "«t1»", D("-1234.56"), "annulé")]
    assert statement.encoding == "UTF-8 (BOM)"


def test_utf16_from_excel_unicode_text() -> None:
    data = "id\tamount\tstatus\r\nü1\t3.25\tsettled\r\n".encode("utf-16")
    statement = read_statement(data, GUESS)
    assert lines(statement) == [(2, "ü1", D("3.25"), "settled")]
    assert (statement.encoding, statement.delimiter) == ("UTF-16", "\t")


def test_windows_1252_when_not_utf8() -> None:
    data = "id;amount;status\nt\xe91;5;ok\n".encode("cp1252")
    statement = read_statement(data, GUESS)
    assert lines(statement) == [(2, "té1", D("5"), "ok")]
    assert statement.encoding == "Windows-1252"


def test_excel_sep_line_title_lines_and_blank_lines() -> None:
    data = (
        b"sep=;\n"
        b"Statement for operator X;;\n"
        b"Period: March 2026\n"
        b"\n"
        b"Ref;Bet amount;Win;State\n"
        b"r1;10.00;0;settled\n"
        b"\n"
        b"r2;5.00;0;open\n"
    )
    mapping = ColumnMapping(tx_id="ref", amount="Bet amount", status="state")
    statement = read_statement(data, mapping)
    assert statement.delimiter == ";"
    assert lines(statement) == [(6, "r1", D("10.00"), "settled"), (8, "r2", D("5.00"), "open")]


def test_mapping_by_column_number() -> None:
    data = b"a,b,c,d\nx1,ignored,7.5,void\n"
    statement = read_statement(data, ColumnMapping(tx_id="1", amount="3", status="4"))
    assert lines(statement) == [(2, "x1", D("7.5"), "void")]


def test_unreadable_lines_are_kept_as_problems_not_guessed() -> None:
    data = (
        b"id,amount,status\n"
        b"ok1,1.00,settled\n"
        b"bad-amount,12abc,settled\n"
        b",5.00,settled\n"
        b"1.23457E+18,5.00,settled\n"
        b"short,1.00\n"
        b"too-precise,1.0000001,settled\n"
        b"comma,12,50,settled\n"
    )
    statement = read_statement(data, GUESS)
    assert [x.tx_id for x in statement.lines] == ["ok1"]
    problems = {p.line: p.message for p in statement.problems}
    assert problems[3] == "the amount '12abc' is not a number"
    assert problems[4] == "no transaction id"
    assert "looks like a number a spreadsheet rounded" in problems[5]
    assert problems[6] == "only 2 cells on this line"
    assert problems[7] == "the amount '1.0000001' has more than 6 decimals"
    assert problems[8] == (
        "4 cells on this line but 3 in the header: a value probably contains the delimiter "
        "',' without quotes"
    )


def test_quoted_cells_spanning_lines_and_trailing_empty_cells() -> None:
    data = b'id,amount,status,\n"multi\nline",1.00,settled,\nt2,2.00,open,,\n'
    statement = read_statement(data, GUESS)
    assert lines(statement) == [
        (2, "multi\nline", D("1.00"), "settled"),
        (4, "t2", D("2.00"), "open"),
    ]


def test_our_own_neutralised_cells_read_back() -> None:
    data = b"provider_tx_id,amount,bet_state\n'-cmd,-2.000000,settled\n"
    statement = read_statement(data, ColumnMapping(status="bet_state"))
    assert lines(statement) == [(2, "-cmd", D("-2.000000"), "settled")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00rest-of-a-workbook", "Excel workbook (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook (.xls)"),
        (b"%PDF-1.7\n...", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"<!DOCTYPE html><html><table><tr><td>1</td></tr></table>", "HTML or XML page"),
        (b"   \n\n", "The file is empty."),
        (b"just one column\nof text\n", "No table with at least 3 columns"),
    ],
)
def test_non_csv_is_refused_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(StatementError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_statement(data, GUESS)


def test_missing_columns_name_the_columns_found() -> None:
    data = b"ref,sum,result_text\nx,1,ok\n"
    with pytest.raises(StatementError) as error:
        read_statement(data, ColumnMapping(amount="amount"))
    assert "'ref', 'sum', 'result_text'" in str(error.value)
    assert "amount = amount" in str(error.value)


def test_one_column_cannot_be_two_fields() -> None:
    with pytest.raises(StatementError, match="same column"):
        read_statement(
            b"id,amount,status\nx,1,ok\n", ColumnMapping(amount="2", status="2", tx_id="1")
        )


@pytest.mark.parametrize(
    ("raw", "separator", "expected"),
    [
        ("1,234.50", ".", "1234.50"),
        ("1.234,50", ",", "1234.50"),
        ("1 234,50", ",", "1234.50"),
        ("1\u00a0234.50", ".", "1234.50"),
        ("1'234.50", ".", "1234.50"),
        ("(12.50)", ".", "-12.50"),
        ("12.50-", ".", "-12.50"),
        ("+3", ".", "3"),
        ("-0.000001", ".", "-0.000001"),
        (".5", ".", "0.5"),
        ("1,234", ".", "1234"),
    ],
)
def test_amount_formats(raw: str, separator: str, expected: str) -> None:
    assert parse_statement_amount(raw, separator) == D(expected)


@pytest.mark.parametrize(
    ("raw", "separator", "reason"),
    [
        ("12,50", ".", "is the decimal separator ','"),
        ("1.5", ",", "is the decimal separator '.'"),
        ("1,23,456.00", ".", "not a number"),
        ("USD 10", ".", "not a number"),
        ("1e3", ".", "not a number"),
        ("NaN", ".", "not a number"),
        ("", ".", "empty"),
    ],
)
def test_amounts_that_are_refused(raw: str, separator: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_statement_amount(raw, separator)
