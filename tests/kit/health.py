"""Reading a service's /health over HTTP in tests: its status code and body, 503s included."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def read_health(port: int) -> tuple[int, dict[str, Any]]:
    """GET 127.0.0.1:port/health; OSError while nothing listens there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:  # noqa: S310  (loopback)
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())
