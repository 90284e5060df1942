"""The journal's own app (issue 23): its layer, the migration that moved it, the old admin URL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from journal.models import JournalEntry

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = {"backoffice", "wallet", "providers", "operator_api", "monitoring", "bench", "journal"}


def imported_apps(package: str) -> set[str]:
    """The top-level packages of ours that a package's modules import (lazy imports too)."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
    return found & OUR_APPS


#: Each app and what it may import, lowest first (docs/architecture.md): nothing imports up.
LAYERS = {
    "monitoring": {"monitoring"},
    "journal": {"journal", "monitoring"},
    "wallet": {"wallet", "journal", "monitoring"},
    "providers": {"providers", "wallet", "journal", "monitoring"},
    "operator_api": {"operator_api", "providers", "wallet", "journal", "monitoring"},
    # The tools drive the whole project (its WSGI application), from above it.
    "bench": {"bench", "backoffice", "operator_api", "providers", "wallet", "journal"}
    | {"monitoring"},
}


@pytest.mark.parametrize("app", LAYERS)
def test_no_app_imports_one_above_it(app: str) -> None:
    assert imported_apps(app) <= LAYERS[app]


@pytest.mark.django_db
def test_the_content_type_moved_with_the_permissions_groups_hold() -> None:
    assert not ContentType.objects.filter(app_label="providers", model="journalentry").exists()
    view = Permission.objects.get(content_type__app_label="journal", codename="view_journalentry")
    for role in ("Read-only", "Support", "Finance", "Approver"):
        assert Group.objects.get(name=role).permissions.filter(pk=view.pk).exists(), role


@pytest.mark.django_db
def test_a_read_only_member_reads_the_journal_at_its_new_and_old_address() -> None:
    JournalEntry.objects.create(provider="jdb", action="bet", request_id="r-1", bet_key="7")
    user = get_user_model().objects.create_user("reader", "", "pw-reader-123456", is_staff=True)
    user.groups.add(Group.objects.get(name="Read-only"))
    client = Client()
    client.force_login(user)
    assert client.get("/admin/journal/journalentry/").status_code == 200
    old = client.get("/admin/providers/journalentry/?provider=jdb&bet_key=7")
    assert old.status_code == 302
    assert old["Location"] == "/admin/journal/journalentry/?provider=jdb&bet_key=7"
    entry = JournalEntry.objects.get()
    old_detail = client.get(f"/admin/providers/journalentry/{entry.pk}/change/", follow=True)
    assert old_detail.status_code == 200
    assert old_detail.redirect_chain[-1][0] == f"/admin/journal/journalentry/{entry.pk}/change/"


MOVED = ("providers", "0004_journal_moves_to_its_app")
BEFORE = ("providers", "0003_drop_redundant_indexes")


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_rows_and_the_permission_rows_themselves() -> None:
    """Unapply the move, write a row and a staff permission under the old label, apply it again."""
    executor = MigrationExecutor(connection)
    # Back to where these two apps were, not every app's newest migration.
    leaves = [n for n in executor.loader.graph.leaf_nodes() if n[0] in ("journal", "providers")]
    try:
        executor.migrate([BEFORE, ("journal", None)])
        ContentType.objects.clear_cache()
        old = Permission.objects.get(
            content_type__app_label="providers", codename="view_journalentry"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO providers_journalentry (created_at, direction, provider, action, "
                "path, request_id, headers, body_bytes, http_status, latency_us, outcome, error, "
                "bet_key, account_id, is_cancel, signature_form) VALUES (CURRENT_TIMESTAMP, 'in', "
                "'vp', 'bet', '', 'kept-1', '{}', 0, 200, 0, '', '', 'b-1', '', false, '')"
            )
        user = get_user_model().objects.create_user("holder", "", "pw-holder-123456")
        user.user_permissions.add(old)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
        ContentType.objects.clear_cache()
    assert JournalEntry.objects.get(request_id="kept-1").bet_key == "b-1"
    moved = Permission.objects.get(pk=old.pk)
    assert moved.content_type.app_label == "journal"
    assert get_user_model().objects.get(username="holder").has_perm("journal.view_journalentry")
