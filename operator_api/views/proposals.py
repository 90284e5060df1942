"""Four-eyes proposals: the approvals queue, and approving or rejecting one.

Approving and rejecting need the Approver role's permission (``wallet.approve_proposal``). No
API key role carries it: a key is one secret, and four eyes means two people, so approvers
decide as themselves, signed in (the admin, or this API with their staff session).
"""

from __future__ import annotations

from typing import Any

from django.db import OperationalError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from operator_api.base import OperatorApiView
from operator_api.fields import amount_text
from operator_api.idempotency import Answer, respond_once
from operator_api.pagination import NewestFirst
from operator_api.serializers import DecisionOut, ProposalOut, ProposalQuery, ReasonIn
from operator_api.views.bets import BusyNow
from wallet.models import Proposal
from wallet.services import (
    ApprovalRefused,
    StaffActionRefused,
    approve_proposal,
    expire_due_proposals,
    reject_proposal,
)

REFUSED = OpenApiResponse(
    description="Refused, nothing moved: your own proposal, no longer waiting, expired, or the "
    "bet or wallet no longer allows it (then the proposal is closed as refused at approval)."
)


class ProposalListView(OperatorApiView):
    required_permissions = {"GET": ("wallet.view_proposal",)}
    serializer_class = ProposalOut
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[ProposalQuery],
        responses={200: ProposalOut(many=True), 400: None},
        summary="Staff money actions proposed for four-eyes approval, newest first",
    )
    def get(self, request: Request) -> Response:
        query = ProposalQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        wanted: dict[str, Any] = query.validated_data
        expire_due_proposals()  # what is past its time is listed as expired
        rows = Proposal.objects.select_related("player", "proposed_by", "decided_by")
        if "status" in wanted:
            rows = rows.filter(status=wanted["status"])
        if "account_id" in wanted:
            rows = rows.filter(player__account_id=wanted["account_id"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ProposalOut(page, many=True).data)


class _DecisionView(OperatorApiView):
    required_permissions = {"POST": ("wallet.approve_proposal",)}
    serializer_class = ReasonIn

    def decide(self, proposal_id: int, request: Request, reason: str) -> Any:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        get_object_or_404(Proposal, pk=pk)

        def run() -> Answer:
            try:
                balance = self.decide(pk, request, reason)
            except ApprovalRefused as exc:
                shown = ProposalOut(_fresh(pk)).data
                return Answer(
                    status.HTTP_409_CONFLICT,
                    {"detail": str(exc), "code": "refused", "proposal": shown},
                )
            except StaffActionRefused as exc:
                if isinstance(exc.__cause__, OperationalError):
                    raise BusyNow(str(exc)) from exc
                raise
            proposal = _fresh(pk)
            shown = amount_text(balance, proposal.currency) if balance is not None else None
            return Answer(
                status.HTTP_200_OK, {"proposal": ProposalOut(proposal).data, "balance": shown}
            )

        return respond_once(request, run)


def _fresh(pk: int) -> Proposal:
    return Proposal.objects.select_related("player", "proposed_by", "decided_by").get(pk=pk)


class ProposalApproveView(_DecisionView):
    @extend_schema(
        request=ReasonIn,
        responses={200: DecisionOut, 400: None, 404: None, 409: REFUSED},
        summary="Approve another person's proposal: it is applied now (Approver role)",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, proposal_id: int, request: Request, reason: str) -> Any:
        done = approve_proposal(proposal_id=proposal_id, approver=request.user, reason=reason)
        return done.balance


class ProposalRejectView(_DecisionView):
    @extend_schema(
        request=ReasonIn,
        responses={200: DecisionOut, 400: None, 404: None, 409: REFUSED},
        summary="Reject another person's proposal: nothing moves (Approver role)",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def decide(self, proposal_id: int, request: Request, reason: str) -> Any:
        reject_proposal(proposal_id=proposal_id, approver=request.user, reason=reason)
        return None
