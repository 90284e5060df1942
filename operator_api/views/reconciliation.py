"""Finance reconciliation for machines: the admin's transaction export (the same CSV, streamed,
or JSON pages) and the daily summary."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from operator_api.base import OperatorApiView
from operator_api.renderers import CsvRenderer
from operator_api.serializers import DayQuery
from wallet.reconciliation.filters import DateBasis, ReconciliationFilter
from wallet.reconciliation.summary import (
    SUMMARY_HEADER,
    daily_summary,
    summary_cells,
    summary_chunks,
    summary_totals,
)
from wallet.reconciliation.transactions import HEADER, export_chunks, format_row, movement_rows

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
PAGE_ROWS = 1000


class _FinanceView(OperatorApiView):
    required_permissions = {"GET": ("wallet.export_reconciliation",)}
    renderer_classes = [JSONRenderer, CsvRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON even when the file was asked for as CSV.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)  # type: ignore[no-any-return]

    def selection(self, request: Request) -> tuple[ReconciliationFilter, dict[str, Any]]:
        query = DayQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        selection = ReconciliationFilter(
            provider=wanted.get("provider", ""),
            currency=wanted.get("currency", ""),
            date_from=wanted["day"],
            date_to=wanted["day"],
            basis=DateBasis(wanted["basis"]),
        )
        return selection, wanted

    def wants_csv(self, request: Request) -> bool:
        return isinstance(request.accepted_renderer, CsvRenderer)

    def csv(self, chunks: Any, stem: str) -> StreamingHttpResponse:
        response = StreamingHttpResponse(chunks, content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response


class TransactionsPage(serializers.Serializer):  # type: ignore[type-arg]
    next = serializers.CharField(allow_null=True)
    columns = serializers.ListField(child=serializers.CharField())
    results = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class TransactionsView(_FinanceView):
    serializer_class = TransactionsPage

    @extend_schema(
        parameters=[
            DayQuery,
            OpenApiParameter("after", int, description="JSON pages: the last ledger id seen."),
        ],
        responses={
            (200, "application/json"): TransactionsPage,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The finance export's CSV."
            ),
            400: None,
        },
        summary="One UTC day's movements: the finance export as CSV, or JSON pages",
    )
    def get(self, request: Request) -> HttpResponseBase:
        selection, wanted = self.selection(request)
        if self.wants_csv(request):
            chunks = export_chunks(selection, bom=wanted["bom"])
            return self.csv(chunks, selection.file_stem("transactions"))
        after = _after(request)
        rows = list(movement_rows(selection).filter(id__gt=after)[: PAGE_ROWS + 1])
        more = len(rows) > PAGE_ROWS
        rows = rows[:PAGE_ROWS]
        results = [
            dict(zip(HEADER, format_row(row, selection.basis.value), strict=True)) for row in rows
        ]
        following = None
        if more:
            following = request.build_absolute_uri(_with_query(request, after=str(rows[-1][0])))
        return Response({"next": following, "columns": list(HEADER), "results": results})


def _after(request: Request) -> int:
    raw = request.query_params.get("after", "0")
    if not raw.isdigit():
        raise serializers.ValidationError({"after": ["A ledger id: digits only."]})
    return int(raw)


def _with_query(request: Request, **changes: str) -> str:
    query = request.query_params.copy()
    for name, value in changes.items():
        query[name] = value
    return f"{request.path}?{query.urlencode()}"


class SummaryOut(serializers.Serializer):  # type: ignore[type-arg]
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    totals = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class SummaryView(_FinanceView):
    serializer_class = SummaryOut

    @extend_schema(
        parameters=[DayQuery],
        responses={
            (200, "application/json"): SummaryOut,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The daily summary's CSV."
            ),
            400: None,
        },
        summary="One UTC day's totals per provider and currency",
    )
    def get(self, request: Request) -> HttpResponseBase:
        selection, wanted = self.selection(request)
        if self.wants_csv(request):
            chunks = summary_chunks(selection, bom=wanted["bom"])
            return self.csv(chunks, selection.file_stem("daily-summary"))
        basis = selection.basis.value
        rows = daily_summary(selection)
        return Response(
            {
                "columns": list(SUMMARY_HEADER),
                "rows": [
                    dict(zip(SUMMARY_HEADER, summary_cells(r, basis), strict=True)) for r in rows
                ],
                "totals": [
                    dict(zip(SUMMARY_HEADER, summary_cells(r, basis), strict=True))
                    for r in summary_totals(rows)
                ],
            }
        )
