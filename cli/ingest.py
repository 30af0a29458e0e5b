"""`flowtape ingest --source NAME`: one source into the RAW stream."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from cli.progress import STDERR, Meter
from compute.flow.shards import Router
from infra.bus import Bus
from infra.health import health_served
from infra.settings import Settings, get_settings
from infra.stack import Stack
from ingest.bridge import IdBridge
from ingest.exposition import CONTENT_TYPE, ingest_metrics_text
from ingest.health import IngestHealth
from ingest.marketdata.providers import CRYPTO_SOURCES
from ingest.service import METRICS_FILE, IngestConfig, IngestMetrics, IngestService
from ingest.source import Source

console = STDERR
SOURCES = ("synthetic", "synthetic-cme", "databento-file", "databento-hist", "databento-live",
           "alpaca", "ibkr")  # fmt: skip
ALPACA_STOCKS = "alpaca-stocks"  # through the market-data service, like the crypto sources
LIVE_SOURCES = frozenset({"databento-live", "alpaca", "ibkr"})
# Sources that end when their input does: worth a progress bar.
ONE_SHOT_SOURCES = frozenset({"databento-file", "databento-hist"})
METER_EVERY_S = 0.25


def build_source(
    name: str,
    *,
    paths: list[Path],
    dataset: str | None,
    schemas: list[str],
    symbols: list[str],
    speed: float,
    seed: int,
    minutes: int,
    settings: Settings,
    start: str | None = None,
    end: str | None = None,
    books: bool = False,
) -> Source:
    """The named source, configured from the options and the settings (its keys); `books`
    turns Databento MBO and MBP-10 records into order-book events."""
    if name == "synthetic":
        from ingest.synthetic.source import SyntheticSource
        from synth.config import SynthConfig

        return SyntheticSource(SynthConfig(seed=seed, minutes=minutes), speed=speed)
    if name == "synthetic-cme":
        from ingest.synthetic.cme_source import SyntheticCmeSource
        from synth.cme_config import CmeConfig

        return SyntheticCmeSource(CmeConfig(seed=seed, minutes=minutes), speed=speed)
    if name == "databento-file":
        from ingest.databento.adapter import DatabentoFileSource
        from ingest.databento.config import DatabentoFileConfig

        if not paths:
            raise typer.BadParameter("databento-file needs --path FILE (one or more)")
        return DatabentoFileSource(
            DatabentoFileConfig(paths=[str(p) for p in paths], emit_books=books)
        )
    if name == "databento-hist":
        from ingest.databento.adapter import DatabentoHistoricalSource
        from ingest.databento.config import DatabentoHistoricalConfig

        if not (dataset and len(schemas) == 1 and symbols and start and end):
            raise typer.BadParameter(
                "databento-hist needs --dataset, one --schema, --symbols, --start and --end"
            )
        historical = DatabentoHistoricalConfig(
            dataset=dataset, schema=schemas[0], symbols=symbols, start=start, end=end,
            download_dir=str(settings.data_dir / "databento"), emit_books=books,
            api_key=settings.databento_api_key,
        )  # fmt: skip
        return DatabentoHistoricalSource(historical)
    if name == "databento-live":
        from ingest.databento.adapter import DatabentoLiveSource
        from ingest.databento.config import DatabentoLiveConfig

        if not (dataset and schemas and symbols):
            raise typer.BadParameter("databento-live needs --dataset, --schema and --symbols")
        config = DatabentoLiveConfig(
            dataset=dataset, schemas=schemas, symbols=symbols, start=start, emit_books=books,
            api_key=settings.databento_api_key,
        )  # fmt: skip
        return DatabentoLiveSource(config)
    if name == "alpaca":
        from ingest.alpaca.adapter import AlpacaOptionSource
        from ingest.alpaca.config import AlpacaOptionsConfig

        return AlpacaOptionSource(
            AlpacaOptionsConfig(
                underlyings=symbols or ["SPY"],
                api_key=settings.alpaca_api_key,
                secret_key=settings.alpaca_secret_key,
            )
        )
    if name == "ibkr":
        from ingest.ibkr.adapter import IbkrOptionSource
        from ingest.ibkr.config import IbkrOptionsConfig

        if not symbols:
            raise typer.BadParameter("ibkr needs --symbols with OCC option symbols")
        return IbkrOptionSource(IbkrOptionsConfig(contracts=symbols))
    raise typer.BadParameter(f"expected a source among {', '.join(SOURCES)}, got {name!r}")


def show_counts(metrics: IngestMetrics, meter: Meter) -> None:
    """The events the service has taken and the messages it has published, on `meter`."""
    meter.update(
        sum(metrics.events.values()), where=f"{metrics.published_messages:,} messages published"
    )


async def _keep_showing(metrics: IngestMetrics, meter: Meter) -> None:
    while True:
        show_counts(metrics, meter)
        await asyncio.sleep(METER_EVERY_S)


async def _run_shown(service: IngestService, meter: Meter) -> IngestMetrics:
    meter.start(None)
    showing = asyncio.create_task(_keep_showing(service.metrics, meter))
    try:
        return await service.run()
    finally:
        showing.cancel()
        show_counts(service.metrics, meter)


async def run_ingest(
    source: Source,
    nats_url: str,
    config: IngestConfig,
    metrics_path: Path,
    meter: Meter | None = None,
    health_port: int | None = None,
    partitions: int = 1,
) -> None:
    """Run the ingest service over `source` until it ends or is stopped, its counts on
    `meter` (an indeterminate bar: a source does not know how much it holds), serving
    `/health` and `/metrics` on 127.0.0.1:`health_port` when given; the options-flow events
    split over `partitions` subjects (live.partitions)."""
    bus = await Bus.connect(nats_url, name=f"flowtape-ingest-{source.name}")
    try:
        await bus.ensure_streams()
        partitioner = Router(partitions, stable=True) if partitions > 1 else None
        service = IngestService(
            source, bus, config, metrics_path=metrics_path, partitioner=partitioner
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, service.stop)
        health = IngestHealth(service)
        metrics_route = {"/metrics": (lambda: ingest_metrics_text(service), CONTENT_TYPE)}
        async with health_served(
            health.report, health_port, observe=health.observe, routes=metrics_route
        ):
            metrics = await (service.run() if meter is None else _run_shown(service, meter))
        console.print(
            f"ingest {source.name}: {sum(metrics.events.values()):,} events, "
            f"{metrics.published_messages:,} messages, {metrics.quarantined:,} quarantined, "
            f"{metrics.repeats_skipped:,} repeats skipped, health {service.health}"
        )
    finally:
        await bus.close()


def market_data_providers(
    source: str, symbols: list[str], ws_url: str, settings: Settings
) -> list[Source]:
    """The crypto providers, or Alpaca stocks with the settings' key pair (a dry run
    without)."""
    names = [name for given in symbols for name in given.split(",") if name]
    if source == ALPACA_STOCKS:
        from ingest.alpaca.stock_config import AlpacaStocksConfig
        from ingest.alpaca.stocks import build_stock_source

        if not names:
            raise typer.BadParameter(f"{ALPACA_STOCKS} needs --symbols, e.g. AAPL,MSFT")
        config = AlpacaStocksConfig(
            symbols=names, ws_url=ws_url, api_key=settings.alpaca_api_key,
            secret_key=settings.alpaca_secret_key,
        )  # fmt: skip
        return [build_stock_source(config)]
    from ingest.marketdata.providers import build_providers

    return build_providers(source, names, ws_url)


def run_crypto(
    source: str,
    symbols: list[str],
    ws_url: str,
    http_port: int,
    md_subjects: bool,
    settings: Settings,
) -> None:
    """The crypto providers (or Alpaca stocks) through the market-data service (queue,
    failover, HTTP)."""
    from ingest.marketdata.run import run_market_data
    from ingest.marketdata.service import MarketDataConfig

    providers = market_data_providers(source, symbols, ws_url, settings)
    with Stack(settings, needs=("nats",)) as stack:
        service = asyncio.run(
            run_market_data(
                providers,
                stack.url("nats"),
                MarketDataConfig(
                    run_id=settings.run_id,
                    md_subjects=md_subjects,
                    id_bridge_mode=settings.id_bridge_mode,
                    id_overrides=settings.id_overrides,
                    id_overrides_poll_s=settings.id_overrides_poll_s,
                ),  # fmt: skip
                http_port,
            )
        )
    stats = service.bus_stats()
    console.print(
        f"ingest {source}: {stats['offered']:,} events, {stats['published_events']:,} published, "
        f"{sum(stats['dropped'].values()):,} dropped by the queue, health {service.health}"
    )


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        source: Annotated[
            str,
            typer.Option(help=f"one of {', '.join((*SOURCES, *CRYPTO_SOURCES, ALPACA_STOCKS))}"),
        ] = "synthetic",
        path: Annotated[
            list[Path] | None, typer.Option(help="DBN files", exists=True, dir_okay=False)
        ] = None,
        dataset: Annotated[str | None, typer.Option(help="Databento dataset")] = None,
        schema: Annotated[list[str] | None, typer.Option(help="Databento schema(s)")] = None,
        symbols: Annotated[list[str] | None, typer.Option(help="symbols to subscribe")] = None,
        start: Annotated[
            str | None, typer.Option(help="Databento: range start (hist), replay start (live)")
        ] = None,
        end: Annotated[str | None, typer.Option(help="databento-hist: range end")] = None,
        books: Annotated[
            bool, typer.Option("--books", help="Databento: MBO and MBP-10 as order-book events")
        ] = False,
        speed: Annotated[float, typer.Option(help="synthetic pace; 0 = flat out")] = 1.0,
        seed: Annotated[int, typer.Option(help="synthetic seed")] = 0,
        minutes: Annotated[int, typer.Option(help="synthetic session length")] = 390,
        http_port: Annotated[int, typer.Option(help="crypto: port of /health etc.")] = 8091,
        ws_url: Annotated[str, typer.Option(help="crypto: the venue's WebSocket URL")] = "",
        md_subjects: Annotated[
            bool, typer.Option(help="crypto: also publish md.events.{type}.{symbol}")
        ] = False,
        health_port: Annotated[
            int | None,
            typer.Option(help="other sources: serve /health and /metrics on 127.0.0.1 here"),
        ] = None,
    ) -> None:
        """Publish one source's normalised events to the RAW stream; keeps its metrics in
        <data dir>/ingest-metrics-<source>.json. Crypto sources (binance, binance-usdm,
        bybit, bybit-spot, all) take --symbols BTCUSDT,ETHUSDT and serve /health, /metrics,
        /latest and /bus-stats on 127.0.0.1:--http-port; so does alpaca-stocks (--symbols
        AAPL,MSFT; ALPACA_API_KEY/ALPACA_SECRET_KEY, or a dry run of heartbeats only)."""
        logging.basicConfig(level=logging.INFO)
        settings = get_settings()
        settings.check_secrets()
        IdBridge(settings.id_bridge_mode, settings.id_overrides)  # bad ones fail before servers
        if source in CRYPTO_SOURCES or source == ALPACA_STOCKS:
            run_crypto(source, symbols or [], ws_url, http_port, md_subjects, settings)
            return
        built = build_source(
            source, paths=path or [], dataset=dataset, schemas=schema or [],
            symbols=symbols or [], speed=speed, seed=seed, minutes=minutes, settings=settings,
            start=start, end=end, books=books,
        )  # fmt: skip
        config = IngestConfig(
            run_id=settings.run_id, reconnect=source in LIVE_SOURCES,
            id_bridge_mode=settings.id_bridge_mode, id_overrides=settings.id_overrides,
            id_overrides_poll_s=settings.id_overrides_poll_s,
        )  # fmt: skip
        metrics_path = settings.data_dir.resolve() / METRICS_FILE.format(source=built.name)
        shown = Meter("ingest", "events") if source in ONE_SHOT_SOURCES else nullcontext()
        with Stack(settings, needs=("nats",)) as stack, shown as meter:
            asyncio.run(
                run_ingest(built, stack.url("nats"), config, metrics_path, meter, health_port,
                           partitions=settings.partitions)
            )  # fmt: skip
