"""API keys: created, listed, revoked and verified, kept hashed in a file under the data dir.

A key reads `ftk_<id>_<secret>`: the id finds its record, the secret is checked against the
record's scrypt hash with a per-key salt, in constant time. The file (`api_keys.json`, mode
0600) is rewritten whole under a lock and swapped in atomically, so the API, which re-reads
it whenever it changed on disk, sees a revocation on its next request, from any process.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from infra.files import write_json_atomically
from schemas.errors import FlowtapeError

SCOPES: tuple[str, ...] = ("read", "replay", "sql", "admin")
KEY_FILE = "api_keys.json"
_PREFIX = "ftk_"
_ID_LENGTH = 12
_KEY_PATTERN = re.compile(rf"^{_PREFIX}([0-9a-f]{{{_ID_LENGTH}}})_([A-Za-z0-9_-]{{20,}})$")
# A key carries 256 random bits, so no work factor makes guessing it harder; scrypt's cost is
# kept to ~10 ms so that every request can afford a verification (a stolen file still costs
# an attacker that per guess, not a plain hash).
_SCRYPT = {"n": 2**12, "r": 8, "p": 1}
_RATE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


class KeyStoreError(FlowtapeError):
    """A key command was given something the key store cannot take."""

    code = "keys"


class UnknownKey(KeyStoreError):
    code = "unknown_key"


@dataclass(frozen=True)
class Rate:
    """Requests allowed per period, e.g. `10/s`, `600/m`, `1000/h`."""

    count: int
    period_s: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, unit = text.strip().partition("/")
        if not count.isdigit() or int(count) < 1 or unit not in _RATE_UNITS:
            raise KeyStoreError(f"rate: expected N/s, N/m or N/h with N >= 1, got {text!r}")
        return cls(int(count), _RATE_UNITS[unit])

    @property
    def per_second(self) -> float:
        return self.count / self.period_s

    def __str__(self) -> str:
        unit = next(u for u, s in _RATE_UNITS.items() if s == self.period_s)
        return f"{self.count}/{unit}"


@dataclass(frozen=True)
class ApiKey:
    """A key's record: everything but the secret, which is kept only as a salted hash."""

    key_id: str
    name: str
    scopes: tuple[str, ...]
    rate: str  # "" = the API's default rate
    created_ns: int
    revoked_ns: int | None
    salt: str
    digest: str

    @property
    def revoked(self) -> bool:
        return self.revoked_ns is not None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def public(self) -> dict[str, object]:
        """The record without its salt and digest, for listings."""
        return {k: v for k, v in asdict(self).items() if k not in ("salt", "digest")}


def _digest(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)


def _check_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise KeyStoreError(f"scopes: expected one or more of {list(SCOPES)}, got {scopes}")
    return tuple(s for s in SCOPES if s in scopes)


class KeyStore:
    """The API keys of one data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / KEY_FILE
        self._seen: tuple[int, int, int] | None = None
        self._records: dict[str, ApiKey] = {}

    def create(self, scopes: list[str], *, name: str = "", rate: str = "") -> tuple[ApiKey, str]:
        """A new key's record and its text; the text is shown once and stored nowhere."""
        checked = _check_scopes(scopes)
        rate_text = str(Rate.parse(rate)) if rate else ""
        key_id, secret = secrets.token_hex(_ID_LENGTH // 2), secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        record = ApiKey(
            key_id=key_id, name=name, scopes=checked, rate=rate_text, created_ns=time.time_ns(),
            revoked_ns=None, salt=salt.hex(), digest=_digest(secret, salt).hex(),
        )  # fmt: skip
        with self._editing() as records:
            records[key_id] = record
        return record, f"{_PREFIX}{key_id}_{secret}"

    def revoke(self, key_id: str) -> ApiKey:
        with self._editing() as records:
            if key_id not in records:
                raise UnknownKey(f"no API key {key_id!r}; `flowtape keys list` shows them")
            if not records[key_id].revoked:
                records[key_id] = replace(records[key_id], revoked_ns=time.time_ns())
            return records[key_id]

    def list(self) -> list[ApiKey]:
        return sorted(self._current().values(), key=lambda k: k.created_ns)

    def verify(self, text: str) -> ApiKey | None:
        """The record of a valid, unrevoked key, else None."""
        match = _KEY_PATTERN.match(text)
        if match is None:
            return None
        key_id, secret = match.groups()
        record = self._current().get(key_id)
        if record is None or record.revoked:
            return None
        presented = _digest(secret, bytes.fromhex(record.salt))
        return record if hmac.compare_digest(presented, bytes.fromhex(record.digest)) else None

    def active(self, key_id: str) -> bool:
        """Whether a key verified earlier is still unrevoked (as the file says now)."""
        record = self._current().get(key_id)
        return record is not None and not record.revoked

    def _current(self) -> dict[str, ApiKey]:
        """The records as the file holds them now, re-read only when it was replaced."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._seen, self._records = None, {}
            return self._records
        seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._records, self._seen = self._read(), seen
        return self._records

    def _read(self) -> dict[str, ApiKey]:
        try:
            raw = json.loads(self.path.read_text())
            return {r["key_id"]: ApiKey(**{**r, "scopes": tuple(r["scopes"])}) for r in raw}
        except FileNotFoundError:
            return {}
        except (ValueError, TypeError, KeyError) as exc:
            raise KeyStoreError(f"{self.path} is not a key file: {exc}") from exc

    @contextlib.contextmanager
    def _editing(self) -> Iterator[dict[str, ApiKey]]:
        """The records under an exclusive lock; written back atomically when the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_suffix(".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            records = self._read()
            yield records
            write_json_atomically(
                self.path, [asdict(r) for r in records.values()], indent=1, mode=0o600
            )
