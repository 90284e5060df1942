"""Provider allowlists behind HAProxy: the app server's peer is HAProxy (127.0.0.10, in
``TRUSTED_PROXIES``), the provider's address comes from the ``X-Forwarded-For`` HAProxy
appends, and a provider cannot choose its address by sending the header itself.

The real HAProxy with the cluster's configuration (``deploy/cluster/haproxy.cfg``) in front of
the real app server; providers call from loopback addresses of their own (127.0.0.2, .3).
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bench.cluster.balancer import SOURCE_ADDRESS, HAProxy
from bench.cluster.processes import free_port
from journal.models import JournalEntry
from providers import demo_keys
from providers.client_base import SignedRequest
from tests.app_server import AppServer, server_environment
from tests.cluster.conftest import require_programs
from tests.helpers import ON_POSTGRES, balance
from tests.reliability.conftest import gambler
from tests.reliability.flows import Answer, Flows, read_answer

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="the app server runs on PostgreSQL here"),
    pytest.mark.django_db(transaction=True),
]

PROVIDERS = ("jdb", "vp", "naga", "buffalo")
SUCCESS = {"jdb": "0000", "vp": "0000", "naga": "200", "buffalo": "OK"}
ALLOWED, OTHER = "127.0.0.2", "127.0.0.3"


@pytest.fixture(scope="module")
def balanced(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None
) -> Iterator[tuple[HAProxy, AppServer]]:
    require_programs("haproxy")
    home = Path(tmp_path_factory.mktemp("balanced"))
    environment = server_environment() | {"TRUSTED_PROXIES": SOURCE_ADDRESS}
    environment |= {f"{p.upper()}_ALLOWED_IPS": ALLOWED for p in PROVIDERS}
    server = AppServer(environment, home / "server.log", workers=1, threads=2).start()
    proxy = HAProxy(free_port(), home / "haproxy", [server.port])
    try:
        proxy.configure()
        proxy.start()
        yield proxy, server
    finally:
        proxy.stop()
        server.stop()


@pytest.fixture(autouse=True)
def _demo_naga_key(settings: Any) -> None:
    # The server verifies with the demo public key (server_environment): sign with its pair.
    settings.NAGA_CLIENT_PRIVATE_KEY = demo_keys.NAGA_PRIVATE_KEY_PATH


def bet(provider: str) -> SignedRequest:
    who = gambler("alice", "USD", "100")
    flow = "jdb9" if provider == "jdb" else provider
    return Flows().open(flow, who, "2901", Decimal("10"), Decimal("4")).signed()


def send(
    port: int, provider: str, request: SignedRequest, *, source: str, forwarded_for: str = ""
) -> Answer:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=15, source_address=(source, 0)
    )
    try:
        headers = {"Content-Type": request.content_type, **request.headers}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        connection.request("POST", request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return read_answer(provider, response.status, raw, response.getheader("Content-Type", ""))
    finally:
        connection.close()


def journaled() -> JournalEntry:
    row = JournalEntry.objects.order_by("-id").first()
    assert row is not None
    return row


@pytest.mark.parametrize("provider", PROVIDERS)
def test_an_allowed_provider_behind_haproxy_is_seen_at_its_own_address(
    balanced: tuple[HAProxy, AppServer], provider: str
) -> None:
    proxy, _ = balanced

    answer = send(proxy.port, provider, bet(provider), source=ALLOWED)

    assert answer.code == SUCCESS[provider], answer.body
    assert journaled().client_ip == ALLOWED
    assert balance() < Decimal("100")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_another_address_behind_haproxy_is_refused(
    balanced: tuple[HAProxy, AppServer], provider: str
) -> None:
    proxy, _ = balanced

    answer = send(proxy.port, provider, bet(provider), source=OTHER)

    assert answer.code != SUCCESS[provider], answer.body
    assert (journaled().client_ip, journaled().outcome) == (OTHER, "forbidden_ip")
    assert balance() == Decimal("100")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_forwarded_for_does_not_pass_haproxy(
    balanced: tuple[HAProxy, AppServer], provider: str
) -> None:
    proxy, _ = balanced

    answer = send(proxy.port, provider, bet(provider), source=OTHER, forwarded_for=ALLOWED)

    assert answer.code != SUCCESS[provider], answer.body
    assert (journaled().client_ip, journaled().outcome) == (OTHER, "forbidden_ip")
    assert balance() == Decimal("100")


def test_a_forged_forwarded_for_straight_to_the_app_server_is_ignored(
    balanced: tuple[HAProxy, AppServer],
) -> None:
    """Past the balancer the peer is not a trusted proxy: its header counts for nothing."""
    _, server = balanced

    answer = send(server.port, "jdb", bet("jdb"), source=OTHER, forwarded_for=ALLOWED)

    assert answer.code != SUCCESS["jdb"], answer.body
    assert (journaled().client_ip, journaled().outcome) == (OTHER, "forbidden_ip")


def test_haproxy_health_checks_the_app_server(balanced: tuple[HAProxy, AppServer]) -> None:
    proxy, _ = balanced
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        connection.request("GET", "/health/", headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b'{"status": "ok"}')
    finally:
        connection.close()
