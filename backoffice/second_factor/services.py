"""What happens to a staff member's second factor: setting it up, signing in with it, resetting
it. Each function records its ``SignInEvent``; the views only show forms and results.

Devices are django-otp's: a ``TOTPDevice`` (the authenticator app's shared secret) and a
``StaticDevice`` holding the recovery codes, each code deleted as it is used.
"""

from __future__ import annotations

import base64
import enum
from dataclasses import dataclass
from typing import Any

import django_otp
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.login_throttle import clear_failures, client_address, is_locked_out, record_failure
from backoffice.second_factor.models import SignInEvent

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
_SEPARATORS = str.maketrans("", "", " -")


def record(
    kind: SignInEvent.Kind,
    *,
    staff: Any,
    request: HttpRequest | None,
    actor: Any = None,
    reason: str = "",
) -> SignInEvent:
    return SignInEvent.objects.create(
        kind=kind,
        staff=staff,
        actor=actor or staff,
        reason=reason,
        client_ip=client_address(request),
    )


def normalise_code(typed: str) -> str:
    """Codes are read off a phone or a sheet of paper: spaces, dashes and capitals are noise."""
    return (typed or "").translate(_SEPARATORS).lower()


def _verified(request: HttpRequest, device: Device) -> None:
    """Mark the session as past its second factor, under a new session key: the key a
    password-only session had is not the key of the fully signed-in one."""
    django_otp.login(request, device)
    request.session.cycle_key()


# --- setting up -----------------------------------------------------------------------------


def enrolment_device(user: Any) -> TOTPDevice:
    """The authenticator-app device being set up, created unconfirmed on the first visit so
    that the secret shown stays the same when the page is reloaded."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed (base32), in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, typed: str) -> list[str] | None:
    """Confirm the app with one of its codes: the device counts from now on, new recovery codes
    replace any old ones, and the session is past its second factor. The recovery codes, or
    None when the code was wrong.

    A wrong code here is recorded but not counted toward the lockout: the secret is on the
    user's screen, so there is nothing to guess.
    """
    user = request.user
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
        if device.confirmed:  # the same form sent twice: the first one set it up
            return None
        if not device.verify_token(normalise_code(typed)):
            record(
                SignInEvent.Kind.CODE_REFUSED,
                staff=user,
                request=request,
                reason="While setting up the authenticator app.",
            )
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _new_recovery_codes(user)
        record(SignInEvent.Kind.ENROLLED, staff=user, request=request)
    _verified(request, device)
    clear_failures(user.get_username())
    return codes


def _new_recovery_codes(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- signing in -----------------------------------------------------------------------------


class Outcome(enum.Enum):
    SIGNED_IN = "signed in"
    REFUSED = "refused"
    LOCKED_OUT = "locked out"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    device: Device | None = None


def _matching_device(user: Any, code: str) -> Device | None:
    """The user's device that accepts the code. Six digits are an app's code; anything else
    can only be a recovery code (a recovery code is used up by the match)."""
    model: type[Device] = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user).select_for_update():  # type: ignore[attr-defined]
            if device.verify_token(code):
                return device
    return None


def sign_in_with_code(request: HttpRequest, typed: str) -> SignIn:
    """The second step of a sign-in. A wrong code is a failed login for the lockout
    (``backoffice.login_throttle``); once locked out, the session is signed out."""
    user = request.user
    username = user.get_username()
    if is_locked_out(username, request):
        logout(request)
        return SignIn(Outcome.LOCKED_OUT)
    device = _matching_device(user, normalise_code(typed))
    if device is None:
        record_failure(username, request)
        record(SignInEvent.Kind.CODE_REFUSED, staff=user, request=request, reason="At sign-in.")
        if is_locked_out(username, request):
            logout(request)
            return SignIn(Outcome.LOCKED_OUT)
        return SignIn(Outcome.REFUSED)
    _verified(request, device)
    clear_failures(username)
    if isinstance(device, StaticDevice):
        left = recovery_codes_left(user)
        record(
            SignInEvent.Kind.RECOVERY_CODE_USED,
            staff=user,
            request=request,
            reason=f"{left} recovery code{'' if left == 1 else 's'} left.",
        )
    return SignIn(Outcome.SIGNED_IN, device)


# --- resetting ------------------------------------------------------------------------------


def devices_of(user: Any) -> list[Device]:
    """Every device of the user, confirmed or being set up."""
    return [
        *TOTPDevice.objects.filter(user=user).order_by("pk"),
        *StaticDevice.objects.filter(user=user).order_by("pk"),
    ]


def reset_second_factor(*, actor: Any, staff: Any, reason: str, request: HttpRequest) -> int:
    """A superuser removes every device of a staff member (a lost phone, a leaked secret):
    their sessions that passed a code fall back to password-only, and their next sign-in sets
    up a new app. How many devices were removed."""
    if not actor.is_superuser:
        raise PermissionDenied("Only a superuser can reset a second factor.")
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            removed += model.objects.filter(user=staff).count()
            model.objects.filter(user=staff).delete()
        record(SignInEvent.Kind.RESET, staff=staff, actor=actor, request=request, reason=reason)
    return removed
