"""deploy/prometheus/alerts.yml: valid for Prometheus, and every metric it names is one we serve.

A renamed metric would leave its alert silent forever; promtool cannot see that, this can.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from backoffice.metrics_endpoint import registry
from monitoring.metrics import observe_request

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
DOCS = RULES.parents[2] / "docs"
# PromQL words that look like metric names: functions, aggregations, keywords.
PROMQL_WORDS = {"sum", "max", "min", "rate", "by", "and", "or", "time", "without", "on"}
_NAME = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?=\s*(\{|\[|\)|>|<|=|$|\s))")


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def named_metrics(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "{}", expr)
    without_ranges = re.sub(r"\[[^\]]*\]", "[]", without_labels)
    without_groupings = re.sub(r"\b(by|without|on)\s*\([^)]*\)", "", without_ranges)
    names = {m.group(1) for m in _NAME.finditer(without_groupings)}
    return {n for n in names if n not in PROMQL_WORDS and not n.isdigit()}


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is not installed")
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_every_metric_an_alert_names_is_served() -> None:
    observe_request("jdb", "ok", 1000)  # a labelled counter appears once it has counted
    served = {
        sample.name
        for family in text_string_to_metric_families(generate_latest(registry()).decode())
        for sample in family.samples
    }
    for rule in rules():
        names = named_metrics(rule["expr"])
        assert names, rule["alert"]
        assert names <= served, (rule["alert"], names - served)


def test_every_alert_has_a_runbook_that_exists() -> None:
    operations = (DOCS / "operations.md").read_text()
    anchors = {
        "alert-" + line.removeprefix("#### Alert ").strip().lower().split(":")[0]
        for line in operations.splitlines()
        if line.startswith("#### Alert ")
    }
    found = rules()
    assert len(found) >= 8
    for rule in found:
        runbook = rule["annotations"]["runbook"]
        assert runbook.startswith("docs/operations.md#"), rule["alert"]
        assert runbook.split("#")[1].split(":")[0] in anchors, rule["alert"]
