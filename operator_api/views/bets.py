"""Bets: the support list and page, and the admin's three staff actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db import OperationalError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from operator_api.base import OperatorApiView
from operator_api.fields import amount_text, parse_amount_field
from operator_api.idempotency import Answer, respond_once
from operator_api.pagination import BetsNewestFirst
from operator_api.serializers import (
    ActionOut,
    BetDetailOut,
    BetOut,
    BetQuery,
    ProposalOut,
    ProposedOut,
    ReasonIn,
    ResolveIn,
)
from wallet.models import Bet, Proposal, Wallet
from wallet.selectors import StuckReason, stuck_q
from wallet.services import (
    StaffActionRefused,
    StaffRequest,
    bet_mark_reviewed,
    request_bet_cancel,
    request_bet_resolve,
)
from wallet.services.approvals import proposal_message

REFUSED = OpenApiResponse(description="Refused in the bet's state; nothing changed.")
PROPOSED = OpenApiResponse(
    ProposedOut,
    description="Above the four-eyes limit: proposed, nothing moved; another person with the "
    "Approver role must approve it (POST /api/v1/proposals/{id}/approve/).",
)


class BetListView(OperatorApiView):
    required_permissions = {"GET": ("wallet.view_bet",)}
    serializer_class = BetOut
    pagination_class = BetsNewestFirst

    @extend_schema(
        parameters=[BetQuery], responses={200: BetOut(many=True), 400: None}, summary="Bets"
    )
    def get(self, request: Request) -> Response:
        query = BetQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(bets_matching(query.validated_data))
        return self.get_paginated_response(BetOut(page, many=True).data)


def bets_matching(wanted: dict[str, Any]) -> QuerySet[Bet]:
    """The bets a ``BetQuery`` asks for (unordered: the pagination orders them)."""
    bets = Bet.objects.select_related("player")
    provider = wanted.get("provider")
    if "stuck" in wanted:
        bets = bets.filter(stuck_q(StuckReason(wanted["stuck"]), provider=provider))
    if provider:
        bets = bets.filter(provider=provider)
    if "state" in wanted:
        bets = bets.filter(state=wanted["state"])
    if "account_id" in wanted:
        bets = bets.filter(player__account_id=wanted["account_id"])
    if "round_id" in wanted:
        bets = bets.filter(round_id=wanted["round_id"])
    if "since" in wanted:
        bets = bets.filter(created_at__gte=wanted["since"])
    if "until" in wanted:
        bets = bets.filter(created_at__lt=wanted["until"])
    return bets


class BetDetailView(OperatorApiView):
    required_permissions = {"GET": ("wallet.view_bet",)}
    serializer_class = BetDetailOut

    @extend_schema(
        responses={200: BetDetailOut, 404: None},
        summary="A bet with its ledger rows, provider requests and staff actions",
    )
    def get(self, request: Request, pk: int) -> Response:
        bet = get_object_or_404(Bet.objects.select_related("player"), pk=pk)
        return Response(BetDetailOut(bet).data)


class BusyNow(APIException):
    """The bet is being changed by a provider call this instant: retry, nothing changed."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "busy"


def _staff_action(
    request: Request, pk: int, act: Callable[[Bet, User], StaffRequest | None]
) -> Response:
    """Run one staff action once per Idempotency-Key; a refusal for good is a kept 409, a bet
    that is busy right now a 503 that is not kept (the retry runs it). Above the four-eyes
    limit the action is proposed instead: a kept 202 with the proposal."""
    bet = get_object_or_404(Bet, pk=pk)

    def run() -> Answer:
        try:
            done = act(bet, request.user)
        except StaffActionRefused as exc:
            if isinstance(exc.__cause__, OperationalError):
                raise BusyNow(str(exc)) from exc
            return Answer(status.HTTP_409_CONFLICT, {"detail": str(exc), "code": "refused"})
        if done is not None and done.proposal is not None:
            return proposed(done.proposal)
        balance = done.balance if done is not None else None
        fresh = Bet.objects.select_related("player").get(pk=bet.pk)
        shown = amount_text(balance, fresh.currency) if balance is not None else None
        return Answer(status.HTTP_200_OK, {"bet": BetOut(fresh).data, "balance": shown})

    return respond_once(request, run)


def proposed(proposal: Proposal) -> Answer:
    """202: the action waits for a second person; nothing moved."""
    return Answer(
        status.HTTP_202_ACCEPTED,
        {"proposal": ProposalOut(proposal).data, "detail": proposal_message(proposal)},
    )


def _reason(request: Request, serializer: type[ReasonIn] = ReasonIn) -> dict[str, Any]:
    body = serializer(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)


class BetCancelView(OperatorApiView):
    required_permissions = {"POST": ("wallet.cancel_bet",)}
    serializer_class = ReasonIn

    @extend_schema(
        request=ReasonIn,
        responses={200: ActionOut, 202: PROPOSED, 400: None, 404: None, 409: REFUSED},
        summary="Cancel an open bet and refund its stake (the admin's staff action)",
    )
    def post(self, request: Request, pk: int) -> Response:
        reason = _reason(request)["reason"]
        return _staff_action(
            request,
            pk,
            lambda bet, user: request_bet_cancel(bet_id=bet.pk, actor=user, reason=reason),
        )


class BetResolveView(OperatorApiView):
    required_permissions = {"POST": ("wallet.resolve_bet",)}
    serializer_class = ResolveIn

    @extend_schema(
        request=ResolveIn,
        responses={200: ActionOut, 202: PROPOSED, 400: None, 404: None, 409: REFUSED},
        summary="Resolve an open bet as settled, crediting a win (the admin's staff action)",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _reason(request, ResolveIn)
        bet = get_object_or_404(Bet, pk=pk)
        currency = bet.currency or _wallet_currency(bet.wallet_id)
        win = parse_amount_field(data, "win_amount", currency, positive=False)
        assert win is not None
        return _staff_action(
            request,
            pk,
            lambda bet, user: request_bet_resolve(
                bet_id=bet.pk, actor=user, reason=data["reason"], win_amount=win
            ),
        )


def _wallet_currency(wallet_id: int | None) -> str:
    if wallet_id is None:
        return ""
    found = Wallet.objects.filter(pk=wallet_id).values_list("currency", flat=True).first()
    return found or ""


class BetReviewView(OperatorApiView):
    required_permissions = {"POST": ("wallet.review_bet",)}
    serializer_class = ReasonIn

    @extend_schema(
        request=ReasonIn,
        responses={200: ActionOut, 400: None, 404: None, 409: REFUSED},
        summary="Mark a flagged bet as reviewed (moves no money)",
    )
    def post(self, request: Request, pk: int) -> Response:
        reason = _reason(request)["reason"]

        def review(bet: Bet, user: User) -> None:
            bet_mark_reviewed(bet_id=bet.pk, actor=user, reason=reason)

        return _staff_action(request, pk, review)
