from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from wallet.chain import give_session_key, ledger_link_sqlite


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        connection_created.connect(give_ledger_chain_key, dispatch_uid="wallet.ledger_chain_key")


def give_ledger_chain_key(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Give a new connection what the ledger's chain trigger needs (wallet/chain.py).

    PostgreSQL: the key as a session setting (``give_session_key``). Behind a transaction pooler
    a session setting would stay on whichever server connection ran it: the pooler's
    ``connect_query`` sets it on each of its server connections instead (docs/ledger-chain.md).
    SQLite: the trigger's function.
    """
    if connection.vendor == "postgresql":
        if not getattr(settings, "DATABASE_TRANSACTION_POOLER", False):
            give_session_key(connection.connection)
    elif connection.vendor == "sqlite":
        connection.connection.create_function(
            "wallet_ledger_chain", 12, ledger_link_sqlite, deterministic=True
        )
