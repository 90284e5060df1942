"""Reads the admin and the finance exports may take from the hot standby (``DATABASE_REPLICA_URL``).

A standby answers with what it has replayed, a moment behind the primary. That is fine for a
page or an export a person reads, never for a read that decides money: a balance, a bet's
state before it changes, an idempotency check. So the standby is read only:

- inside ``replica_reads()``, which ``ReplicaReadsMiddleware`` enters for GET and HEAD requests
  to the admin and to the operator API's finance exports (views that write nothing), and the
  ``export_reconciliation`` command for its file;
- for the rows of ``READ_APPS``: never users, sessions, second-factor devices or API keys (a
  revoked session or key must stop at once, not after the standby's replay);
- outside any transaction on the primary (the admin runs its change pages in one; a money
  service reads under its locks there);
- until the first write in the scope: from then on the primary answers.

Provider callbacks never pass this middleware (``PROVIDER_MIDDLEWARE``), and the wallet's raw
SQL always runs on the primary's connection, which no router sees. Without
``DATABASE_REPLICA_URL`` there is no ``replica`` database and everything reads the primary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model
from django.http import HttpRequest
from django.http.response import HttpResponseBase, StreamingHttpResponse
from django.urls import Resolver404, resolve

REPLICA = "replica"
#: The apps whose rows staff and finance read: wallets, bets, ledger, the journal, VP cards.
READ_APPS = frozenset({"wallet", "providers", "journal", "cards"})
#: Finance export views outside the admin (the admin's own pages are all in its namespace).
EXPORT_VIEWS = frozenset(
    {"operator_api:reconciliation-transactions", "operator_api:reconciliation-summary"}
)
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class _Scope:
    wrote: bool = False


_scope: ContextVar[_Scope | None] = ContextVar("replica_reads", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, reads of ``READ_APPS`` rows outside a transaction go to the standby."""
    token = _scope.set(_Scope() if replica_configured() else None)
    try:
        yield
    finally:
        _scope.reset(token)


def read_alias(model: type[Model]) -> str:
    """The database the routers send a read of ``model`` to, here and now: for raw SQL and
    ``COPY``, which no router sees."""
    return router.db_for_read(model)


class ReplicaRouter:
    """Django's database router for ``DATABASE_ROUTERS`` (set with ``DATABASE_REPLICA_URL``).

    Always answers (never ``None``): left to Django, a row read from the standby would carry
    its related rows' reads (a ledger row's staff user) to the standby after it."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        scope = _scope.get()
        if scope is None or scope.wrote or model._meta.app_label not in READ_APPS:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        scope = _scope.get()
        if scope is not None:
            scope.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the same rows on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaReadsMiddleware:
    """Enters ``replica_reads()`` for the admin's and the finance exports' GET and HEAD requests,
    around the view and, for a streamed export, around each chunk it writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not (replica_configured() and _reads_only(request)):
            return self.get_response(request)
        with replica_reads():
            response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse) and not response.is_async:
            chunks = cast(Iterator[bytes], response.streaming_content)
            response.streaming_content = _each_in_scope(chunks)
        return response


def _reads_only(request: HttpRequest) -> bool:
    if request.method not in READ_METHODS:
        return False
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.namespace == "admin" or match.view_name in EXPORT_VIEWS


def _each_in_scope(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks, each made inside ``replica_reads()``: the server pulls them after the
    middleware has returned."""
    iterator = iter(chunks)
    while True:
        with replica_reads():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk
