"""Fixtures for the reliability suite: Naga's test key pair, players known to every provider,
and a sender that posts a ``Call`` through the whole Django request path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from providers.client_base import SignedRequest
from tests.helpers import make_player
from tests.reliability.flows import Answer, Call, Gambler, read_answer
from wallet.services import session_create


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="session")
def naga_key() -> rsa.RSAPrivateKey:
    """Plays Naga's private key; its public half is our NAGA_PUBLIC_KEY here."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def _naga_keys(settings: Any, naga_key: rsa.RSAPrivateKey) -> Iterator[None]:
    settings.NAGA_PUBLIC_KEY = public_pem(naga_key)
    settings.NAGA_CLIENT_PRIVATE_KEY = private_pem(naga_key)
    yield


def gambler(account_id: str, currency: str, opening: str) -> Gambler:
    """A player with a wallet, a Naga playerToken and a Buffalo sid."""
    make_player(account_id, currency, opening)
    return Gambler(
        account_id=account_id,
        currency=currency,
        naga_token=session_create(account_id=account_id, provider="naga").token,
        buffalo_sid=session_create(account_id=account_id, provider="buffalo").token,
    )


def post_signed(
    client: Client,
    provider: str,
    signed: SignedRequest,
    *,
    remote_addr: str = "127.0.0.1",
    **extra: Any,
) -> Answer:
    response = client.generic(
        "POST",
        signed.path,
        signed.body,
        content_type=signed.content_type,
        headers=signed.headers,
        REMOTE_ADDR=remote_addr,
        **extra,
    )
    return read_answer(
        provider, response.status_code, response.content, response.get("Content-Type", "")
    )


@pytest.fixture
def post(client: Client) -> Callable[[Call], Answer]:
    """Send a call (encrypted/signed now, like the provider) through Django's test client."""

    def _post(call: Call) -> Answer:
        return post_signed(client, call.provider, call.signed())

    return _post


D = Decimal
