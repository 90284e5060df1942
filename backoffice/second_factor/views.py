"""The sign-in pages of the second factor, inside the admin's layout.

``verify`` (type a code) and ``enrol`` (set up an authenticator app) serve password-only
sessions, so they are not wrapped in ``site.admin_view``, which lets only finished sign-ins
through; each checks its own visitor. ``reset`` is an ordinary admin page, for superusers.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth import get_user_model, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backoffice.second_factor.forms import CodeForm, ResetForm
from backoffice.second_factor.rules import Step, has_second_factor, pending_step
from backoffice.second_factor.services import (
    RECOVERY_CODE_COUNT,
    Outcome,
    confirm_enrolment,
    devices_of,
    enrolment_device,
    recovery_codes_left,
    reset_second_factor,
    secret_text,
    sign_in_with_code,
)

WRONG_CODE = (
    "That code is not right. The app's code changes every 30 seconds: type the one it shows "
    "now, or one of your recovery codes."
)

View = Callable[..., HttpResponse]


def urls(site: AdminSite) -> list[URLPattern]:
    def page(view: View) -> View:
        return functools.partial(view, site=site)

    return [
        path("second-factor/", page(verify_view), name="second_factor_verify"),
        path("second-factor/set-up/", page(enrol_view), name="second_factor_enrol"),
        path("second-factor/sign-out/", sign_out_view, name="second_factor_sign_out"),
        path(
            "second-factor/reset/<int:user_id>/",
            site.admin_view(page(reset_view)),
            name="second_factor_reset",
        ),
    ]


def _next_url(request: HttpRequest) -> str:
    """Where to go once signed in: the page first asked for, if it is one of ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("admin:index")


def _signed_in_staff_or_login(request: HttpRequest) -> HttpResponse | None:
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("The back office is for staff accounts only.")
    return None


def _page(
    request: HttpRequest, site: AdminSite, template: str, title: str, **extra: Any
) -> TemplateResponse:
    context = {**site.each_context(request), "title": title, **extra}
    return TemplateResponse(request, f"admin/second_factor/{template}", context)


@never_cache
@sensitive_post_parameters("code")
def verify_view(request: HttpRequest, *, site: AdminSite) -> HttpResponse:
    """Second step of signing in: a code from the authenticator app, or a recovery code."""
    if (answer := _signed_in_staff_or_login(request)) is not None:
        return answer
    next_url = _next_url(request)
    step = pending_step(request)
    if step is None:
        return HttpResponseRedirect(next_url)
    if step is Step.ENROL:
        return HttpResponseRedirect(Step.ENROL.url(next_url))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = sign_in_with_code(request, form.cleaned_data["code"])
        if result.outcome is Outcome.SIGNED_IN:
            if isinstance(result.device, StaticDevice):
                messages.warning(request, _recovery_code_used_message(request))
            return HttpResponseRedirect(next_url)
        if result.outcome is Outcome.LOCKED_OUT:
            return _page(
                request,
                site,
                "locked.html",
                "Too many wrong codes",
                lockout_minutes=settings.ADMIN_LOGIN_LOCKOUT_MINUTES,
            )
        form.add_error("code", WRONG_CODE)
    return _page(request, site, "verify.html", "Enter your code", form=form, next_url=next_url)


def _recovery_code_used_message(request: HttpRequest) -> str:
    left = recovery_codes_left(request.user)
    return (
        f"You signed in with a recovery code; it cannot be used again. {left} left. If your "
        "phone is lost, ask a superuser to reset your second factor, then set up the new phone."
    )


@never_cache
@sensitive_post_parameters("code")
def enrol_view(request: HttpRequest, *, site: AdminSite) -> HttpResponse:
    """Set up an authenticator app (or, once set up, what the user has)."""
    if (answer := _signed_in_staff_or_login(request)) is not None:
        return answer
    user = request.user
    next_url = _next_url(request)
    if has_second_factor(user):
        if pending_step(request) is Step.VERIFY:
            return HttpResponseRedirect(Step.VERIFY.url(next_url))
        return _status_page(request, site)
    device = enrolment_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = confirm_enrolment(request, device, form.cleaned_data["code"])
        if codes is not None:
            # Shown once, in the answer to this POST: no page shows them again (django-otp
            # keeps them in its table only to check them).
            return _page(
                request,
                site,
                "recovery_codes.html",
                "Your recovery codes",
                codes=codes,
                next_url=next_url,
            )
        form.add_error("code", WRONG_CODE)
    return _page(
        request,
        site,
        "enrol.html",
        "Set up your second factor",
        form=form,
        next_url=next_url,
        secret=secret_text(device),
        qr_code=_qr_data_uri(device.config_url),
        required=pending_step(request) is Step.ENROL,
    )


def _qr_data_uri(text: str) -> str:
    out = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).save(out)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _status_page(request: HttpRequest, site: AdminSite) -> HttpResponse:
    app = TOTPDevice.objects.filter(user=request.user, confirmed=True).order_by("pk").first()
    return _page(
        request,
        site,
        "status.html",
        "Your second factor",
        app=app,
        codes_left=recovery_codes_left(request.user),
        codes_total=RECOVERY_CODE_COUNT,
    )


@require_POST
def sign_out_view(request: HttpRequest) -> HttpResponse:
    """Sign out from a sign-in page (the admin's own log-out is for finished sign-ins)."""
    logout(request)
    return HttpResponseRedirect(reverse("admin:login"))


@sensitive_post_parameters()
def reset_view(request: HttpRequest, user_id: int, *, site: AdminSite) -> HttpResponse:
    """A superuser removes a staff member's devices, with a reason kept in the audit."""
    if not request.user.is_superuser:
        raise PermissionDenied("Only a superuser can reset a staff member's second factor.")
    staff = get_object_or_404(get_user_model(), pk=user_id)
    devices = devices_of(staff)
    form = ResetForm(request.POST or None)
    if request.method == "POST" and devices and form.is_valid():
        reset_second_factor(
            actor=request.user, staff=staff, reason=form.cleaned_data["reason"], request=request
        )
        messages.success(
            request,
            f"The second factor of {staff.get_username()} was reset. Their next sign-in asks "
            "them to set up an authenticator app again. The sign-in audit records it.",
        )
        return HttpResponseRedirect(reverse("admin:auth_user_change", args=[staff.pk]))
    return _page(
        request,
        site,
        "reset.html",
        f"Reset the second factor of {staff.get_username()}",
        staff=staff,
        devices=devices,
        form=form,
    )
