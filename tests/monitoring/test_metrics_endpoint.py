"""``/metrics`` in one process: who may read it, and the figures read at scrape time."""

from __future__ import annotations

import io
import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from backoffice.serve import prepare_metrics_directory
from monitoring.logs import JsonFormatter, log_request
from monitoring.metrics import count_money_moved, observe_request
from wallet.selectors import StuckReason

pytestmark = pytest.mark.django_db


def samples(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}"] = sample.value
    return found


def test_nobody_may_scrape_without_an_address_or_token(client: Client, settings: Any) -> None:
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_an_allowed_network_may_scrape_and_others_may_not(client: Client, settings: Any) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="11.1.2.3").status_code == 404
    # A forwarded address is the caller's to write: never believed here.
    refused = client.get("/metrics", REMOTE_ADDR="11.1.2.3", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert refused.status_code == 404


def test_the_bearer_token_opens_it(client: Client, settings: Any) -> None:
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "scrape-secret-123"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123").status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-12").status_code == 404
    assert client.post("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-123").status_code == 405


def test_scrape_shows_requests_stuck_bets_cards_and_the_ledger_check(
    client: Client, settings: Any
) -> None:
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    before = samples(client.get("/metrics").content.decode())
    assert before["ledger_check_last_run_timestamp_seconds{}"] == 0
    assert before["ledger_check_last_ok{}"] == 0
    assert before["vp_card_cancels_pending{}"] == 0
    assert before["wallet_oldest_stuck_bet_age_seconds{}"] == 0
    stuck = [key for key in before if key.startswith("wallet_stuck_bets{")]
    assert len(stuck) == 4 * len(StuckReason)  # every provider and reason, zero or not

    observe_request("jdb", "auth_failed", 1500)
    call_command("check_ledger", stdout=io.StringIO())
    after = samples(client.get("/metrics").content.decode())
    key = "provider_requests_total{outcome=auth_failed,provider=jdb}"
    assert after[key] == before.get(key, 0) + 1
    bucket = "provider_request_duration_seconds_bucket{le=0.005,provider=jdb}"
    assert after[bucket] >= before.get(bucket, 0) + 1
    assert after["ledger_check_last_ok{}"] == 1
    assert after["ledger_check_last_run_timestamp_seconds{}"] > 0


def test_server_start_clears_the_multiprocess_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counter_41.db").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert prepare_metrics_directory() == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    made = prepare_metrics_directory()
    assert made.is_dir() and list(made.iterdir()) == []
    made.rmdir()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(made)


def test_a_request_line_in_json(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="providers.requests")
    log_request(
        request_id="r-1",
        provider="jdb",
        action="cancel",
        bet_key="b-9",
        outcome="ok",
        latency_us=2500,
    )
    (record,) = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "r-1" and line["bet_key"] == "b-9"
    assert line["latency_ms"] == 2.5 and line["level"] == "INFO" and "time" in line


@pytest.mark.django_db(transaction=True)
def test_money_is_counted_only_when_its_transaction_commits() -> None:
    key = ("refund", "XTS")

    def counted() -> float:
        value = REGISTRY.get_sample_value(
            "wallet_money_moved_total", dict(zip(("kind", "currency"), key, strict=True))
        )
        return value or 0.0

    start = counted()
    with pytest.raises(RuntimeError), transaction.atomic():
        count_money_moved("refund", "XTS", Decimal("-2.50"))
        raise RuntimeError("rolled back")
    assert counted() == start
    with transaction.atomic():
        count_money_moved("refund", "XTS", Decimal("-2.50"))
        assert counted() == start  # not before the commit
    assert counted() == start + 2.5
