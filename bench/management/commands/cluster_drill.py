"""The failover drill against a running cluster (``bench.cluster.drill``).

Started by ``python -m bench.cluster drill`` (or ``deploy/cluster/drill``), which brings the
cluster up, runs this command in the app servers' environment, and stops the cluster after.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.cluster.cluster import Cluster
from bench.cluster.drill import DrillOptions, run_drill


class Command(BaseCommand):
    help = (
        "Run the retry storm through the cluster's HAProxy, kill an app server, fail the "
        "database over to the standby, resend what got no answer, then check on the promoted "
        "database that nothing acknowledged was lost and no bet was refunded twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cluster", type=Path, required=True, help="the cluster's folder")
        parser.add_argument("--bets", type=int, default=DrillOptions.bets)
        parser.add_argument("--players", type=int, default=DrillOptions.players)
        parser.add_argument("--concurrency", type=int, default=DrillOptions.concurrency)
        parser.add_argument(
            "--time-limit", type=float, default=DrillOptions.time_limit_s, help="storm, seconds"
        )
        parser.add_argument("--json", type=Path, help="also write every figure to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        cluster = Cluster.load(options["cluster"])
        drill = DrillOptions(
            bets=options["bets"],
            players=options["players"],
            concurrency=options["concurrency"],
            time_limit_s=options["time_limit"],
        )
        report = run_drill(cluster, drill, self.stdout.write)
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=2, default=str))
        if not report["ok"]:
            raise CommandError("the drill found a loss, a double refund or an error (see above)")
