"""Consistent probability sampling as OpenTelemetry specifies it.

A span is kept iff the trace's 56 bits of randomness R reach the rule's rejection
threshold T, so every service and SDK keeps or drops a trace alike; T is recorded as
``th`` in the ``ot`` tracestate entry. The exact rules are conformance/README.md,
sections 2 to 4.
"""

from __future__ import annotations

import math

RANDOMNESS_BITS = 56
NEVER = 1 << RANDOMNESS_BITS
"""2^56: the threshold that keeps nothing."""
_MASK_56 = NEVER - 1
_MASK_64 = (1 << 64) - 1
_HEX_DIGITS = 14
_ASCII_HEX = frozenset(b"0123456789abcdefABCDEF")
_LOWER_HEX = frozenset("0123456789abcdef")


def fnv1a64(data: bytes) -> int:
    """64-bit FNV-1a."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001B3) & _MASK_64
    return value


def fmix64(value: int) -> int:
    """MurmurHash3's 64-bit finalizer."""
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK_64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK_64
    return value ^ (value >> 33)


def _is_ascii_hex(data: bytes) -> bool:
    return all(byte in _ASCII_HEX for byte in data)


def trace_randomness(trace_id: bytes) -> int:
    """R from the trace id bytes alone.

    The low 56 bits of a 16-byte (W3C) or 8-byte id, hex text of either decoded first,
    and a documented hash of any other id.
    """
    if len(trace_id) in (32, 16) and _is_ascii_hex(trace_id):
        trace_id = bytes.fromhex(trace_id.decode("ascii"))
    if len(trace_id) in (16, 8):
        return int.from_bytes(trace_id[-7:], "big")
    return fmix64(fnv1a64(trace_id)) >> (64 - RANDOMNESS_BITS)


def int_trace_randomness(trace_id: int) -> int:
    """R of an SDK trace id (an int of 16 bytes), without building bytes for random ids."""
    # A random id is hex text only if every byte is an ASCII hex digit: test the top
    # byte first, which rules out almost every id.
    if (trace_id >> 120) in _ASCII_HEX:
        return trace_randomness(trace_id.to_bytes(16, "big"))
    return trace_id & _MASK_56


def explicit_rv(ot: str | None) -> int | None:
    """The rv of an ``ot`` tracestate value, or None when absent or malformed.

    Only the first rv part counts, and it must be exactly 14 lowercase hex digits.
    """
    if not ot or "rv:" not in ot:  # the common th-only value, without splitting
        return None
    for part in ot.split(";"):
        key, found, value = part.partition(":")
        if not found or key != "rv":
            continue
        if len(value) == _HEX_DIGITS and all(c in _LOWER_HEX for c in value):
            return int(value, 16)
        return None
    return None


def ot_value(header: str) -> str | None:
    """The value of the first member keyed ``ot`` of a W3C tracestate header."""
    for member in header.split(","):
        key, found, value = member.strip(" \t").partition("=")
        if found and key == "ot":
            return value
    return None


def threshold(rate: float) -> int:
    """T of a sample rate: (1 - p) * 2^56 in binary64, rounded half up, clamped."""
    x = (1.0 - rate) * float(NEVER)
    if math.isnan(x) or x >= NEVER:
        return NEVER
    if x <= 0:
        return 0
    floor = math.floor(x)
    t = floor + 1 if x - floor >= 0.5 else floor
    return min(int(t), NEVER)


def adjusted_count(t: int) -> float:
    """How many spans a span kept at threshold t stands for."""
    if t >= NEVER:
        return 0.0
    return float(NEVER) / float(NEVER - t)


def encode_th(t: int) -> str | None:
    """T as OpenTelemetry's th value (trailing zeros removed); None for 2^56."""
    if t >= NEVER:
        return None
    return f"{t:014x}".rstrip("0") or "0"
