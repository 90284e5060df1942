"""Operator API fixtures: a key per role, and a caller that speaks JSON with a key."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from operator_api.keys import create_api_key
from operator_api.models import ApiRole

ROLES = [role.value for role in ApiRole]


@dataclass
class Reply:
    status: int
    data: Any
    headers: Any
    content: bytes


def call(
    method: str,
    path: str,
    *,
    key: str | None = None,
    body: Any = None,
    idempotency_key: str | None = None,
    raw: bytes | None = None,
    client: Client | None = None,
    **headers: str,
) -> Reply:
    """One request to the API as a machine client would send it."""
    client = client or Client()
    if key is not None:
        headers["Authorization"] = f"Api-Key {key}"
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    kwargs: dict[str, Any] = {"headers": headers}
    if data is not None:
        kwargs.update(data=data, content_type="application/json")
    response = getattr(client, method.lower())(path, **kwargs)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = None
    return Reply(response.status_code, parsed, response.headers, content)


def ensure_api_roles() -> None:
    """Re-create the role groups if a transactional test flushed the migrations' rows."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.db import connection

    from tests.admin.conftest import ensure_roles

    ensure_roles()
    if not Group.objects.filter(name="Platform").exists():
        migration = import_module("operator_api.migrations.0002_platform_role")
        migration.forward(apps, SimpleNamespace(connection=connection))


@pytest.fixture
def keys(db: Any) -> dict[str, str]:
    """A live key for each role, by role name."""
    ensure_api_roles()
    return {role: create_api_key(name=f"test {role}", role=ApiRole(role))[1] for role in ROLES}


@pytest.fixture
def api() -> Callable[..., Reply]:
    return call
