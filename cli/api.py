"""`flowtape api`: serve the HTTP API and the web page with uvicorn."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

import typer

from infra.settings import get_settings


def register(app: typer.Typer) -> None:
    """Add the `api` command to the flowtape CLI."""

    @app.command("api")
    def api(
        host: Annotated[
            str | None, typer.Option(help="Interface to listen on (default API_HOST).")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port (default API_PORT).")] = None,
        migrate_schema: Annotated[
            bool,
            typer.Option("--migrate/--no-migrate", help="Apply ClickHouse migrations first."),
        ] = True,
        log_level: Annotated[
            Literal["debug", "info", "warning", "error"],
            typer.Option(help="uvicorn's log level: info logs every request, warning does not."),
        ] = "info",
    ) -> None:
        """REST history, the live tape (WebSocket), playback, read-only SQL, /health,
        /metrics and the web page, until Ctrl-C. OpenAPI docs at /docs."""
        import uvicorn

        from api.app import WS_PROTOCOL, create_app

        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
            )
        settings = get_settings()
        settings.check_secrets()
        host = host or settings.api_host
        settings.check_api_binding(host)
        settings = settings.model_copy(update={"api_host": host})  # the app's auth mode follows
        uvicorn.run(
            create_app(settings, migrate_schema=migrate_schema),
            host=host,
            port=port or settings.api_port,
            log_level=log_level,
            ws=WS_PROTOCOL,
            ws_per_message_deflate=settings.api_ws_deflate,
        )
