"""The ID bridge's counters as Prometheus text (exposition format 0.0.4), for whichever
service runs it (ingest, market data)."""

from __future__ import annotations

from collections.abc import Iterable

from ingest.bridge.bridge import IdBridge

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


def family(
    lines: list[str], name: str, kind: str, help_text: str, samples: Iterable[Sample]
) -> None:
    """Append one metric family to `lines`: its HELP and TYPE, then a line per sample."""
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    lines.extend(_sample(name, labels, value) for labels, value in samples)


def bridge_families(lines: list[str], bridge: IdBridge) -> None:
    """Append the bridge's families to `lines`: per-source counters, mode, overrides."""
    report = bridge.report()
    lanes = report["sources"]
    for key, counter, text in _LANE_COUNTERS:
        family(
            lines, f"flowtape_id_bridge_{counter}_total", "counter", text,
            [({"source": s, "id_space": lane["idSpace"]}, lane[key])
             for s, lane in lanes.items()],
        )  # fmt: skip
    overrides = report["overrides"]
    family(
        lines, "flowtape_id_bridge_mode", "gauge", "1 for the mode the bridge runs in.",
        [({"mode": report["mode"]}, 1)],
    )  # fmt: skip
    family(
        lines, "flowtape_id_bridge_overrides_active", "gauge", "Overrides in force.",
        [({}, overrides["active"])],
    )  # fmt: skip
    for key, name, text in (
        ("reloads", "reloads", "Overrides file reloads put in force."),
        ("reloadErrors", "reload_errors", "Overrides file reloads that failed (old kept)."),
        ("refusedReloads", "refused_reloads", "Reloads strict mode refused (old kept)."),
    ):
        family(lines, f"flowtape_id_bridge_{name}_total", "counter", text, [({}, overrides[key])])
