"""Figures from a run: rate, latency percentiles, answers, and the one-line summaries printed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, latencies_ns: list[int]) -> Latency:
        if not latencies_ns:
            return cls(0.0, 0.0, 0.0, 0.0)
        ordered = sorted(latencies_ns)

        def at(fraction: float) -> float:
            index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
            return ordered[index] / 1e6

        return cls(at(0.50), at(0.95), at(0.99), ordered[-1] / 1e6)

    def text(self) -> str:
        return (
            f"p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"max {self.max_ms:.1f} ms"
        )


@dataclass(frozen=True)
class Figures:
    """One measured phase (HTTP scenario or raw-SQL ceiling)."""

    name: str
    requests: int
    seconds: float
    latency: Latency
    errors: int = 0
    try_again: int = 0
    client_cpu_us_per_request: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def text(self) -> str:
        line = (
            f"{self.name}: {self.requests} in {self.seconds:.2f} s = {self.rate:,.0f}/s; "
            f"{self.latency.text()}"
        )
        if self.client_cpu_us_per_request:
            line += f"; client CPU {self.client_cpu_us_per_request:.0f} µs/request"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate": round(self.rate, 1)}
