"""HTTP on the market-data service: /health, /metrics (Prometheus), /latest, /bus-stats."""

from __future__ import annotations

from aiohttp import web

from infra.health import health_handler
from ingest.bridge.exposition import bridge_families
from ingest.marketdata.service import MarketDataService


def build_app(service: MarketDataService) -> web.Application:
    """The routes, reading `service` live."""

    async def metrics(_: web.Request) -> web.Response:
        bridge_lines: list[str] = []
        bridge_families(bridge_lines, service.bridge)
        text = service.metrics.prometheus(service.queue.stats()) + "\n".join(bridge_lines) + "\n"
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    async def latest(request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        if not symbol:
            return web.json_response(
                {"detail": "expected ?symbol=BTC-USDT", "code": "bad_request"}, status=400
            )
        found = service.metrics.latest.get(symbol)
        if found is None:
            return web.json_response(
                {"detail": f"no trade or quote seen for {symbol!r}", "code": "not_found"},
                status=404,
            )
        return web.json_response({"symbol": symbol, **found})

    async def bus_stats(_: web.Request) -> web.Response:
        return web.json_response(service.bus_stats())

    app = web.Application()
    app.router.add_get("/health", health_handler(service.health_report))
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/latest", latest)
    app.router.add_get("/bus-stats", bus_stats)
    return app


async def serve(service: MarketDataService, host: str, port: int) -> web.AppRunner:
    """Start serving; returns the runner (its `cleanup()` stops it)."""
    runner = web.AppRunner(build_app(service), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
