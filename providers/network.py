"""Who is calling: the client address behind our trusted proxies, and provider allowlists."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse "1.2.3.4" and "10.0.0.0/8" entries (settings are validated at first use)."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _in(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_ip(request: HttpRequest, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address.

    ``X-Forwarded-For`` is believed only when the direct peer is one of our trusted proxies,
    and then only up to the first hop that is not ours (read from the right), so a caller
    cannot pick its own address by sending the header itself.
    """
    peer = request.META.get("REMOTE_ADDR", "") or ""
    proxies = parse_networks(trusted_proxies)
    if not proxies or not _in(peer, proxies):
        return peer
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _in(hop, proxies):
            # Our proxies append real addresses; anything else was written by the caller, so
            # the caller is unknown ("" passes no allowlist and is journaled as no address).
            return hop if _is_address(hop) else ""
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def from_trusted_proxy(peer: str, trusted_proxies: tuple[str, ...]) -> bool:
    """Whether the direct peer is one of our proxies (an empty list trusts nobody)."""
    proxies = parse_networks(trusted_proxies)
    return bool(proxies) and _in(peer, proxies)


def ip_allowed(address: str, allowlist: tuple[str, ...]) -> bool:
    """An empty allowlist admits everyone (the provider file says so)."""
    networks = parse_networks(allowlist)
    return not networks or _in(address, networks)
