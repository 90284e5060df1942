"""Finance pages inside the admin: transaction export, daily summary, statement diff.

Every page is wrapped by ``site.admin_view`` (anonymous users go to the login page) and then
requires ``wallet.export_reconciliation`` (the Finance role): staff without it get 403. The
pages are UI only: the rows come from ``transactions``, ``summary`` and ``diff``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from wallet.reconciliation.diff import (
    REPORT_COLUMNS,
    Category,
    DiffSummary,
    compare,
    movements_without_tx_id,
    report_chunks,
)
from wallet.reconciliation.forms import DiffForm, ExportForm, FilterForm
from wallet.reconciliation.statement import StatementError, read_statement
from wallet.reconciliation.summary import (
    SUMMARY_COLUMNS,
    daily_summary,
    summary_chunks,
    summary_totals,
)
from wallet.reconciliation.transactions import COLUMNS, export_chunks
from wallet.reconciliation.uploads import (
    FORM_OVERHEAD_BYTES,
    BoundedMemoryUploadHandler,
    statement_max_bytes,
)

PERMISSION = "wallet.export_reconciliation"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
#: Lines of each category shown on the diff page; the CSV report has all of them.
DIFF_SAMPLE_LINES = 200

View = Callable[..., HttpResponseBase]


def urls(site: AdminSite) -> list[URLPattern]:
    def page(view: View) -> View:
        return site.admin_view(_finance_only(functools.partial(view, site=site), view))

    return [
        path("finance/export/", page(export_view), name="finance_export"),
        path("finance/summary/", page(summary_view), name="finance_summary"),
        path("finance/diff/", page(diff_view), name="finance_diff"),
    ]


def _finance_only(view: View, original: View) -> View:
    """403 for staff without the finance permission (Support, for instance)."""

    @functools.wraps(original)  # keeps ``csrf_exempt`` visible to the admin and middleware
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.has_perm(PERMISSION):
            raise PermissionDenied("Finance reconciliation needs the Finance role.")
        return view(request, *args, **kwargs)

    return checked


def _context(site: AdminSite, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**site.each_context(request), "title": title, **extra}


def _attachment(response: HttpResponseBase, stem: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
    response["X-Content-Type-Options"] = "nosniff"


def _last_week() -> dict[str, Any]:
    today = timezone.now().date()
    return {"date_from": today - timedelta(days=6), "date_to": today}


@require_GET
def export_view(request: HttpRequest, *, site: AdminSite) -> HttpResponseBase:
    """The filter form; with ``download`` in the query, the CSV itself, streamed."""
    bound = "download" in request.GET
    form = ExportForm(request.GET if bound else None, initial=_last_week())
    if bound and form.is_valid():
        selection = form.selection()
        response = StreamingHttpResponse(
            export_chunks(selection, bom=form.cleaned_data["bom"]),
            content_type=CSV_CONTENT_TYPE,
        )
        _attachment(response, selection.file_stem("transactions"))
        return response
    context = _context(site, request, "Finance: transaction export", form=form, columns=COLUMNS)
    return render(
        request, "admin/finance/export.html", context, status=400 if form.is_bound else 200
    )


@require_GET
def summary_view(request: HttpRequest, *, site: AdminSite) -> HttpResponseBase:
    """Daily totals per provider and currency, on the page or (``download``) as CSV."""
    bound = bool(request.GET)
    form = FilterForm(request.GET if bound else None, initial=_last_week())
    context = _context(site, request, "Finance: daily summary", form=form, columns=SUMMARY_COLUMNS)
    if not bound:
        return render(request, "admin/finance/summary.html", context)
    if not form.is_valid():
        return render(request, "admin/finance/summary.html", context, status=400)
    selection = form.selection()
    if "download" in request.GET:
        response = HttpResponse(b"".join(summary_chunks(selection)), content_type=CSV_CONTENT_TYPE)
        _attachment(response, selection.file_stem("daily-summary"))
        return response
    rows = daily_summary(selection)
    context.update(rows=rows, totals=summary_totals(rows), selection=selection)
    return render(request, "admin/finance/summary.html", context)


@csrf_exempt  # CSRF is checked below, after the upload limit is in place
@require_http_methods(["GET", "POST"])
def diff_view(request: HttpRequest, *, site: AdminSite) -> HttpResponseBase:
    """Upload a statement, map its columns, get the five-way report (page or CSV)."""
    limit = statement_max_bytes()
    handler: BoundedMemoryUploadHandler | None = None
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > limit + FORM_OVERHEAD_BYTES:
            return _too_large(request, site, limit)
        # Must happen before anything reads request.POST or request.FILES.
        handler = BoundedMemoryUploadHandler(request, limit=limit)
        request.upload_handlers = [handler]
    return _diff_checked(request, site=site, handler=handler, limit=limit)


@csrf_protect
def _diff_checked(
    request: HttpRequest,
    *,
    site: AdminSite,
    handler: BoundedMemoryUploadHandler | None,
    limit: int,
) -> HttpResponseBase:
    if request.method != "POST":
        form = DiffForm(initial=_last_week())
        return _render_diff(request, site, form, limit)
    files = request.FILES  # parses the body through the bounded handler
    if handler is not None and handler.too_large:
        return _too_large(request, site, limit)
    form = DiffForm(request.POST, files)
    if not form.is_valid():
        return _render_diff(request, site, form, limit, status=400)
    upload = form.cleaned_data["statement"]
    try:
        statement = read_statement(
            upload.read(),
            form.mapping(),
            delimiter=form.delimiter_char(),
            decimal_separator=form.cleaned_data["decimal_separator"],
        )
    except StatementError as exc:
        form.add_error("statement", str(exc))
        return _render_diff(request, site, form, limit, status=400)
    selection, options = form.selection(), form.options()
    lines = compare(statement, selection, options)
    if request.POST.get("action") == "download":
        response = StreamingHttpResponse(
            report_chunks(lines, options.sign), content_type=CSV_CONTENT_TYPE
        )
        _attachment(response, selection.file_stem("statement-diff"))
        return response
    report = DiffSummary.collect(
        lines, not_compared=movements_without_tx_id(selection), sample_size=DIFF_SAMPLE_LINES
    )
    return _render_diff(
        request, site, form, limit, report=report, statement=statement, file_name=upload.name
    )


def _render_diff(
    request: HttpRequest,
    site: AdminSite,
    form: DiffForm,
    limit: int,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponseBase:
    report: DiffSummary | None = extra.get("report")
    sections = []
    if report is not None:
        sections = [
            (category, report.counts[category], report.samples[category]) for category in Category
        ]
    context = _context(
        site,
        request,
        "Finance: statement diff",
        form=form,
        columns=REPORT_COLUMNS,
        limit_mb=round(limit / (1024 * 1024), 1),
        sections=sections,
        sample_size=DIFF_SAMPLE_LINES,
        **extra,
    )
    return render(request, "admin/finance/diff.html", context, status=status)


def _too_large(request: HttpRequest, site: AdminSite, limit: int) -> HttpResponseBase:
    message = (
        f"The statement is larger than {limit:,} bytes: nothing was read. Split it by period "
        "and compare each part (FINANCE_STATEMENT_MAX_BYTES sets the limit)."
    )
    form = DiffForm(initial=_last_week())
    return _render_diff(request, site, form, limit, status=413, page_error=message)
