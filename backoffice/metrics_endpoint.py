"""``GET /metrics``: Prometheus's text format, for the monitoring network only.

Providers reach the same app server, so the endpoint answers only a caller whose address is in
``METRICS_ALLOWED_IPS`` (the direct peer, never a forwarded header) or who sends
``Authorization: Bearer <METRICS_TOKEN>``; anyone else gets a plain 404, as for a path that
does not exist. With neither setting, nobody can scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from backoffice.metrics_service import ServiceCollector


def scrape_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        sent = request.META.get("HTTP_AUTHORIZATION", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    peer = request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    allowed = settings.METRICS_ALLOWED_IPS
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)


def registry() -> CollectorRegistry:
    """Every worker's request metrics (multiprocess files) or this process's, and the
    service-wide figures read now."""
    scraped = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(scraped)
    else:
        scraped.register(_ProcessMetrics())
    scraped.register(ServiceCollector())
    return scraped


class _ProcessMetrics(Collector):
    """The default registry's metrics (this process's), inside a scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        raise Http404("no such page")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
