"""Helpers that data migrations share (kept stable: old migrations import them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions


def ensure_permissions(apps: Any, using: str, labels: tuple[str, ...]) -> None:
    """Create the permissions of these apps now.

    Django creates permissions after all migrations (post_migrate); a migration that puts them in
    groups on a fresh database must create them first.
    """
    for label in labels:
        app_config = apps.get_app_config(label)
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True  # create_permissions skips it when unset
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = previous
