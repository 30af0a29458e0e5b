"""An ingest service's `/metrics`: its counters and its ID bridge's, as Prometheus text
(exposition format 0.0.4)."""

from __future__ import annotations

from collections.abc import Iterable

from ingest.service import IngestService

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[dict[str, str], int | float]

# The bridge's per-source counters (ingest.bridge.lane.LaneCounters): report key, metric
# name, help.
_LANE_COUNTERS = (
    ("unmapped", "unmapped", "Events whose id neither the source nor an override maps."),
    ("mismatched", "mismatched", "Events named otherwise than the source maps their id."),
    ("quarantined", "quarantined", "Unmapped or mismatched events put in quarantine."),
    ("shadowPassed", "shadow_passed", "Unmapped or mismatched events passed (shadow mode)."),
    ("renamed", "renamed", "Events an operator's override gave another symbol."),
    ("overridesRefused", "overrides_refused", "Overrides strict mode refused on first sight."),
)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(name: str, labels: dict[str, str], value: int | float) -> str:
    if not labels:
        return f"{name} {value}"
    quoted = ",".join(f'{key}="{_escape(text)}"' for key, text in sorted(labels.items()))
    return f"{name}{{{quoted}}} {value}"


def _family(
    lines: list[str], name: str, kind: str, help_text: str, samples: Iterable[Sample]
) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    lines.extend(_sample(name, labels, value) for labels, value in samples)


def ingest_metrics_text(service: IngestService) -> str:
    """The service's counters and its ID bridge's, one family each."""
    source = service.source.name
    of_source = {"source": source}
    metrics = service.metrics
    lines: list[str] = []
    _family(
        lines, "flowtape_ingest_events_total", "counter", "Events admitted, by type.",
        [({**of_source, "type": kind}, n) for kind, n in sorted(metrics.events.items())],
    )  # fmt: skip
    _family(
        lines, "flowtape_ingest_quarantined_total", "counter", "Quarantined events, by reason.",
        [({**of_source, "reason": r}, n) for r, n in sorted(metrics.quarantine_reasons.items())],
    )  # fmt: skip
    for name, value, text in (
        ("repeats_skipped", metrics.repeats_skipped, "Events skipped as repeats of the log."),
        ("published_messages", metrics.published_messages, "Messages published to RAW."),
        ("publish_failures", metrics.publish_failures, "Failed publish attempts."),
    ):
        _family(lines, f"flowtape_ingest_{name}_total", "counter", text, [(of_source, value)])
    _family(
        lines, "flowtape_ingest_buffered", "gauge", "Events waiting to be published.",
        [(of_source, len(service.buffer))],
    )  # fmt: skip
    bridge = service.bridge.report()
    lanes = bridge["sources"]
    for key, counter, text in _LANE_COUNTERS:
        _family(
            lines, f"flowtape_id_bridge_{counter}_total", "counter", text,
            [({"source": s, "id_space": lane["idSpace"]}, lane[key])
             for s, lane in lanes.items()],
        )  # fmt: skip
    overrides = bridge["overrides"]
    _family(
        lines, "flowtape_id_bridge_mode", "gauge", "1 for the mode the bridge runs in.",
        [({"mode": bridge["mode"]}, 1)],
    )  # fmt: skip
    _family(
        lines, "flowtape_id_bridge_overrides_active", "gauge", "Overrides in force.",
        [({}, overrides["active"])],
    )  # fmt: skip
    for key, name, text in (
        ("reloads", "reloads", "Overrides file reloads put in force."),
        ("reloadErrors", "reload_errors", "Overrides file reloads that failed (old kept)."),
        ("refusedReloads", "refused_reloads", "Reloads strict mode refused (old kept)."),
    ):
        _family(lines, f"flowtape_id_bridge_{name}_total", "counter", text, [({}, overrides[key])])
    return "\n".join(lines) + "\n"
