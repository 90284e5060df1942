"""VP operator cards: the admin's list, issue and cancel, through the same services and the
same form checks (VP's current templates)."""

from __future__ import annotations

from typing import Any

from django.db import OperationalError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from operator_api.base import OperatorApiView
from operator_api.idempotency import Answer, respond_once_outside_transaction
from operator_api.pagination import NewestFirst
from operator_api.serializers import (
    CardIssueIn,
    CardQuery,
    CardResultOut,
    OperatorCardOut,
    ReasonIn,
)
from providers.vp.cards.catalog import fetch_templates
from providers.vp.cards.forms import IssueCardForm
from providers.vp.cards.models import OperatorCard
from providers.vp.cards.services import (
    CardAction,
    CardInputError,
    CardResult,
    card_cancel,
)

#: Card results that mean "nothing was done, and doing it again now will not help".
REFUSALS = {CardAction.NOT_ALLOWED, CardAction.IN_PROGRESS, CardAction.CANCEL_REFUSED}


class VpUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "vp_unavailable"


def _result(result: CardResult, ok_status: int) -> Answer:
    card = OperatorCard.objects.select_related("player").get(pk=result.card.pk)
    data = {
        "card": OperatorCardOut(card).data,
        "action": result.action.value,
        "message": result.message,
        "vp_code": result.vp_code,
    }
    refused = result.action in REFUSALS
    return Answer(status.HTTP_409_CONFLICT if refused else ok_status, data)


class CardListView(OperatorApiView):
    required_permissions = {
        "GET": ("operator_cards.view_operatorcard",),
        "POST": ("operator_cards.issue_operatorcard",),
    }
    serializer_class = OperatorCardOut
    pagination_class = NewestFirst

    @extend_schema(
        parameters=[CardQuery],
        responses={200: OperatorCardOut(many=True), 400: None},
        summary="Operator cards, newest first",
    )
    def get(self, request: Request) -> Response:
        query = CardQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        cards = OperatorCard.objects.select_related("player")
        if "account_id" in query.validated_data:
            cards = cards.filter(player__account_id=query.validated_data["account_id"])
        if "status" in query.validated_data:
            cards = cards.filter(status=query.validated_data["status"])
        page = self.paginate_queryset(cards)
        return self.get_paginated_response(OperatorCardOut(page, many=True).data)

    @extend_schema(
        request=CardIssueIn,
        responses={
            201: CardResultOut,
            400: None,
            409: OpenApiResponse(description="VP refused or the card was not sent."),
            503: OpenApiResponse(description="VP's card list could not be read; nothing sent."),
        },
        summary="Issue a card through VP (checked against VP's current templates)",
    )
    def post(self, request: Request) -> Response:
        body = CardIssueIn(data=request.data)
        body.is_valid(raise_exception=True)
        templates, reply = fetch_templates()
        if not reply.ok:
            raise VpUnavailable(
                f"VP's card list could not be read ({reply.outcome.value}: {reply.message}); "
                "no card can be issued until it can. Nothing was sent."
            )
        form_data = {**_form_data(request.data), "method": body.validated_data["method"]}
        form = IssueCardForm(form_data, templates=templates)
        if not form.is_valid():
            raise ValidationError(_api_errors(form.errors))

        def issue() -> Answer:
            try:
                result = form.issue(request.user)
            except CardInputError as exc:
                raise ValidationError({"non_field_errors": [str(exc)]}) from None
            failed = result.action is CardAction.ISSUE_FAILED
            return _result(result, status.HTTP_409_CONFLICT if failed else status.HTTP_201_CREATED)

        return respond_once_outside_transaction(request, issue)


def _form_data(body: dict[str, Any]) -> dict[str, Any]:
    """The API body as the admin form's fields (``account_id`` is the form's ``player``)."""
    data = {key: value for key, value in body.items() if value is not None}
    data["player"] = data.pop("account_id", "")
    return data


def _api_errors(errors: Any) -> dict[str, list[str]]:
    return {
        ("account_id" if field == "player" else field): [str(message) for message in messages]
        for field, messages in errors.items()
    }


class CardCancelView(OperatorApiView):
    required_permissions = {"POST": ("operator_cards.cancel_operatorcard",)}
    serializer_class = ReasonIn

    @extend_schema(
        request=ReasonIn,
        responses={200: CardResultOut, 400: None, 404: None, 409: CardResultOut},
        summary="Cancel a card at VP (the admin's cancel, with a reason)",
    )
    def post(self, request: Request, pk: int) -> Response:
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        card = get_object_or_404(OperatorCard, pk=pk)

        def cancel() -> Answer:
            try:
                result = card_cancel(
                    card_id=card.pk, actor=request.user, reason=body.validated_data["reason"]
                )
            except OperationalError as exc:
                raise VpUnavailable(
                    "The card is being changed right now; nothing was sent. Retry shortly."
                ) from exc
            return _result(result, status.HTTP_200_OK)

        return respond_once_outside_transaction(request, cancel)
