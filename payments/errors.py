"""Refusals of the payment protocol: one error type, a stable code per reason."""

from __future__ import annotations

from schemas.errors import FlowtapeError


class PaymentRefused(FlowtapeError):
    """A credential, voucher or token the server does not accept; `code` says why and
    `status` is the HTTP status the API answers with."""

    code = "payment"

    def __init__(self, message: str, *, code: str, status: int = 402) -> None:
        super().__init__(message, code=code)
        self.status = status


class PaymentUnavailable(FlowtapeError):
    """The chain or the durable store cannot be reached or did not confirm (HTTP 503)."""

    code = "payment_unavailable"
