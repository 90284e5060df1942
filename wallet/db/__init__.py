"""The wallet's data access on PostgreSQL's hot path: the statements and how they are sent
(``hot_sql``, ``literals``), the held commit (``held_commit``) and the row helpers (``rows``).
Nothing here decides about money; the services in ``wallet/services/`` do."""
