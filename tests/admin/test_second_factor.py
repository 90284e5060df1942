"""The second factor through the admin's pages: set-up, sign-in with a code or a recovery code,
wrong codes counted by the login lockout, the audited reset, and the setting's two modes."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.second_factor.models import SignInEvent
from tests.admin.conftest import PASSWORD, staff
from tests.second_factor_kit import (
    RECOVERY_CODES,
    Authenticator,
    give_second_factor,
    hotp,
    password_only,
    signed_in,
)
from wallet.models import StaffLoginFailure

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/"
VERIFY = reverse("admin:second_factor_verify")
SET_UP = reverse("admin:second_factor_enrol")


@pytest.fixture
def required(settings: Any) -> None:
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def sam() -> Any:
    return staff("sam_support", "Support")


def kinds(user: Any) -> list[str]:
    return list(
        SignInEvent.objects.filter(staff=user).order_by("id").values_list("kind", flat=True)
    )


def test_the_kit_computes_rfc_6238_codes() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits).
    assert hotp(b"12345678901234567890", 59 // 30, digits=8) == "94287082"


def test_a_login_without_a_second_factor_is_sent_to_set_one_up(required, sam) -> None:
    client = password_only("sam_support")
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"] == f"{SET_UP}?next=%2Fadmin%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Signing in to the back office needs a second factor" in page.content.decode()
    assert not TOTPDevice.objects.filter(user=sam, confirmed=True).exists()


def test_setting_up_shows_the_key_confirms_with_a_code_and_shows_recovery_codes_once(
    required, sam
) -> None:
    client = password_only("sam_support")
    page = client.get(f"{SET_UP}?next=/admin/wallet/bet/")
    phone = Authenticator(page.context["secret"])
    assert page.context["qr_code"].startswith("data:image/svg+xml;base64,")
    # Reloading keeps the same key (the app may already hold it).
    assert client.get(SET_UP).context["secret"] == page.context["secret"]

    wrong = client.post(SET_UP, {"code": phone.wrong_code(), "next": "/admin/wallet/bet/"})
    assert "That code is not right" in wrong.content.decode()
    assert client.get(DASHBOARD).status_code == 302  # still not signed in
    # Recorded, but not a failed login: the key is on the user's screen, nothing to guess.
    assert kinds(sam) == [SignInEvent.Kind.CODE_REFUSED]
    assert not StaffLoginFailure.objects.exists()

    done = client.post(SET_UP, {"code": phone.code(), "next": "/admin/wallet/bet/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert 'href="/admin/wallet/bet/"' in done.content.decode()
    assert kinds(sam) == [SignInEvent.Kind.CODE_REFUSED, SignInEvent.Kind.ENROLLED]
    assert client.get(DASHBOARD).status_code == 200

    # The set-up page now shows what the user has, never the codes or the key again.
    status = client.get(SET_UP).content.decode()
    assert "Recovery codes left" in status and "10 of 10" in status
    assert not any(code in status for code in codes)
    assert page.context["secret"] not in status


def test_signing_in_again_needs_the_password_then_a_code(required, sam) -> None:
    phone = give_second_factor(sam)
    client = password_only("sam_support")
    response = client.get("/admin/wallet/bet/?q=x")
    assert response["Location"] == f"{VERIFY}?next=%2Fadmin%2Fwallet%2Fbet%2F%3Fq%3Dx"
    session_before = client.session.session_key
    signed = client.post(VERIFY, {"code": phone.code(), "next": "/admin/wallet/bet/?q=x"})
    assert signed.status_code == 302 and signed["Location"] == "/admin/wallet/bet/?q=x"
    assert client.get(DASHBOARD).status_code == 200
    assert client.session.session_key != session_before  # a new key once fully signed in


def test_a_code_is_accepted_once(required, sam) -> None:
    phone = give_second_factor(sam)
    code = phone.code()
    assert password_only("sam_support").post(VERIFY, {"code": code}).status_code == 302
    replay = password_only("sam_support").post(VERIFY, {"code": code})
    assert replay.status_code == 200 and "That code is not right" in replay.content.decode()


def test_a_login_with_a_second_factor_is_asked_for_it_even_with_the_setting_off(sam) -> None:
    phone = give_second_factor(sam)
    client = password_only("sam_support")
    assert client.get(DASHBOARD)["Location"].startswith(VERIFY)
    client.post(VERIFY, {"code": phone.code()})
    assert client.get(DASHBOARD).status_code == 200


def test_with_the_setting_off_the_password_is_enough_and_set_up_is_offered(sam) -> None:
    client = password_only("sam_support")
    dashboard = client.get(DASHBOARD)
    assert dashboard.status_code == 200
    assert "Set up a second factor" in dashboard.content.decode()
    page = client.get(SET_UP)
    assert "Not now" in page.content.decode()
    phone = Authenticator(page.context["secret"])
    assert client.post(SET_UP, {"code": phone.code()}).status_code == 200
    assert "Set up a second factor" not in client.get(DASHBOARD).content.decode()


def test_a_wrong_code_is_refused_recorded_and_counted_as_a_failed_login(required, sam) -> None:
    phone = give_second_factor(sam)
    client = password_only("sam_support")
    refused = client.post(VERIFY, {"code": phone.wrong_code()}, REMOTE_ADDR="10.1.2.3")
    assert refused.status_code == 200
    assert "That code is not right" in refused.content.decode()
    assert client.get(DASHBOARD).status_code == 302
    failure = StaffLoginFailure.objects.get()
    assert (failure.username, failure.client_ip) == ("sam_support", "10.1.2.3")
    event = SignInEvent.objects.get(staff=sam)
    assert (event.kind, event.actor, event.client_ip) == ("code_refused", sam, "10.1.2.3")


def test_wrong_codes_lock_the_login_and_the_right_password_does_not_clear_them(
    required, sam, settings
) -> None:
    settings.ADMIN_LOGIN_MAX_FAILURES = 3
    phone = give_second_factor(sam)
    for _ in range(2):  # a fresh password each time: the count of wrong codes stays
        password_only("sam_support").post(VERIFY, {"code": phone.wrong_code()})
    client = password_only("sam_support")
    locked = client.post(VERIFY, {"code": phone.wrong_code()})
    assert "Too many failed sign-ins" in locked.content.decode()
    assert client.get(DASHBOARD)["Location"].startswith(reverse("admin:login"))  # signed out
    # Now even the right password is refused, like any locked login.
    again = Client().post(reverse("admin:login"), {"username": "sam_support", "password": PASSWORD})
    assert "Too many failed logins" in again.content.decode()
    assert StaffLoginFailure.objects.filter(username="sam_support").count() == 3


def test_the_right_code_clears_the_failures(required, sam) -> None:
    phone = give_second_factor(sam)
    client = password_only("sam_support")
    client.post(VERIFY, {"code": phone.wrong_code()})
    client.post(VERIFY, {"code": phone.code()})
    assert not StaffLoginFailure.objects.exists()


def test_a_recovery_code_signs_in_once_and_is_recorded(required, sam) -> None:
    give_second_factor(sam)
    client = password_only("sam_support")
    response = client.post(VERIFY, {"code": RECOVERY_CODES[0].upper()}, follow=True)
    assert response.status_code == 200
    assert "You signed in with a recovery code" in response.content.decode()
    assert "2 left" in response.content.decode()
    event = SignInEvent.objects.get(staff=sam, kind=SignInEvent.Kind.RECOVERY_CODE_USED)
    assert event.reason == "2 recovery codes left."
    assert StaticToken.objects.filter(device__user=sam).count() == 2

    second = password_only("sam_support").post(VERIFY, {"code": RECOVERY_CODES[0]})
    assert "That code is not right" in second.content.decode()


def test_the_next_address_must_be_ours(required, sam) -> None:
    phone = give_second_factor(sam)
    client = password_only("sam_support")
    answer = client.post(VERIFY, {"code": phone.code(), "next": "https://evil.example/"})
    assert answer["Location"] == DASHBOARD


def test_signing_out_from_the_code_page(required, sam) -> None:
    give_second_factor(sam)
    client = password_only("sam_support")
    answer = client.post(reverse("admin:second_factor_sign_out"))
    assert answer["Location"] == reverse("admin:login")
    assert "_auth_user_id" not in client.session


# --- the reset -------------------------------------------------------------------------------


def test_a_superuser_resets_a_second_factor_with_a_reason(required, sam) -> None:
    boss = staff("boss", superuser=True)
    boss_phone = give_second_factor(boss)
    sam_phone = give_second_factor(sam)
    sams_session = signed_in("sam_support", sam_phone)
    assert sams_session.get(DASHBOARD).status_code == 200

    bosses = signed_in("boss", boss_phone)
    users = bosses.get(reverse("admin:auth_user_changelist"))
    assert users.status_code == 200 and "second factor" in users.content.decode().lower()
    user_page = bosses.get(reverse("admin:auth_user_change", args=[sam.pk])).content.decode()
    assert "Authenticator app set up" in user_page and 'id="second-factor-reset"' in user_page
    reset_url = reverse("admin:second_factor_reset", args=[sam.pk])
    assert "Authenticator app" in bosses.get(reset_url).content.decode()
    no_reason = bosses.post(reset_url, {"reason": ""})
    assert no_reason.status_code == 200 and TOTPDevice.objects.filter(user=sam).exists()

    done = bosses.post(reset_url, {"reason": "Lost phone, ticket SEC-120"})
    assert done["Location"] == reverse("admin:auth_user_change", args=[sam.pk])
    assert not TOTPDevice.objects.filter(user=sam).exists()
    assert not StaticDevice.objects.filter(user=sam).exists()
    event = SignInEvent.objects.get(kind=SignInEvent.Kind.RESET)
    assert (event.staff, event.actor, event.reason) == (sam, boss, "Lost phone, ticket SEC-120")
    # Sam's session that passed a code with the old app has lost it: set up a new one first.
    assert sams_session.get(DASHBOARD)["Location"].startswith(SET_UP)


def test_only_a_superuser_may_reset(required, sam) -> None:
    other = staff("rae_readonly", "Read-only")
    give_second_factor(sam)
    client = signed_in("rae_readonly", give_second_factor(other))
    answer = client.get(reverse("admin:second_factor_reset", args=[sam.pk]))
    assert answer.status_code == 403
    assert "Only a superuser can reset" in answer.content.decode()
    assert TOTPDevice.objects.filter(user=sam).exists()


# --- the audit --------------------------------------------------------------------------------


def test_sign_in_events_are_read_only_in_the_admin_and_in_the_code(required, sam) -> None:
    boss = staff("boss", superuser=True)
    client = signed_in("boss", give_second_factor(boss))
    give_second_factor(sam)
    password_only("sam_support").post(VERIFY, {"code": "000000x"})
    event = SignInEvent.objects.get(staff=sam)
    changelist = client.get(reverse("admin:second_factor_signinevent_changelist"))
    assert changelist.status_code == 200 and "Wrong code" in changelist.content.decode()
    change = reverse("admin:second_factor_signinevent_change", args=[event.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"reason": "edited"}).status_code == 403
    assert client.get(reverse("admin:second_factor_signinevent_add")).status_code == 403
    delete = reverse("admin:second_factor_signinevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    event.reason = "edited"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_django_otps_own_device_pages_are_not_in_the_admin() -> None:
    # They show every secret and change devices without a reason or an audit entry.
    assert not admin.site.is_registered(TOTPDevice)
    assert not admin.site.is_registered(StaticDevice)


# --- the setting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"DEBUG": "false"}, "True"),
        ({"DEBUG": "true"}, "False"),
        ({"DEBUG": "true", "STAFF_2FA_REQUIRED": "true"}, "True"),
        ({"DEBUG": "false", "STAFF_2FA_REQUIRED": "false"}, "False"),
    ],
)
def test_the_setting_is_on_unless_debug(environment: dict[str, str], expected: str) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SECRET_KEY": "x" * 50,
        "LEDGER_CHAIN_KEY": "k" * 64,
        "DJANGO_SETTINGS_MODULE": "backoffice.settings",
        **environment,
    }
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from backoffice import settings; print(settings.STAFF_2FA_REQUIRED)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert shown.stdout.strip() == expected
