"""The alpha engine's settings: the seed environment names, and values out of range refused
with a one-line error carrying its code."""

from __future__ import annotations

import msgspec
import pytest

from compute.alpha import AlphaConfig, AlphaConfigError, config_from_settings


def test_sidecar_emit_ms_and_strikes_window_set_their_fields() -> None:
    config = config_from_settings({"SIDECAR_EMIT_MS": "250", "STRIKES_WINDOW": "7", "X": "1"})
    assert (config.emit_ms, config.strikes_window, config.emit_ns) == (250, 7, 250_000_000)
    base = AlphaConfig(roots=("NG",))
    assert config_from_settings({}, base) == base


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SIDECAR_EMIT_MS": "1s"}, "[alpha_config] SIDECAR_EMIT_MS must be an integer, got '1s'"),
        ({"STRIKES_WINDOW": "0"}, "[alpha_config] strikes_window must be > 0, got 0"),
    ],
)
def test_bad_settings_say_what_was_expected(settings: dict[str, str], message: str) -> None:
    with pytest.raises(AlphaConfigError) as caught:
        config_from_settings(settings)
    assert str(caught.value) == message


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(AlphaConfigError, match="rate must be a decimal within"):
        AlphaConfig(rate=5.33)
    with pytest.raises(AlphaConfigError, match="roots must name"):
        AlphaConfig(roots=())
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"emit_ms": 1, "emit_sec": 1}, AlphaConfig)
