"""Our client order ids, derived from the intent id so a retry after a crash sends the same id again.

``fp<leg>x<digest>``: ``leg`` is the order's index within the intent (an intent may place several orders),
``digest`` is the first 120 bits of BLAKE2b(intent id) in lower-case base32 (24 characters, fixed length, so
the id names its leg unambiguously). The result is 28 to 32 alphanumerics: every venue's alphabet accepts it
(the strictest so far allows 1 to 32 of ``[A-Za-z0-9]``, the loosest up to 36 with ``.:/_-``). The same
(intent, leg) always gives the same id, and a venue refuses a second order with it: that refusal is what makes
resubmission idempotent. Each dialect still checks the id against its own pattern before sending.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fillpath.model.errors import InvalidInput

CLIENT_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
"""What every venue we speak accepts: the intersection of the dialects' client-id alphabets and lengths."""
_MAX_LEG = 99_999


def client_order_id(intent_id: str, leg: int = 0) -> str:
    if not intent_id:
        raise InvalidInput("intent_id", "empty", "give the intent's id")
    if not 0 <= leg <= _MAX_LEG:
        raise InvalidInput("leg", f"{leg} is out of range", f"0..{_MAX_LEG}")
    digest = hashlib.blake2b(intent_id.encode(), digest_size=15).digest()
    text = base64.b32encode(digest).decode().lower()
    return f"fp{leg}x{text}"
