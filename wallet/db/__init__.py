"""The wallet's data access on PostgreSQL's hot path: how the statements are sent (``hot_sql``),
the held commit (``held_commit``) and the row helpers (``rows``). Nothing here decides about
money; the services in ``wallet/services/`` do."""
