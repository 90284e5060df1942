"""NAGA_PUBLIC_KEY in its accepted shapes, the two signature forms, and the request builder
used by the tests, ``provider_call`` and the load harness."""

from __future__ import annotations

import base64
import json
import shlex
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from providers import demo_keys
from providers.client_base import SignedRequest, builder_for
from providers.naga.client import build_request, sign
from providers.naga.crypto import (
    IntegrityFailure,
    NagaKeyError,
    SignatureForm,
    check_data_hash,
    check_signature,
    data_hash,
    load_public_key,
)
from providers.wire import loads_object
from tests.providers.naga.conftest import Naga, journal, private_pem, public_pem, session_data

DATA = {"betId": "82a8f9f5-adcf-710f-4a24-5f41d9d59d70"}


# --- the public key setting -----------------------------------------------------------------


def test_public_key_as_pem_text_as_a_path_and_with_escaped_newlines(
    naga_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    pem = public_pem(naga_key)
    path = tmp_path / "naga.pem"
    path.write_text(pem)
    numbers = naga_key.public_key().public_numbers()
    for setting in (pem, str(path), pem.replace("\n", "\\n")):
        assert load_public_key(setting).public_numbers() == numbers


def test_public_key_in_pkcs1_form(naga_key: rsa.RSAPrivateKey) -> None:
    pkcs1 = naga_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    assert load_public_key(pkcs1.decode()).key_size == 2048


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("", "is not set"),
        ("/nonexistent/naga.pem", "cannot read the key file"),
        ("-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----\n", "not a PEM public"),
    ],
)
def test_unusable_public_key_settings(setting: str, problem: str) -> None:
    with pytest.raises(NagaKeyError, match=problem):
        load_public_key(setting)


def test_non_rsa_and_short_keys_are_refused() -> None:
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(NagaKeyError, match="not an RSA key"):
        load_public_key(ec_pem.decode())
    short = rsa.RSAPublicNumbers(65537, (1 << 511) | 1).public_key()
    short_pem = short.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(NagaKeyError, match="512 bits"):
        load_public_key(short_pem.decode())


def test_a_1024_bit_key_like_nagas_example_is_accepted(stranger_key: rsa.RSAPrivateKey) -> None:
    public = load_public_key(public_pem(stranger_key))
    digest = data_hash(DATA)
    signature = sign(digest.encode(), stranger_key)
    assert len(base64.b64decode(signature)) == 128  # as in Naga's example
    assert check_signature(public, signature, digest) == SignatureForm.DATA_HASH


# --- hash and signature checks --------------------------------------------------------------


def test_hash_is_compared_case_insensitively_but_must_be_64_hex() -> None:
    digest = data_hash(DATA)
    assert check_data_hash(DATA, digest.upper()) == digest
    for bad in (digest[:-1], digest + "0", "g" * 64, None, 1):
        with pytest.raises(IntegrityFailure):
            check_data_hash(DATA, bad)


def test_both_signature_forms_verify(naga_key: rsa.RSAPrivateKey) -> None:
    public = naga_key.public_key()
    digest = data_hash(DATA)
    over_hash = sign(digest.encode(), naga_key)
    over_json = sign(b'{"betId":"82a8f9f5-adcf-710f-4a24-5f41d9d59d70"}', naga_key)
    assert check_signature(public, over_hash, digest) == SignatureForm.DATA_HASH
    assert check_signature(public, over_json, digest) == SignatureForm.DATA_JSON
    with pytest.raises(IntegrityFailure):  # a signature over the raw 32-byte digest is neither
        check_signature(public, sign(bytes.fromhex(digest), naga_key), digest)


# --- the request builder ----------------------------------------------------------------------


def test_build_request_is_what_naga_sends(naga_key: rsa.RSAPrivateKey) -> None:
    data = loads_object('{"betId":"b1","amount":10.50,"parentBetId":null}')
    signed = build_request(data, function="place-bet", private_key=naga_key)
    assert signed.path == "/providers/naga/place-bet/"
    assert signed.content_type == "application/json"
    digest = data_hash(data)
    assert signed.body == (
        b'{"data":{"betId":"b1","amount":10.5,"parentBetId":null},"dataHash":"'
        + digest.encode()
        + b'"}'
    )
    assert check_signature(naga_key.public_key(), signed.headers["X-Signature"], digest) == (
        SignatureForm.DATA_HASH
    )


def test_build_request_needs_a_function_and_a_key(settings: Any) -> None:
    with pytest.raises(ValueError, match="one URL per function"):
        build_request(DATA)
    settings.NAGA_CLIENT_PRIVATE_KEY = ""
    settings.DEMO_KEYS = False
    with pytest.raises(ImproperlyConfigured, match="no key to sign"):
        build_request(DATA, function="bet-status")


def test_demo_keys_sign_with_the_published_demo_key(settings: Any) -> None:
    settings.NAGA_CLIENT_PRIVATE_KEY = ""
    settings.DEMO_KEYS = True
    signed = build_request(DATA, function="bet-status")
    demo_public = load_public_key(demo_keys.NAGA_PUBLIC_KEY_PATH)
    form = check_signature(demo_public, signed.headers["X-Signature"], data_hash(DATA))
    assert form == SignatureForm.DATA_HASH


@pytest.mark.django_db
def test_the_shared_builder_signs_with_the_client_setting(naga: Naga, alice_token: str) -> None:
    """``builder_for("naga")`` (provider_call, load harness) needs no key argument."""
    signed = builder_for("naga")(session_data(alice_token), function="authorize")
    sent = naga.post(signed)
    assert sent.status == 200 and sent.json["data"]["nativeId"] == "alice"


def test_client_private_key_setting_may_be_a_path(
    naga_key: rsa.RSAPrivateKey, settings: Any, tmp_path: Path
) -> None:
    path = tmp_path / "client.pem"
    path.write_text(private_pem(naga_key))
    settings.NAGA_CLIENT_PRIVATE_KEY = str(path)
    signed = build_request(DATA, function="bet-status")
    public = naga_key.public_key()
    assert check_signature(public, signed.headers["X-Signature"], data_hash(DATA))


@pytest.mark.django_db
def test_provider_call_prints_a_curl_line_that_works(naga: Naga, alice_token: str) -> None:
    out = StringIO()
    payload = json.dumps(session_data(alice_token))
    call_command("provider_call", "naga", payload, "--function", "authorize", "--curl", stdout=out)
    parts = shlex.split(out.getvalue())
    assert parts[:5] == [
        "curl",
        "-sS",
        "-X",
        "POST",
        "http://127.0.0.1:8000/providers/naga/authorize/",
    ]
    headers = dict(parts[i + 1].split(": ", 1) for i, part in enumerate(parts) if part == "-H")
    assert headers["Content-Type"] == "application/json"
    body = parts[parts.index("--data-binary") + 1]
    sent = naga.post(
        SignedRequest(
            path="/providers/naga/authorize/",
            body=body.encode(),
            headers={"X-Signature": headers["X-Signature"]},
        )
    )
    assert sent.status == 200
    assert journal().signature_form == "dataHash"
