"""The production shape on one machine: a PostgreSQL primary and its synchronous hot standby,
PgBouncer in transaction mode, app servers (``python -m backoffice.serve``) and HAProxy in
front, all on 127.0.0.1 and free ports, in a temporary directory (docs/operations.md,
"Several machines: the cluster and its failover drill").

The programs are the real ones (Debian's ``haproxy`` and ``pgbouncer``, PostgreSQL's own
``initdb``, ``pg_basebackup`` and ``pg_ctl``); their configuration files are the templates in
``deploy/cluster/``. Only ``drill`` imports Django: ``python -m bench.cluster`` starts and stops
the cluster for any environment, and ``manage.py cluster_drill`` drives it.

- ``processes``: ports, pid files, commands run as the database's system user.
- ``postgres``: the primary and the standby (start, stop hard, promote).
- ``pooler``: PgBouncer (and repointing it at a promoted standby).
- ``balancer``: HAProxy.
- ``app_servers``: the app servers and their shared environment.
- ``cluster``: the whole shape, its state file, and the runbook's failover.
- ``drill``: the retry storm through it, an app server killed, a failover, and the checks.
"""
