"""The load harness behind ``manage.py loadtest`` (see docs/performance.md).

It speaks the providers' protocols: it builds every request with the provider's own client
(``providers.<slug>.client``), exactly as the provider encrypts or signs it, and drives a
running server over HTTP. It lives in ``bench``, outside the product: neither the wallet nor the
providers know of it.

- ``seed``: players, wallets, sessions and bets written with set-based SQL, consistent with
  ``check_ledger`` from the start.
- ``requests``: the provider requests, built and framed as raw HTTP before the clock starts.
- ``driver``: asyncio clients on kept-alive connections, latency per request, retry rounds.
- ``ceiling``: the same cancel in raw SQL, for a machine-independent ratio.
- ``scenarios``: what each scenario seeds, sends and checks afterwards.
- ``run``: one run from seeding to ``check_ledger``.
"""
