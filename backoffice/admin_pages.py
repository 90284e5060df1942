"""Extra admin pages (dashboard, finance exports, ...) mounted inside the admin site.

Each module listed here exposes ``urls(site) -> list[URLPattern]``; views are wrapped with
``site.admin_view`` by the module itself so that login and staff checks apply.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.urls import URLPattern

if TYPE_CHECKING:
    from django.contrib.admin import AdminSite

PAGE_MODULES: tuple[str, ...] = (
    "backoffice.dashboard",
    "wallet.reconciliation.admin_views",
    "backoffice.second_factor.views",
)


def admin_page_urls(site: AdminSite) -> list[URLPattern]:
    patterns: list[URLPattern] = []
    for dotted in PAGE_MODULES:
        patterns += import_module(dotted).urls(site)
    return patterns
