"""Watching the service run: Prometheus metrics (``/metrics``), the last ledger check, and one
structured log line per provider request (docs/operations.md, "Monitoring")."""
