"""Making and revoking API keys. A key acts as a service user named after the client, in the
staff group of its role; the secret is shown once and only its hash is stored."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from operator_api.models import ApiRole, OperatorApiKey

SERVICE_USER_PREFIX = "api-"


class KeyRequestError(ValueError):
    """The key cannot be made as asked; the message says why."""


def service_username(name: str) -> str:
    slug = slugify(name)[:100]
    if not slug:
        raise KeyRequestError(f"The name {name!r} has no letters or digits to name its user.")
    return SERVICE_USER_PREFIX + slug


def create_api_key(
    *, name: str, role: ApiRole, expires_days: int | None = None
) -> tuple[OperatorApiKey, str]:
    """A new key for the client ``name``: (the stored key, the secret to hand over once).

    Every key of one client acts as the same service user (so audit rows stay comparable
    across a key rotation); a client keeps the role it was first given.
    """
    if expires_days is not None and expires_days < 1:
        raise KeyRequestError("--expires-days must be at least 1.")
    username = service_username(name)
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": False, "is_active": True}
        )
        if created:
            user.set_unusable_password()  # it can never sign in to the admin
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role.group_name))
        else:
            current = OperatorApiKey.objects.filter(owner=user).values_list("role", flat=True)
            other = {ApiRole(value) for value in current} - {role}
            if other or user.is_staff:
                held = ", ".join(sorted(other)) or "staff"
                raise KeyRequestError(
                    f"{username} already acts with another role ({held}); choose another name "
                    "for a key with this role."
                )
        expiry = timezone.now() + timedelta(days=expires_days) if expires_days else None
        key, secret = OperatorApiKey.objects.create_key(
            name=name[:50], role=role, owner=user, expiry_date=expiry
        )
        return cast(OperatorApiKey, key), secret


def revoke_api_key(key: OperatorApiKey) -> None:
    """Revoke for good: the next request with it is refused (401)."""
    if not key.revoked:
        key.revoked = True
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked", "revoked_at"])
