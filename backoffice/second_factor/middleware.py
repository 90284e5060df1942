"""A password-only session reaches the sign-in pages and nothing else.

After the right password Django's session is signed in, but the sign-in is not finished while
a code is due (``rules.pending_step``). Every request of such a session, to any page of any
app (the admin, the operator API from the browser), is sent to its step here: admin pages by a
redirect to the code or set-up page, anything else with a 403 in JSON. This runs before URL
resolution and views, so a page added later is covered without doing anything.

The admin site checks the same rule again in ``has_permission`` (``backoffice.admin_site``),
in case this middleware is ever missing. Provider callbacks never come through here: they have
no session (``PROVIDER_MIDDLEWARE``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from backoffice.second_factor.rules import Step, pending_step

SIGN_IN_PAGES = ("admin:second_factor_verify", "admin:second_factor_enrol")


class SecondFactorMiddleware:
    """Install after ``django_otp.middleware.OTPMiddleware`` (which tells who passed a code)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        step = pending_step(request)
        if step is None or _is_sign_in_page(request):
            return self.get_response(request)
        if request.path.startswith(reverse("admin:index")):
            # Nothing the request asked for is done; the page comes back after the code.
            wanted = request.get_full_path() if request.method == "GET" else reverse("admin:index")
            return HttpResponseRedirect(step.url(wanted))
        return JsonResponse({"detail": _unfinished(step)}, status=403)


def _is_sign_in_page(request: HttpRequest) -> bool:
    path = request.path
    if path in (reverse(name) for name in SIGN_IN_PAGES):
        return True
    if path == reverse("admin:second_factor_sign_out"):
        return True
    # Signing in again, as someone else, from the login form.
    return path == reverse("admin:login") and request.method == "POST"


def _unfinished(step: Step) -> str:
    if step is Step.VERIFY:
        return (
            f"Sign-in is not finished: enter the code from your authenticator app at {step.url()}."
        )
    return f"Sign-in is not finished: set up a second factor at {step.url()} first."
