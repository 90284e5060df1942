"""The staff member's phone, for the second factor's tests: an authenticator app written here
from RFC 6238 (not django-otp's code, so that the tests check the server against the standard),
and ways to reach each state of a sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from typing import Any

from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.admin.conftest import PASSWORD

STEP_SECONDS = 30
RECOVERY_CODES = [f"rcvcode{n}" for n in range(1, 4)]


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    """RFC 4226: HMAC-SHA1 of the counter, dynamically truncated."""
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def key_of(secret_text: str) -> bytes:
    """The key behind the base32 secret a set-up page shows (spaces and case do not matter)."""
    secret = secret_text.replace(" ", "").upper()
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


class Authenticator:
    """An authenticator app holding one secret. Each code it gives is for a later time step
    than the one before, as a server refuses the same code twice; it gives the next step's code
    early (servers accept one step ahead) and waits only beyond that."""

    def __init__(self, secret_text: str) -> None:
        self.key = key_of(secret_text)
        self.last_step = -1

    def code(self) -> str:
        step = max(int(time.time()) // STEP_SECONDS, self.last_step + 1)
        while step > int(time.time()) // STEP_SECONDS + 1:
            time.sleep(0.5)
        self.last_step = step
        return hotp(self.key, step)

    def wrong_code(self) -> str:
        """A code no step near now has (checked, not assumed)."""
        now = int(time.time()) // STEP_SECONDS
        near = {hotp(self.key, s) for s in range(now - 2, now + 3)}
        candidate = int(hotp(self.key, now))
        while f"{candidate:06d}" in near:
            candidate = (candidate + 1) % 10**6
        return f"{candidate:06d}"


def give_second_factor(user: Any) -> Authenticator:
    """A confirmed authenticator app and three known recovery codes, as if set up already."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    for code in RECOVERY_CODES:
        StaticToken.objects.create(device=recovery, token=code)
    return Authenticator(base64.b32encode(device.bin_key).decode())


def password_only(username: str, password: str = PASSWORD) -> Client:
    """A browser session after the right password and before any code."""
    client = Client()
    response = client.post(
        reverse("admin:login") + "?next=/admin/", {"username": username, "password": password}
    )
    assert response.status_code == 302, "the password was refused"
    return client


def signed_in(username: str, phone: Authenticator) -> Client:
    """A session that finished signing in: password, then a code from the app."""
    client = password_only(username)
    response = client.post(reverse("admin:second_factor_verify"), {"code": phone.code()})
    assert response.status_code == 302, response.content.decode()[:2000]
    return client
