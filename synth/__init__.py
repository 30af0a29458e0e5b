"""A deterministic, seeded synthetic market: OPRA and equity tapes as Databento DBN files with
planted flow events whose truth is written to `labels.jsonl`."""

from schemas.labels import Label, LabelLeg, LabelMember, read_labels
from synth.config import SynthConfig, big_config
from synth.session import SyntheticSession, generate_session, write_session

__all__ = [
    "Label",
    "LabelLeg",
    "LabelMember",
    "SynthConfig",
    "SyntheticSession",
    "big_config",
    "generate_session",
    "read_labels",
    "write_session",
]
