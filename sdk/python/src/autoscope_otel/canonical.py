"""The canonical text of an attribute value, which rule conditions match against."""

from __future__ import annotations

import math
from decimal import Decimal


def canonical_text(value: object) -> str | None:
    """Strings as they are, ints in decimal, bools true/false, floats as ECMAScript's
    Number.prototype.toString writes them; None for other types (sequences, bytes),
    which fail every condition."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ecmascript_number(value)
    return None


def ecmascript_number(x: float) -> str:
    """x as ECMA-262 Number::toString (radix 10) writes it."""
    if math.isnan(x):
        return "NaN"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    # repr gives the shortest digits that read back; Decimal splits them exactly.
    _, digit_tuple, exponent = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    k = len(digits)
    n = len(digit_tuple) + exponent  # value = 0.d1...dk x 10^n
    sign = "-" if x < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'-' if n - 1 < 0 else '+'}{abs(n - 1)}"
