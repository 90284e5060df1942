"""Cursor pagination: stable pages over tables that grow while they are read."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Newest rows first, by id (ids only grow); ``?page_size=`` up to 500."""

    ordering: str | tuple[str, ...] = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class BetsNewestFirst(NewestFirst):
    """Bets by when they arrived (the support indexes are on ``created_at``)."""

    ordering = ("-created_at", "-id")
