"""``python -m bench.cluster up|down|status|kill-app|restart-app|fail-over|drill``.

``up`` starts a cluster in a new temporary folder (or ``--dir``) and returns with it running,
printing its folder and the app servers' environment; every other command takes that folder.
``drill`` starts one, runs ``manage.py cluster_drill`` against it and stops it, whatever
happens (also on SIGTERM or at its time limit).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from bench.cluster.app_servers import ROOT
from bench.cluster.cluster import STATE_FILE, Cluster
from bench.cluster.processes import ClusterError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start a cluster and leave it running")
    up.add_argument("--dir", type=Path, help="its folder (default: a new temporary one)")
    up.add_argument("--workers", type=int, default=1, help="granian workers per app server")
    for name in ("down", "status", "fail-over"):
        commands.add_parser(name).add_argument("--dir", type=Path, required=True)
    for name in ("kill-app", "restart-app"):
        command = commands.add_parser(name)
        command.add_argument("--dir", type=Path, required=True)
        command.add_argument("number", type=int, help="1 or 2")
    drill = commands.add_parser("drill", help="start a cluster, run the drill, stop it")
    drill.add_argument("--time-limit", type=float, default=540, help="seconds, start to stop")
    drill.add_argument("--keep-logs", type=Path, help="copy the cluster's logs here at the end")
    drill.add_argument("drill_args", nargs=argparse.REMAINDER, help="for manage.py cluster_drill")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            return _up(args.dir, args.workers)
        if args.command == "drill":
            return _drill(args.time_limit, args.keep_logs, args.drill_args)
        cluster = Cluster.load(args.dir)
        if args.command == "down":
            cluster.down()
        elif args.command == "status":
            print(json.dumps(_status(cluster), indent=2))
        elif args.command == "kill-app":
            cluster.kill_app(args.number)
        elif args.command == "restart-app":
            cluster.restart_app(args.number)
        elif args.command == "fail-over":
            cluster.fail_over(print)
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 2
    return 0


def _up(home: Path | None, workers: int) -> int:
    cluster = Cluster.plan(home, workers=workers)
    cluster.up(print)
    print(f"\ncluster folder: {cluster.home}   (stop: python -m bench.cluster down --dir ...)")
    print("app server environment:")
    for name, value in cluster.environment().items():
        if name != "PATH":
            print(f"  export {name}={shlex.quote(value)}")
    return 0


def _status(cluster: Cluster) -> dict[str, object]:
    return {
        "folder": str(cluster.home),
        "load balancer": cluster.balancer.url,
        "primary": f"127.0.0.1:{cluster.current_primary.port}",
        "failed over": cluster.failed_over,
        "app servers": {app.number: app.pid is not None for app in cluster.apps},
    }


class _Stopped(Exception):
    """SIGTERM or SIGINT: stop the cluster and leave."""


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signal.Signals(signum).name)


def _drill(time_limit: float, keep_logs: Path | None, drill_args: list[str]) -> int:
    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, _raise_stopped)
    started = time.monotonic()
    cluster: Cluster | None = None
    drill: subprocess.Popen[bytes] | None = None
    try:
        cluster = Cluster.plan()
        print("== cluster", flush=True)
        cluster.up(lambda line: print(f"  {line}", flush=True))
        remaining = time_limit - (time.monotonic() - started)
        command = [sys.executable, "manage.py", "cluster_drill", "--cluster", str(cluster.home)]
        command += [a for a in drill_args if a != "--"]
        command += ["--time-limit", f"{max(remaining - 30, 30):.0f}"]
        print("== drill", flush=True)
        drill = subprocess.Popen(command, cwd=ROOT, env=cluster.environment())  # noqa: S603
        return drill.wait(timeout=max(remaining, 1))
    except subprocess.TimeoutExpired:
        print(f"drill: stopped at its {time_limit:.0f} s limit", flush=True)
        return 3
    except _Stopped as stopped:
        print(f"drill: {stopped}, stopping the cluster", flush=True)
        return 4
    except ClusterError as exc:
        print(f"drill: the cluster failed: {exc}", flush=True)
        return 2
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if drill is not None and drill.poll() is None:
            drill.kill()
            drill.wait()
        if cluster is not None:
            if (cluster.home / STATE_FILE).exists():
                cluster = Cluster.load(cluster.home)  # the drill may have restarted a server
            if keep_logs is not None:
                _copy_logs(cluster, keep_logs)
            cluster.down()
            print(f"cluster stopped ({time.monotonic() - started:.0f} s in all)", flush=True)


def _copy_logs(cluster: Cluster, target: Path) -> None:
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    for log in cluster.home.glob("**/*.log"):
        shutil.copy(log, target / f"{log.parent.name}-{log.name}")


if __name__ == "__main__":
    sys.exit(main())
