"""Binance's request signing: HMAC-SHA256 over the exact parameter bytes, a timestamp and a recvWindow."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from fillpath.lab.exchange import errors
from fillpath.lab.exchange.errors import BinanceError


def sign(payload: str, secret: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(raw: str) -> tuple[str, str | None]:
    """``a=1&b=2&signature=ff`` → (``a=1&b=2``, ``ff``): the signed bytes exactly as the client sent them."""
    kept: list[str] = []
    signature: str | None = None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def verify_rest(query: str, body: str, secret: str) -> None:
    """Binance signs the query string followed directly by the body; either may hold the signature."""
    signed_query, sig_q = split_signature(query)
    signed_body, sig_b = split_signature(body)
    signature = sig_q or sig_b
    if signature is None:
        raise errors.mandatory_missing("signature")
    if not hmac.compare_digest(sign(signed_query + signed_body, secret), signature.lower()):
        raise errors.invalid_signature()


def verify_ws_params(params: Mapping[str, str], secret: str) -> None:
    """The WebSocket API signs its params sorted by key, ``signature`` left out."""
    signature = params.get("signature")
    if not signature:
        raise errors.mandatory_missing("signature")
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
    if not hmac.compare_digest(sign(payload, secret), str(signature).lower()):
        raise errors.invalid_signature()


def check_timestamp(params: Mapping[str, str], venue_ms: int) -> None:
    text = params.get("timestamp")
    if not text:
        raise errors.mandatory_missing("timestamp")
    window_text = params.get("recvWindow") or "5000"
    if not text.isdigit() or not window_text.isdigit():
        raise BinanceError(-1100, "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]+$'.")
    timestamp, window = int(text), int(window_text)
    if window > 60000:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    if timestamp >= venue_ms + 1000 or venue_ms - timestamp > window:
        raise errors.outside_recv_window()
