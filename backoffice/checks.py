"""Deployment checks (``manage.py check --deploy``): provider secrets present and usable, the
ledger chain's key, and staff sign-in with a second factor; with ``--database default``, the
wallet's lock bound and the chain key on the database session.

Each provider reads its settings at call time, so a missing or malformed one shows only when
that provider calls, as a refusal or a "try again" on every request. These checks say so
before the first call: errors for settings that cannot work, warnings for settings that leave
a provider (or the allowlists) unable to serve.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DEFAULT_DB_ALIAS, connections

from wallet.chain import KEY_PROBE, KEY_SETTING, chain_key, key_probe

_BUFFALO_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,40}")
_CURRENCY_ENTRY = re.compile(r"\s*[^:,\s]+\s*:\s*[A-Z]{3}\s*")

#: The settings without which each provider refuses (or cannot answer) every callback.
REQUIRED: dict[str, tuple[str, ...]] = {
    "JDB": ("JDB_AES_KEY", "JDB_AES_IV"),
    "VP": ("VP_AGENT_ID", "VP_API_KEY"),
    "Naga": ("NAGA_PUBLIC_KEY", "NAGA_GROUP_CODE", "NAGA_BRAND_CODE"),
    "Buffalo": ("BUFFALO_AUTH_TOKEN",),
}
ADDRESS_LISTS = (
    "TRUSTED_PROXIES",
    "JDB_ALLOWED_IPS",
    "VP_ALLOWED_IPS",
    "NAGA_ALLOWED_IPS",
    "BUFFALO_ALLOWED_IPS",
)
POLICIES = ("JDB_CANCEL_SETTLED", "VP_ROLLBACK_SETTLED")


def _setting(name: str) -> Any:
    return getattr(settings, name, "") or ""


@register(Tags.security, deploy=True)
def provider_secrets(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.DEMO_KEYS:
        messages.append(
            Error(
                "DEMO_KEYS is on: providers accept the published demo keys.",
                hint="Set DEMO_KEYS=false and every provider secret in the environment.",
                id="backoffice.E001",
            )
        )
    for name, length in (("JDB_AES_KEY", 16), ("JDB_AES_IV", 16)):
        value = _setting(name)
        if value and len(value.encode()) != length:
            messages.append(Error(f"{name} must be {length} bytes.", id="backoffice.E002"))
    vp_key = _setting("VP_API_KEY")
    if vp_key:
        try:
            ok = len(bytes.fromhex(vp_key)) == 32
        except ValueError:
            ok = False
        if not ok:
            messages.append(
                Error("VP_API_KEY must be 64 hexadecimal characters.", id="backoffice.E003")
            )
    messages += _naga_key()
    messages += _shapes()
    messages += _address_lists()
    messages += _missing()
    if not settings.TRUSTED_PROXIES:
        messages.append(
            Warning(
                "TRUSTED_PROXIES is empty: behind a load balancer every caller would appear "
                "as the balancer, and provider IP allowlists could not work.",
                hint="Set TRUSTED_PROXIES to the load balancers' addresses (or 127.0.0.1 "
                "when nginx runs on the same host).",
                id="backoffice.W001",
            )
        )
    base_url = str(_setting("VP_BASE_URL"))
    if base_url and not base_url.lower().startswith("https://"):
        messages.append(
            Warning(
                "VP_BASE_URL is not https: the bearer token of every operator-card call "
                "would cross the network in clear.",
                id="backoffice.W003",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def staff_sign_in(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Off is for the demo: in production every staff sign-in needs its second factor."""
    if getattr(settings, "STAFF_2FA_REQUIRED", True):
        return []
    return [
        Warning(
            "STAFF_2FA_REQUIRED is off: staff who have not set up a second factor sign in to "
            "the back office, money actions included, with a password alone.",
            hint="Unset STAFF_2FA_REQUIRED (on unless DEBUG) or set it to true.",
            id="backoffice.W004",
        )
    ]


@register(Tags.database)
def lock_bound(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``manage.py check --database default`` (and ``migrate``): every lock wait of the wallet is
    bounded by WALLET_LOCK_TIMEOUT_MS. Directly connected, the connection sets it; behind a
    transaction pooler (DATABASE_TRANSACTION_POOLER) only the database role can."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'lock_timeout'")
        row = cursor.fetchone()
    found = int(row[0]) if row else 0
    wanted = settings.WALLET_LOCK_TIMEOUT_MS
    if found == wanted:
        return []
    return [
        Error(
            f"lock_timeout is {found} ms on the database connection, not WALLET_LOCK_TIMEOUT_MS "
            f"({wanted} ms): a wallet waiting on a lock would not answer in time.",
            hint=(
                "Behind PgBouncer in transaction mode: ALTER ROLE <app role> IN DATABASE "
                f"<database> SET lock_timeout = '{wanted}ms'."
            ),
            id="backoffice.E010",
        )
    ]


