"""The API key store: hashed records in a file, verified in constant time, revoked at once."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from infra.keys import KeyStore, KeyStoreError, Rate, UnknownKey


def test_a_created_key_verifies_and_its_secret_is_stored_nowhere(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    record, text = store.create(["sql", "read"], name="analyst", rate="10/s")
    assert store.verify(text) == record
    assert record.scopes == ("read", "sql") and record.rate == "10/s"
    on_disk = store.path.read_text()
    secret = text.split("_", 2)[2]  # ftk_<id>_<secret>; the secret may hold "_" itself
    assert len(secret) >= 40 and text not in on_disk and secret not in on_disk
    assert record.digest in on_disk  # the salted hash is what is kept
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_wrong_secret_an_unknown_id_and_garbage_do_not_verify(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    record, text = store.create(["read"])
    other_secret = text[:-4] + ("AAAA" if not text.endswith("AAAA") else "BBBB")
    assert store.verify(other_secret) is None
    assert store.verify(text.replace(record.key_id, "0" * 12)) is None
    for garbage in ("", "ftk_", "Bearer x", text + " ", "x" * 200):
        assert store.verify(garbage) is None


def test_a_revocation_by_another_store_on_the_same_file_is_seen_at_once(tmp_path: Path) -> None:
    api_side, cli_side = KeyStore(tmp_path), KeyStore(tmp_path)
    record, text = cli_side.create(["read"])
    assert api_side.verify(text) is not None and api_side.active(record.key_id)
    cli_side.revoke(record.key_id)
    assert api_side.verify(text) is None and not api_side.active(record.key_id)
    [listed] = api_side.list()
    assert listed.revoked and "digest" not in listed.public()


def test_bad_scopes_rates_and_ids_are_refused_with_codes(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    with pytest.raises(KeyStoreError, match="scopes"):
        store.create(["write"])
    with pytest.raises(KeyStoreError, match="scopes"):
        store.create([])
    with pytest.raises(KeyStoreError, match="rate"):
        store.create(["read"], rate="fast")
    with pytest.raises(UnknownKey) as refused:
        store.revoke("nosuchkey")
    assert refused.value.code == "unknown_key"


def test_rates_read_per_second_minute_and_hour() -> None:
    assert Rate.parse("10/s").per_second == 10
    assert Rate.parse("600/m").per_second == 10
    assert str(Rate.parse("3600/h")) == "3600/h"
    with pytest.raises(KeyStoreError):
        Rate.parse("0/s")


def test_the_file_lists_records_without_secrets(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    store.create(["admin"], name="ops")
    [raw] = json.loads(store.path.read_text())
    assert set(raw) == {"key_id", "name", "scopes", "rate", "created_ns", "revoked_ns", "salt",
                        "digest"}  # fmt: skip
