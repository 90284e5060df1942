"""The provider request journal, read-only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from journal.models import JournalEntry
from operator_api.base import OperatorApiView
from operator_api.pagination import NewestFirst
from operator_api.serializers import JournalEntryOut, JournalQuery
from wallet.models import Bet


class JournalListView(OperatorApiView):
    required_permissions = {"GET": ("journal.view_journalentry",)}
    serializer_class = JournalEntryOut
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[JournalQuery],
        responses={200: JournalEntryOut(many=True), 400: None},
        summary="Provider requests and our answers, newest first",
    )
    def get(self, request: Request) -> Response:
        query = JournalQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted = query.validated_data
        rows = JournalEntry.objects.all()
        if "provider" in wanted:
            rows = rows.filter(provider=wanted["provider"])
        if "request_id" in wanted:
            rows = rows.filter(request_id=wanted["request_id"])
        if "bet" in wanted:
            bet = Bet.objects.filter(pk=wanted["bet"]).values("provider", "bet_key").first()
            rows = rows.filter(**bet) if bet else rows.none()
        if "since" in wanted:
            rows = rows.filter(created_at__gte=wanted["since"])
        if "until" in wanted:
            rows = rows.filter(created_at__lt=wanted["until"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(JournalEntryOut(page, many=True).data)
