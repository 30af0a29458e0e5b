"""A deterministic, seeded synthetic market: OPRA and equity tapes as Databento DBN files with
planted flow events whose truth is written to `labels.jsonl`; the hard profile
(`hard_config`, `flowtape synth --hard`) also writes the true side of every print whose side
is known to `sides.jsonl`."""

from schemas.labels import Label, LabelLeg, LabelMember, PrintSide, read_labels, read_sides
from synth.config import SynthConfig, big_config, hard_config
from synth.session import SyntheticSession, generate_session, write_session

__all__ = [
    "Label",
    "LabelLeg",
    "LabelMember",
    "PrintSide",
    "SynthConfig",
    "SyntheticSession",
    "big_config",
    "generate_session",
    "hard_config",
    "read_labels",
    "read_sides",
    "write_session",
]
