"""Finance files through the API are the admin's files; the schema describes every endpoint."""

from __future__ import annotations

import warnings

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from tests.admin.conftest import open_bet, staff
from tests.helpers import make_player
from tests.operator_api.conftest import call
from wallet.reconciliation.filters import ReconciliationFilter
from wallet.reconciliation.summary import summary_chunks
from wallet.reconciliation.transactions import export_chunks

pytestmark = pytest.mark.django_db


@pytest.fixture
def movements(db):
    make_player("alice", balance="100")
    make_player("=bob", balance="5")  # a formula-like id: neutralised as in the admin's file
    open_bet("rec-1", amount="2.5")
    return timezone.now().date()


def test_csv_is_byte_for_byte_the_finance_export(keys, movements):
    day = movements.isoformat()
    selection = ReconciliationFilter(date_from=movements, date_to=movements)
    expected = b"".join(export_chunks(selection))
    by_format = call(
        "GET", f"/api/v1/reconciliation/transactions/?day={day}&format=csv", key=keys["finance"]
    )
    by_accept = call(
        "GET",
        f"/api/v1/reconciliation/transactions/?day={day}",
        key=keys["finance"],
        Accept="text/csv",
    )
    assert by_format.status == by_accept.status == 200
    assert by_format.content == by_accept.content == expected
    assert by_format.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert b"'=bob" in expected
    no_bom = call(
        "GET",
        f"/api/v1/reconciliation/transactions/?day={day}&format=csv&bom=false",
        key=keys["finance"],
    )
    assert no_bom.content == b"".join(export_chunks(selection, bom=False))


def test_json_pages_carry_the_same_cells(keys, movements, monkeypatch):
    from operator_api.views import reconciliation

    monkeypatch.setattr(reconciliation, "PAGE_ROWS", 2)
    path = f"/api/v1/reconciliation/transactions/?day={movements.isoformat()}"
    rows = []
    page = call("GET", path, key=keys["finance"])
    rows += page.data["results"]
    while page.data["next"]:
        page = call("GET", page.data["next"], key=keys["finance"])
        rows += page.data["results"]
    csv_lines = call("GET", path + "&format=csv&bom=false", key=keys["finance"]).content
    _header, *lines = csv_lines.decode().strip().split("\r\n")
    assert len(rows) == len(lines) == 3
    assert [row["ledger_id"] for row in rows] == [line.split(",")[0] for line in lines]
    assert ",".join(rows[0].values()) == lines[0]


def test_summary_json_and_csv(keys, movements):
    day = movements.isoformat()
    reply = call("GET", f"/api/v1/reconciliation/summary/?day={day}", key=keys["finance"])
    assert reply.status == 200
    by_provider = {row["provider"]: row for row in reply.data["rows"]}
    assert by_provider["buffalo"]["stakes"] == "2.500000"
    assert by_provider[""]["deposits"] == "105.000000"
    csv = call("GET", f"/api/v1/reconciliation/summary/?day={day}&format=csv", key=keys["finance"])
    selection = ReconciliationFilter(date_from=movements, date_to=movements)
    assert csv.content == b"".join(summary_chunks(selection))


def test_finance_errors_are_json_even_when_csv_was_asked(keys):
    reply = call("GET", "/api/v1/reconciliation/transactions/?format=csv", key=keys["finance"])
    assert reply.status == 400
    assert reply.data == {"day": ["This field is required."]}
    refused = call(
        "GET", "/api/v1/reconciliation/summary/?day=2026-01-01&format=csv", key=keys["support"]
    )
    assert refused.status == 403 and "detail" in refused.data


def test_schema_generates_without_warnings_and_names_every_endpoint():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        schema = SchemaGenerator().get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache
    paths = schema["paths"]
    assert all(path.startswith("/api/v1/") for path in paths)
    operations = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert ("POST", "/api/v1/players/{account_id}/deposits/") in operations
    assert ("DELETE", "/api/v1/sessions/{token}/") in operations
    assert ("POST", "/api/v1/operator-cards/{id}/cancel/") in operations
    assert len(operations) == 23
    assert set(schema["components"]["securitySchemes"]) == {"ApiKey", "StaffSession"}
    for path, item in paths.items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code != "204":
                    assert response.get("content"), (method, path, code)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    for money in ("deposits", "adjustments"):
        operation = paths[f"/api/v1/players/{{account_id}}/{money}/"]["post"]
        header = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header and header[0]["required"] is True, money


def test_docs_page_is_served_from_the_package_for_signed_in_staff(db):
    client = Client()
    assert client.get("/api/v1/docs/").status_code == 302  # to the admin's login
    client.force_login(staff("doc_reader", "Read-only"))
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert client.get("/api/v1/schema/").status_code == 200


def test_staff_session_works_with_its_groups_and_csrf_is_enforced(db):
    make_player("alice", balance="10")
    bet = open_bet("s-1", amount="1")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff("sam", "Support"))
    assert client.get(f"/api/v1/bets/{bet.pk}/").status_code == 200
    no_token = client.post(
        f"/api/v1/bets/{bet.pk}/cancel/", {"reason": "x"}, content_type="application/json"
    )
    assert no_token.status_code == 403
    assert "CSRF" in no_token.json()["detail"]
    token = get_random_string(32)  # the CSRF cookie a browser holds, sent back in the header
    client.cookies["csrftoken"] = token
    ok = client.post(
        f"/api/v1/bets/{bet.pk}/cancel/",
        {"reason": "x"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 200, ok.content
    assert client.get("/api/v1/reconciliation/summary/?day=2026-01-01").status_code == 403
