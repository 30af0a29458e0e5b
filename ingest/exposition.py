"""An ingest service's `/metrics`: its counters and its ID bridge's, as Prometheus text."""

from __future__ import annotations

from ingest.bridge.exposition import CONTENT_TYPE, bridge_families, family
from ingest.service import IngestService

__all__ = ["CONTENT_TYPE", "ingest_metrics_text"]


def ingest_metrics_text(service: IngestService) -> str:
    """The service's counters and its ID bridge's, one family each."""
    source = service.source.name
    of_source = {"source": source}
    metrics = service.metrics
    lines: list[str] = []
    family(
        lines, "flowtape_ingest_events_total", "counter", "Events admitted, by type.",
        [({**of_source, "type": kind}, n) for kind, n in sorted(metrics.events.items())],
    )  # fmt: skip
    family(
        lines, "flowtape_ingest_quarantined_total", "counter", "Quarantined events, by reason.",
        [({**of_source, "reason": r}, n) for r, n in sorted(metrics.quarantine_reasons.items())],
    )  # fmt: skip
    for name, value, text in (
        ("repeats_skipped", metrics.repeats_skipped, "Events skipped as repeats of the log."),
        ("published_messages", metrics.published_messages, "Messages published to RAW."),
        ("publish_failures", metrics.publish_failures, "Failed publish attempts."),
    ):
        family(lines, f"flowtape_ingest_{name}_total", "counter", text, [(of_source, value)])
    family(
        lines, "flowtape_ingest_buffered", "gauge", "Events waiting to be published.",
        [(of_source, len(service.buffer))],
    )  # fmt: skip
    bridge_families(lines, service.bridge)
    return "\n".join(lines) + "\n"
