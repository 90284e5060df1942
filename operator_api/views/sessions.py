"""Game-session tokens: what Naga (``playerToken``) and Buffalo (``sid``) present to us."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from operator_api.base import OperatorApiView
from operator_api.idempotency import Answer, respond_once
from operator_api.serializers import SessionCreateIn, SessionOut
from wallet.models import Player, Wallet
from wallet.services import session_create, session_revoke


class SessionListView(OperatorApiView):
    required_permissions = {"POST": ("wallet.add_playersession",)}
    serializer_class = SessionCreateIn

    @extend_schema(
        request=SessionCreateIn,
        responses={201: SessionOut, 400: None},
        summary="Issue a game-session token for a player at a provider",
    )
    def post(self, request: Request) -> Response:
        body = SessionCreateIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        player = Player.objects.filter(account_id=data["account_id"]).first()
        if player is None:
            raise ValidationError({"account_id": [f"No player {data['account_id']!r}."]})
        if player.status == Player.Status.BLOCKED:
            raise ValidationError({"account_id": [f"{player.account_id} is blocked."]})

        def create() -> Answer:
            try:
                session = session_create(
                    account_id=player.account_id,
                    provider=data["provider"],
                    currency=data.get("currency"),
                    ttl_seconds=data.get("ttl_seconds"),
                )
            except Wallet.DoesNotExist as exc:
                raise ValidationError({"currency": [f"{exc}."]}) from None
            return Answer(status.HTTP_201_CREATED, SessionOut(session).data)

        return respond_once(request, create)


class SessionDetailView(OperatorApiView):
    required_permissions = {"DELETE": ("wallet.change_playersession",)}
    serializer_class = SessionOut

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="No live session has it.")},
        summary="Revoke a session: the provider's next call with the token is refused",
    )
    def delete(self, request: Request, token: str) -> Response:
        if not session_revoke(token=token):
            raise Http404("No live session has this token.")
        return Response(status=status.HTTP_204_NO_CONTENT)
