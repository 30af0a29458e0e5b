"""One error type for the project; every error carries a stable code."""

from __future__ import annotations


class FlowtapeError(Exception):
    """Base of flowtape's errors: `code` is stable, the message says expected vs found."""

    code = "flowtape"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {super().__str__()}"


class ConfigError(FlowtapeError):
    code = "config"


class ServerError(FlowtapeError):
    code = "server"


class MigrationError(FlowtapeError):
    code = "migration"
