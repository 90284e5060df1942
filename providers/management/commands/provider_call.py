"""Send one encrypted or signed provider request to a running server, as the provider would."""

import json
import shlex
from decimal import Decimal
from typing import Any

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.client_base import builder_for
from providers.registry import adapters


class Command(BaseCommand):
    help = (
        "Build a provider request from plain JSON with the configured keys (encrypting or "
        "signing it like the provider does) and send it, printing the answer; or print the "
        "curl line with --curl. Example: provider_call jdb "
        '\'{"action":6,"ts":1700000000000,"uid":"demo_chen","currency":"RB","gType":0,'
        '"mType":8001}\''
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=sorted(adapters()))
        parser.add_argument("payload", help="the plain JSON the provider would send")
        parser.add_argument("--function", default="", help="URL function (Naga, Buffalo)")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")
        parser.add_argument("--curl", action="store_true", help="print a curl line instead")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            payload = json.loads(options["payload"], parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise CommandError(f"payload is not JSON: {exc}") from exc
        signed = builder_for(options["provider"])(payload, function=options["function"])
        url = options["base_url"].rstrip("/") + signed.path
        headers = {"Content-Type": signed.content_type, **signed.headers}
        if options["curl"]:
            parts = ["curl", "-sS", "-X", "POST", url]
            for name, value in headers.items():
                parts += ["-H", f"{name}: {value}"]
            parts += ["--data-binary", signed.body.decode()]
            self.stdout.write(" ".join(shlex.quote(p) for p in parts))
            return
        try:
            response = requests.post(url, data=signed.body, headers=headers, timeout=10)
        except requests.RequestException as exc:
            raise CommandError(f"could not reach {url}: {exc}") from exc
        self.stdout.write(f"HTTP {response.status_code}")
        self.stdout.write(response.text)
