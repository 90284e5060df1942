"""Real-browser tests: Debian's Chromium driven by Playwright against a live test server.

Skipped, with the reason, where no Chromium or no Playwright is installed (CI installs both:
``apt-get install chromium`` and the ``playwright`` Python package, which drives the system
browser; Playwright's own browser download is never used).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM = (
    os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
)

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if sync_playwright is None:
        reason = "playwright is not installed (pip install playwright)"
    elif CHROMIUM is None:
        reason = "no Chromium on this machine (apt-get install chromium)"
    if reason:
        for item in items:
            if "tests/browser" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def browser() -> Iterator[Browser]:
    """One Chromium per test. Playwright's sync API marks its event loop as running for as long
    as it is open; closing it after each test keeps later tests free to use asyncio.run()."""
    # Playwright's sync API runs an event loop; Django must allow ORM calls from the test
    # thread regardless.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
        # ORM calls made while Playwright's loop runs (the test's own data) keep their database
        # connections in asgiref's per-context storage, which Django's close_all() from outside
        # that loop no longer sees: left open, PostgreSQL refused to drop the test database at
        # the end of the run ("being accessed by other users").
        connections.close_all()


@pytest.fixture
def page(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 1000}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def login(page: Page) -> Callable[[str, str], None]:
    """Log in to the admin through its real login form."""

    def _login(username: str, password: str) -> None:
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_load_state()

    return _login


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Path]:
    """Save a full-page screenshot under artifacts/screenshots/ (kept as a test artifact)."""

    def _shot(name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


LAPTOP = {"width": 1366, "height": 768}
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def laptop_page(browser: Browser, live_server: Any) -> Iterator[Page]:
    """A page the size of the laptops support uses (1366x768): what the layout must fit."""
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def log_in(page: Page, username: str, password: str) -> None:
    """Log in through the admin's real login form (the session stays in the page's context)."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    assert "/admin/login/" not in page.url, f"{username} could not log in"


def save_doc_image(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A screenshot for the support guide: into docs/img/ (committed with the docs) when
    ``UPDATE_GUIDE_IMAGES=1``, else beside the other test screenshots, so that an ordinary
    test run leaves the work tree as it found it."""
    folder = DOCS_IMG if os.environ.get("UPDATE_GUIDE_IMAGES") == "1" else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def ensure_all_roles() -> None:
    """The role groups with their card permissions too (a transactional test flushed both)."""
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from tests.admin.conftest import ensure_roles

    ensure_roles()
    cards = import_module("providers.vp.cards.migrations.0002_card_roles")
    cards.forward(apps, SimpleNamespace(connection=connection))