def _naga_key() -> list[CheckMessage]:
    """NAGA_PUBLIC_KEY must load (PEM text or a readable file, RSA of at least 1024 bits)."""
    if not _setting("NAGA_PUBLIC_KEY"):
        return []
    from providers.naga.crypto import NagaKeyError, load_public_key

    try:
        load_public_key(str(_setting("NAGA_PUBLIC_KEY")))
    except NagaKeyError as exc:  # the message names the problem, never the key
        return [Error(f"NAGA_PUBLIC_KEY cannot be used: {exc}", id="backoffice.E004")]
    return []


def _shapes() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    token = str(_setting("BUFFALO_AUTH_TOKEN"))
    if token and not _BUFFALO_TOKEN.fullmatch(token):
        messages.append(
            Error(
                "BUFFALO_AUTH_TOKEN must be 1 to 40 characters of A-Z, a-z, 0-9, _ and -.",
                id="backoffice.E005",
            )
        )
    for name in ("NAGA_GROUP_CODE", "NAGA_BRAND_CODE"):
        code = str(_setting(name))
        if code and len(code) != 4:
            messages.append(Error(f"{name} must be 4 characters.", id="backoffice.E006"))
    for name in POLICIES:
        value = str(getattr(settings, name, "keep") or "keep").strip().lower()
        if value not in ("keep", "reverse"):
            messages.append(
                Error(f"{name} must be 'keep' or 'reverse', not {value!r}.", id="backoffice.E008")
            )
    currency_map = str(_setting("JDB_CURRENCY_MAP"))
    entries = [e for e in currency_map.split(",") if e.strip()]
    if any(not _CURRENCY_ENTRY.fullmatch(entry) for entry in entries):
        messages.append(
            Error(
                "JDB_CURRENCY_MAP must be JDBCODE:ISO pairs separated by commas (RB:CNY,RM:MYR).",
                id="backoffice.E009",
            )
        )
    return messages


def _address_lists() -> list[CheckMessage]:
    """Every allowlist and TRUSTED_PROXIES entry must be an address or a network.

    A bad entry would otherwise fail every request of that provider (or, for TRUSTED_PROXIES,
    every provider) when the list is first read.
    """
    messages: list[CheckMessage] = []
    for name in ADDRESS_LISTS:
        bad = [entry for entry in _entries(getattr(settings, name, ())) if not _network(entry)]
        if bad:
            messages.append(
                Error(
                    f"{name} holds entries that are not addresses or networks: "
                    f"{', '.join(repr(b) for b in bad[:5])}.",
                    id="backoffice.E007",
                )
            )
    return messages


def _entries(value: Iterable[str] | str) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or ())
    return [str(item).strip() for item in items if str(item).strip()]


def _network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


def _missing() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for provider, names in REQUIRED.items():
        missing = [name for name in names if not _setting(name)]
        if missing:
            messages.append(
                Warning(
                    f"{provider} is not configured ({', '.join(missing)} not set): it will "
                    "refuse, or ask to retry, every callback.",
                    hint="Set them in the environment; leave them unset only for a provider "
                    "this installation does not serve.",
                    id="backoffice.W002",
                )
            )
    return messages


#: Shorter keys are guessable: an HMAC key should be as long as the hash (32 bytes).
LEDGER_CHAIN_KEY_MIN_LENGTH = 32


@register(Tags.security, deploy=True)
def ledger_chain_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The key of the ledger's and the audit's hash chains (docs/ledger-chain.md)."""
    if len(str(_setting("LEDGER_CHAIN_KEY"))) >= LEDGER_CHAIN_KEY_MIN_LENGTH:
        return []
    return [
        Error(
            f"LEDGER_CHAIN_KEY is shorter than {LEDGER_CHAIN_KEY_MIN_LENGTH} characters: whoever "
            "guesses it can rewrite the ledger and its chain unnoticed.",
            hint="python3 -c 'import secrets; print(secrets.token_hex(32))'",
            id="backoffice.E011",
        )
    ]


@register(Tags.database)
def ledger_chain_session(
    app_configs: Any = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``manage.py check --database default``: the database session holds the app's chain key
    (directly connected the app sets it; behind a transaction pooler the pooler's
    ``connect_query`` must). Compared by a keyed fingerprint: the key never comes back."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(convert_to(current_setting(%s, true) || %s, 'UTF8')), 'hex')",
            [KEY_SETTING, KEY_PROBE],
        )
        row = cursor.fetchone()
    found = row[0] if row else None
    if found == key_probe(chain_key()):
        return []
    hint = (
        "Behind PgBouncer in transaction mode: connect_query in its [databases] entry "
        "(docs/ledger-chain.md)."
    )
    if found is None:
        problem = "the database session has no ledger chain key: every money movement fails"
    else:
        problem = "the database session's ledger chain key is not LEDGER_CHAIN_KEY"
    return [Error(f"{problem}.", hint=hint, id="backoffice.E012")]
