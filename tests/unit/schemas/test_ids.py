import os
import subprocess
import sys

from schemas.ids import make_id, message_id

# Fixed vectors: an ID must never change across processes, hash seeds or versions.
VECTORS = [
    (
        ("flow_packet", "live", 1_700_000_000_000_000_000, 20, 1234, 7),
        "5a89a3f17c21af8b9bcd1c3afffa42bf",
    ),
    (
        ("print_inference", "replay-1", "AAPL  240119C00190000", None, True),
        "adc859d1d8b27a2133174db4066706f3",
    ),
]


def test_ids_match_fixed_vectors() -> None:
    for args, expected in VECTORS:
        assert make_id(*args) == expected


def test_ids_do_not_depend_on_the_hash_seed() -> None:
    code = (
        "from schemas.ids import make_id;"
        "print(make_id('flow_packet', 'live', 1_700_000_000_000_000_000, 20, 1234, 7))"
    )
    outputs = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(result.stdout.strip())
    assert outputs == {VECTORS[0][1]}


def test_run_id_changes_the_id() -> None:
    assert make_id("flow_packet", "live", 1) != make_id("flow_packet", "replay", 1)


def test_field_boundaries_matter() -> None:
    assert make_id("k", "r", "ab", "c") != make_id("k", "r", "a", "bc")


def test_message_id_is_content_addressed() -> None:
    assert message_id(b"abc") == message_id(b"abc") != message_id(b"abd")
    assert len(message_id(b"abc")) == 32


def test_id_is_blake2b_128_of_the_msgpack_array_of_kind_run_and_fields() -> None:
    import hashlib

    # fixarray(3), fixstr "k", fixstr "r", positive fixint 5
    encoded = bytes([0x93, 0xA1]) + b"k" + bytes([0xA1]) + b"r" + bytes([0x05])
    assert make_id("k", "r", 5) == hashlib.blake2b(encoded, digest_size=16).hexdigest()
