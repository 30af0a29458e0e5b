"""Prometheus text exposition (format 0.0.4), written by hand: a few gauges and counters;
and the HTTP request counter behind `flowtape_api_requests_total`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable

from fastapi import Request
from fastapi.responses import Response


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return "{" + inner + "}"


class Exposition:
    """Families of samples rendered in Prometheus text format."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str,
        samples: Iterable[tuple[dict[str, str], float | int]],
    ) -> None:  # fmt: skip
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self._lines.append(f"{name}{_labels(labels)} {value}")

    def render(self) -> str:
        return "\n".join(self._lines) + "\n"


class RequestCounter:
    """HTTP requests by method, route template and status code."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, int]] = Counter()

    def add(self, method: str, route: str, status: int) -> None:
        self.counts[(method, route, status)] += 1

    def samples(self) -> list[tuple[dict[str, str], int]]:
        return [
            ({"method": m, "route": r, "status": str(s)}, n)
            for (m, r, s), n in sorted(self.counts.items())
        ]


async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """HTTP middleware: adds each request to the app's RequestCounter (`app.state.requests`)."""
    status = 500
    try:
        response = await call_next(request)
        status = response.status_code
        return response
    finally:
        route = request.scope.get("route")
        requests: RequestCounter = request.app.state.requests
        requests.add(request.method, getattr(route, "path", "unmatched"), status)
