"""OKX v5's request signing: base64 HMAC-SHA256 over timestamp + method + requestPath (with its query) + body.

REST headers: ``OK-ACCESS-KEY``, ``OK-ACCESS-SIGN``, ``OK-ACCESS-TIMESTAMP`` (ISO 8601 with milliseconds, UTC),
``OK-ACCESS-PASSPHRASE``; a timestamp more than 30 s from the venue's clock is refused (50102). The private
WebSocket logs in with the same signature over ``timestamp + "GET" + "/users/self/verify"`` (seconds).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from fillpath.lab.exchange.accounts import Account
from fillpath.lab.exchange.okx import errors
from fillpath.lab.exchange.okx.errors import OkxError

WINDOW_MS = 30_000
LOGIN_PATH = "/users/self/verify"


def sign(prehash: str, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


def iso_ms(text: str) -> int | None:
    """``2020-12-08T09:08:57.715Z`` → epoch ms (None when it is not such a timestamp)."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return int(when.timestamp() * 1000)


def verify_rest(
    headers: Mapping[str, str], method: str, path: str, body: str, accounts: Mapping[str, Account], venue_ms: int
) -> str:
    """The API key of a correctly signed request; otherwise OKX's refusal (HTTP 401)."""
    key = headers.get("OK-ACCESS-KEY", "")
    if not key:
        raise errors.auth("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
    account = accounts.get(key)
    if account is None:
        raise errors.auth("50111", "Invalid OK-ACCESS-KEY.")
    passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
    if not passphrase:
        raise errors.auth("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
    if not hmac.compare_digest(passphrase, account.passphrase):
        raise errors.auth("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
    stamp = headers.get("OK-ACCESS-TIMESTAMP", "")
    if not stamp:
        raise errors.auth("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
    at = iso_ms(stamp)
    if at is None:
        raise errors.auth("50112", "Invalid OK-ACCESS-TIMESTAMP.")
    if abs(venue_ms - at) > WINDOW_MS:
        raise OkxError("50102", "Timestamp request expired.", 401)
    signature = headers.get("OK-ACCESS-SIGN", "")
    if not signature:
        raise errors.auth("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
    if not hmac.compare_digest(sign(stamp + method.upper() + path + body, account.secret), signature):
        raise errors.auth("50113", "Invalid Sign.")
    return key


def verify_login(args: Mapping[str, object], accounts: Mapping[str, Account], venue_ms: int) -> str:
    """The API key of a correct WebSocket login; otherwise ``(code, msg)`` in an :class:`OkxError`."""
    key = str(args.get("apiKey") or "")
    account = accounts.get(key)
    if account is None:
        raise OkxError("60005", "Invalid OK-ACCESS-KEY")
    if not hmac.compare_digest(str(args.get("passphrase") or ""), account.passphrase):
        raise OkxError("60024", "Wrong passphrase")
    stamp = str(args.get("timestamp") or "")
    if not stamp.isdigit():
        raise OkxError("60004", "Invalid timestamp")
    if abs(venue_ms - int(stamp) * 1000) > WINDOW_MS:
        raise OkxError("60006", "Timestamp request expired")
    if not hmac.compare_digest(sign(stamp + "GET" + LOGIN_PATH, account.secret), str(args.get("sign") or "")):
        raise OkxError("60007", "Invalid sign")
    return key
