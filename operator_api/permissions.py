"""One rule for both doors: an API caller needs the same Django permission as the admin page
that does the same thing (the key's role is a staff group)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Permission
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from operator_api.models import ApiRole


class ActionPermissions(BasePermission):
    """Requires every permission the view lists for the request's method in
    ``view.required_permissions`` (``{"GET": ("wallet.view_bet",), ...}``).

    A refusal names what is missing and the role that has it.
    """

    message = "You do not have permission to do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        needed: tuple[str, ...] = view.required_permissions.get(request.method, ())
        missing = [perm for perm in needed if not user.has_perm(perm)]
        if missing:
            self.message = _refusal(missing)
            return False
        return True


def _refusal(missing: list[str]) -> str:
    app_label, _, codename = missing[0].partition(".")
    permission = (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .values_list("name", flat=True)
        .first()
    )
    roles = roles_with(missing[0])
    who = f" Roles that may: {', '.join(roles)}." if roles else ""
    return f"This needs the permission '{permission or missing[0]}'.{who}"


def roles_with(permission: str) -> list[str]:
    """The roles (group names) whose group holds ``permission``."""
    app_label, _, codename = permission.partition(".")
    names = set(
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .values_list("group__name", flat=True)
        .exclude(group__name=None)
    )
    return [role.label for role in ApiRole if role.group_name in names]
