"""The validation layer every boundary shares: CLI arguments, configuration, snapshot files, venue names, and the
HTTP API's inputs. Pure functions over values (no I/O): each refusal is one ``InvalidInput`` naming the field and
the fix, so a caller at any boundary gets the same message for the same mistake (docs/validation.md).

What lives here is generic: bytes → text, text → JSON within size and nesting limits, names resolved against a
known set with a "did you mean", amounts inside uint256 and a plausible supply, finite bounded numbers. The
snapshot's physical checks (ticks, books, liquidity) are the router's (``router/validate.py``).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from itertools import accumulate
from typing import Any

from fillpath.model.errors import InvalidInput

UINT256_MAX = 2**256 - 1
MAX_SUPPLY_WHOLE = 10**18
"""The largest holding, reserve or order of any asset we accept, in whole units (a quintillion). The largest real
token supplies are near 10**15 whole units; past 10**18 an amount is a typo or an attack, and refusing it keeps
every amount showable, storable and reconcilable in the 160-digit contexts the ledger uses."""
MAX_FILE_BYTES = 256 * 1024 * 1024
"""Snapshot and configuration files larger than this are refused before they are read into memory."""
MAX_JSON_DEPTH = 32
"""Every fillpath JSON format nests at most 6 deep; 32 leaves room and stays far below the interpreter's stack."""
MAX_NAME_CHARS = 200


def decode_utf8(data: bytes, field: str, *, what: str = "the file") -> str:
    """UTF-8 text (a leading BOM is dropped); a byte that is not UTF-8 is named by its offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fix = "save it as UTF-8 text (is it a binary file, or another encoding?)"
        problem = f"{what} is not UTF-8 text (byte {exc.start}: 0x{data[exc.start]:02x})"
        raise InvalidInput(field, problem, fix) from None


def json_depth(text: str) -> int:
    """How deeply ``text`` nests arrays and objects, found without parsing (brackets inside strings excluded), so
    a hostile file never reaches the parser's recursion. Two regex passes in C, then one step per bracket."""
    if "[" not in text and "{" not in text:
        return 0
    bare = _STRINGS.sub("", text) if '"' in text else text
    brackets = _NOT_BRACKET.sub("", bare)
    return max(accumulate(_STEP[c] for c in brackets), default=0)


