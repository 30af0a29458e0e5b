"""Subscribers: the filter (symbols, minimum severity, rules) and the file's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.subscribers import Subscriber, load_subscribers
from schemas.errors import ConfigError
from tests.kit.derived import alert

FILE = """
[[subscriber]]
name = "desk"
url = "https://hooks.example.com/desk"
secret_env = "DESK_SECRET"
symbols = ["SPY", "QQQ"]
min_severity = 3
rules = ["sweep", "block"]

[[subscriber]]
name = "all"
url = "http://127.0.0.1:9000/hook"
secret_env = "ALL_SECRET"
"""


def test_the_file_gives_each_subscriber_its_filter_and_secret(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(FILE)
    environ = {"DESK_SECRET": "d-key-7f3a", "ALL_SECRET": "a"}
    desk, everyone = load_subscribers(tmp_path / "s.toml", environ)
    assert (desk.symbols, desk.min_severity, desk.rules) == (
        frozenset({"SPY", "QQQ"}), 3, frozenset({"sweep", "block"}),
    )  # fmt: skip
    assert (desk.secret, everyone.secret) == (b"d-key-7f3a", b"a")
    assert (everyone.symbols, everyone.min_severity, everyone.rules) == (
        frozenset(),
        1,
        frozenset(),
    )
    assert "d-key-7f3a" not in repr(desk) + str(desk)


@pytest.mark.parametrize(
    ("fields", "wanted"),
    [
        ({"underlying": "SPY", "severity": 3, "rules": ["sweep"]}, True),
        ({"underlying": "AAPL", "severity": 5, "rules": ["sweep"]}, False),  # symbol
        ({"underlying": "SPY", "severity": 2, "rules": ["sweep"]}, False),  # severity
        ({"underlying": "QQQ", "severity": 4, "rules": ["repeat", "block"]}, True),  # any rule
        ({"underlying": "QQQ", "severity": 4, "rules": ["repeat"]}, False),  # rules
    ],
)
def test_the_filter(fields: dict[str, object], wanted: bool) -> None:
    desk = Subscriber("desk", "http://x", b"k", frozenset({"SPY", "QQQ"}), 3,
                      frozenset({"sweep", "block"}))  # fmt: skip
    assert desk.wants(alert(**fields)) is wanted
    assert Subscriber("all", "http://x", b"k").wants(alert(**fields))


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        (FILE, {"DESK_SECRET": "d"}, "ALL_SECRET is not set"),
        (FILE.replace("https://hooks", "ftp://hooks"), {"DESK_SECRET": "d", "ALL_SECRET": "a"},
         "expected an http(s) URL"),
        (FILE.replace("min_severity = 3", "min_severity = 9"),
         {"DESK_SECRET": "d", "ALL_SECRET": "a"}, "min_severity must be 1 to 5"),
        (FILE.replace('name = "all"', 'name = "desk"'), {"DESK_SECRET": "d", "ALL_SECRET": "a"},
         "appears twice"),
        (FILE.replace("rules =", "rulez ="), {}, "rulez"),
        ("[[subscriber]\n", {}, "subscribers file"),
    ],
)  # fmt: skip
def test_a_wrong_file_is_a_config_error_saying_what(
    tmp_path: Path, text: str, environ: dict[str, str], message: str
) -> None:
    (tmp_path / "s.toml").write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_subscribers(tmp_path / "s.toml", environ)
