"""Naga fixtures: an RSA key pair made for the test session, players with naga sessions, and a
``naga`` driver that signs requests with real signatures and posts them over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from journal.models import JournalEntry
from providers.client_base import SignedRequest
from providers.naga.client import build_request
from providers.naga.crypto import SignatureForm
from tests.helpers import make_player
from tests.providers.conftest import Sent
from wallet.models import LedgerEntry
from wallet.services import session_create

GROUP = "TGRP"  # tests/conftest.py TEST_PROVIDER_SETTINGS
BRAND = "TBRD"
GAME = "NG-fortune"


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def naga_key() -> rsa.RSAPrivateKey:
    """Plays Naga's private key; its public half is our NAGA_PUBLIC_KEY in these tests."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    """A key that is not Naga's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


@pytest.fixture(autouse=True)
def _naga_keys(settings: Any, naga_key: rsa.RSAPrivateKey) -> Iterator[None]:
    settings.NAGA_PUBLIC_KEY = public_pem(naga_key)
    # The client-side setting lets builder_for("naga") sign without an explicit key.
    settings.NAGA_CLIENT_PRIVATE_KEY = private_pem(naga_key)
    yield


def place_bet_data(
    token: str,
    bet_id: str = "11111111-2222-3333-4444-555555555555",
    amount: str | Decimal = "10",
    *,
    tx: str | None = None,
    currency: str = "USD",
    parent: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """place-bet / payout ``data`` in Naga's hashing order."""
    data: dict[str, Any] = {
        "betId": bet_id,
        "currency": currency,
        "gameCode": GAME,
        "playerToken": token,
        "groupCode": GROUP,
        "transactionId": tx or f"tx-{bet_id}",
        "amount": Decimal(amount),
        "parentBetId": parent,
        "brandCode": BRAND,
    }
    data.update(extra)
    return data


def session_data(token: str) -> dict[str, Any]:
    return {"playerToken": token, "gameCode": GAME, "brandCode": BRAND, "groupCode": GROUP}


@dataclass
class Naga:
    """Signs like Naga (with the test key unless told otherwise) and posts over HTTP."""

    send: Callable[..., Sent]
    key: rsa.RSAPrivateKey

    def request(
        self,
        function: str,
        data: dict[str, Any],
        *,
        key: rsa.RSAPrivateKey | None = None,
        form: SignatureForm = SignatureForm.DATA_HASH,
    ) -> SignedRequest:
        return build_request(
            data, function=function, private_key=key or self.key, signature_form=form
        )

    def call(self, function: str, data: dict[str, Any], **kw: Any) -> Sent:
        return self.send(self.request(function, data, **kw))

    def post(self, signed: SignedRequest) -> Sent:
        return self.send(signed)


@pytest.fixture
def naga(send: Callable[..., Sent], naga_key: rsa.RSAPrivateKey) -> Naga:
    return Naga(send=send, key=naga_key)


@pytest.fixture
def alice_token(db: None) -> str:
    make_player("alice", "USD", "100")
    return session_create(account_id="alice", provider="naga").token


@pytest.fixture
def bob_token(db: None) -> str:
    make_player("bob", "USD", "50")
    return session_create(account_id="bob", provider="naga").token


def assert_error(sent: Sent, status: int, message: str) -> None:
    assert sent.status == status, sent
    assert sent.json == {"data": None, "error": {"statusCode": status, "message": message}}, sent


def assert_no_money_moved() -> None:
    """Only the opening deposits exist: no stake, win or refund row anywhere."""
    assert not LedgerEntry.objects.exclude(kind="deposit").exists()


def journal() -> JournalEntry:
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry is not None, "no journal row was written"
    return entry