_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def parse_json(
    text: str,
    field: str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_chars: int = MAX_FILE_BYTES,
    parse_float: Callable[[str], Any] | None = None,
    fix: str = "check the file",
) -> Any:
    """``json.loads`` within limits: too long or too deeply nested is refused before parsing; bad JSON is named
    by line and column. ``NaN`` and ``Infinity`` (which JSON does not have) are refused."""
    if len(text) > max_chars:
        raise InvalidInput(field, f"{len(text):,} characters is more than the limit of {max_chars:,}", fix)
    depth = json_depth(text)
    if depth > max_depth:
        raise InvalidInput(field, f"nested {depth} deep, more than the limit of {max_depth}", fix)

    def no_constant(name: str) -> Any:
        raise InvalidInput(field, f"{name} is not a JSON number", "write amounts as strings of digits")

    try:
        return json.loads(text, parse_float=parse_float, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", fix) from None
    except RecursionError:  # the depth check should have stopped it; never let it through as a crash
        raise InvalidInput(field, "nested too deeply", fix) from None


def suggest(text: str, known: Iterable[str], *, n: int = 3) -> list[str]:
    """The known names closest to ``text``: a different case first, then difflib's near misses."""
    names = list(dict.fromkeys(known))
    folded = [k for k in names if k.lower() == text.lower() and k != text]
    if folded:  # LABEX for labex: the one meant, nothing else
        return folded[:n]
    close = difflib.get_close_matches(text, names, n=n, cutoff=0.6)
    close += difflib.get_close_matches(text.lower(), [k.lower() for k in names], n=n, cutoff=0.6)
    by_lower = {k.lower(): k for k in names}
    out = [by_lower.get(c, c) for c in close]
    return list(dict.fromkeys(c for c in out if c in names))[:n]


def did_you_mean(text: str, known: Iterable[str], *, listing: int = 8) -> str:
    """A fix for an unknown name: ``did you mean 'labex'?`` or, without a near miss, the names there are."""
    names = sorted(dict.fromkeys(known))
    close = suggest(text, names)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    if not names:
        return "none is configured"
    shown = ", ".join(names[:listing]) + (f", … ({len(names)} in all)" if len(names) > listing else "")
    return f"known: {shown}"


def resolve_name(text: str, known: Iterable[str], field: str, *, what: str = "name") -> str:
    """``text`` if it is one of ``known`` (exactly: names are case-sensitive), else ``InvalidInput`` with a
    "did you mean" for a near miss. A typo must never name something that does not exist and pass."""
    names = list(known)
    if text in names:
        return text
    shown = text if len(text) <= 60 else text[:57] + "..."
    if not text.strip():
        raise InvalidInput(field, f"an empty {what}", did_you_mean("", names))
    if len(text) > MAX_NAME_CHARS:
        raise InvalidInput(field, f"{len(text)} characters is too long for a {what}", did_you_mean("", names))
    raise InvalidInput(field, f"{shown!r} is not a known {what}", did_you_mean(text, names))


def plausible_max(decimals: int) -> int:
    """The largest base-unit amount accepted for an asset of ``decimals``: ``MAX_SUPPLY_WHOLE`` whole units,
    capped at uint256."""
    whole: int = MAX_SUPPLY_WHOLE * 10**decimals
    return min(UINT256_MAX, whole)


def check_units(units: int, field: str, *, decimals: int | None = None, signed: bool = False) -> int:
    """A base-unit amount: inside uint256 (int256 when ``signed``) and, when the asset's decimals are known,
    at most ``MAX_SUPPLY_WHOLE`` whole units."""
    low = -(2**255) if signed else 0
    high = 2**255 - 1 if signed else UINT256_MAX
    if not low <= units <= high:
        kind = "int256" if signed else "uint256"
        raise InvalidInput(field, f"{short(units)} is outside {kind}", "check the amount (base units)")
    if decimals is not None and abs(units) > plausible_max(decimals):
        raise InvalidInput(
            field,
            f"more than {MAX_SUPPLY_WHOLE:.0e} whole units, more than any real supply",
            "check the amount and its unit (base units vs human units)",
        )
    return units


def short(value: object, limit: int = 40) -> str:
    """A value for a one-line message: a 5,000-digit amount is shown by its magnitude, not in full."""
    text = str(value)
    if len(text) <= limit:
        return text
    if isinstance(value, int | Decimal):
        return f"{Decimal(value):.3e}"
    return text[: limit - 3] + "..."


def check_human(amount: Decimal, field: str, *, allow_zero: bool = True) -> Decimal:
    """A human-unit amount: finite, not negative, at most ``MAX_SUPPLY_WHOLE``."""
    if not amount.is_finite():
        raise InvalidInput(field, f"{amount} is not a finite number", "give a plain decimal such as 1500")
    if amount < 0 or (amount == 0 and not allow_zero):
        what = "negative" if amount < 0 else "zero"
        raise InvalidInput(field, f"{short(amount)} is {what}", "give a positive amount")
    if amount > MAX_SUPPLY_WHOLE:
        problem = f"{short(amount)} is more than {MAX_SUPPLY_WHOLE:.0e} whole units, more than any real supply"
        raise InvalidInput(field, problem, "check it")
    return amount


def bounded_number(value: float | int | str, field: str, *, low: float, high: float, unit: str = "") -> float:
    """A finite number in [low, high] (``--listen``, intervals): NaN and infinity are refused, a hang is not a
    setting."""
    try:
        number = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        raise InvalidInput(field, f"{value!r} is not a number", f"give a number from {low:g} to {high:g}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(field, f"{value} is out of range", f"give a number from {low:g} to {high:g}{unit}")
    return number


def bounded_int(value: int, field: str, *, low: int, high: int) -> int:
    """A count in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(field, f"{value!r} is out of range", f"give a whole number from {low} to {high}")
    return value
