package dev.autoscope.otel;

import java.nio.charset.StandardCharsets;

/**
 * OpenTelemetry consistent probability sampling as Autoscope applies it: 56-bit randomness from the
 * {@code rv} of the {@code ot} tracestate entry or the trace id, thresholds from rates, and the
 * {@code th} value (conformance/README.md, "The decision (v1)").
 */
public final class Consistent {
    /** Thresholds and randomness have 56 bits. */
    public static final int RANDOMNESS_BITS = 56;

    /** The threshold of rate 0: no randomness reaches it. */
    public static final long NEVER = 1L << RANDOMNESS_BITS;

    private static final int HEX_DIGITS = 14;
    private static final double TWO_TO_56 = 72057594037927936.0;

    /** {@link #randomnessFromOt} result when the {@code ot} value has no valid {@code rv}. */
    static final long NO_RV = -1L;

    private Consistent() {}

    /**
     * The threshold of a keep rate: {@code round((1 - rate) * 2^56)}, halves up, clamped to [0,
     * 2^56].
     */
    public static long threshold(double rate) {
        double x = (1.0 - rate) * TWO_TO_56;
        if (!(x > 0.0)) {
            return 0L;
        }
        if (x >= TWO_TO_56) {
            return NEVER;
        }
        double floor = Math.floor(x);
        long threshold = (long) floor + (x - floor >= 0.5 ? 1 : 0);
        return Math.min(Math.max(threshold, 0L), NEVER);
    }

    /**
     * {@code th} for a threshold: 14 lowercase hex digits, trailing zeros removed; null for 2^56.
     */
    public static String encodeTh(long threshold) {
        if (threshold >= NEVER) {
            return null;
        }
        if (threshold == 0) {
            return "0";
        }
        String digits = hex14(threshold);
        int end = digits.length();
        while (digits.charAt(end - 1) == '0') {
            end--;
        }
        return digits.substring(0, end);
    }

    /**
     * A threshold or randomness as exactly 14 lowercase hex digits ({@code 100000000000000} for
     * 2^56).
     */
    public static String hex14(long value) {
        String hex = Long.toHexString(value);
        return hex.length() >= HEX_DIGITS ? hex : "0".repeat(HEX_DIGITS - hex.length()) + hex;
    }

    /** Adjusted count of a span kept at this threshold: {@code 2^56 / (2^56 - T)}. */
    public static double adjustedCount(long threshold) {
        return TWO_TO_56 / (double) (NEVER - threshold);
    }

    /**
     * Randomness of a span: the valid {@code rv} of the tracestate's {@code ot} entry, else from
     * the trace id bytes.
     */
    public static long randomness(byte[] traceId, String traceState) {
        String ot = traceState == null || traceState.isEmpty() ? null : otValue(traceState);
        long rv = ot == null ? NO_RV : randomnessFromOt(ot);
        return rv != NO_RV ? rv : traceIdRandomness(traceId);
    }

    /**
     * The value of the first {@code ot} member of a W3C tracestate header (members split at {@code
     * ,}, trimmed of spaces and tabs, key and value split at the first {@code =}); null when there
     * is none.
     */
    public static String otValue(String traceState) {
        int start = 0;
        while (start <= traceState.length()) {
            int comma = traceState.indexOf(',', start);
            int end = comma < 0 ? traceState.length() : comma;
            int from = start;
            int to = end;
            while (from < to && isBlank(traceState.charAt(from))) {
                from++;
            }
            while (to > from && isBlank(traceState.charAt(to - 1))) {
                to--;
            }
            int equals = traceState.indexOf('=', from);
            if (equals >= 0
                    && equals < to
                    && traceState.startsWith("ot", from)
                    && equals == from + 2) {
                return traceState.substring(equals + 1, to);
            }
            if (comma < 0) {
                break;
            }
            start = comma + 1;
        }
        return null;
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    /**
     * The randomness in the first {@code rv} part of an {@code ot} value (parts split at {@code ;},
     * key and value at the first {@code :}), or {@link #NO_RV} when absent or malformed (anything
     * but exactly 14 lowercase hex digits).
     */
    static long randomnessFromOt(String ot) {
        int start = 0;
        int length = ot.length();
        while (start <= length) {
            int semicolon = ot.indexOf(';', start);
            int end = semicolon < 0 ? length : semicolon;
            int colon = ot.indexOf(':', start);
            if (colon >= 0 && colon < end && colon == start + 2 && ot.startsWith("rv", start)) {
                return end - colon - 1 == HEX_DIGITS ? parseLowerHex(ot, colon + 1, end) : NO_RV;
            }
            if (semicolon < 0) {
                break;
            }
            start = semicolon + 1;
        }
        return NO_RV;
    }

    /** Lowercase hex digits {@code [from, to)} of {@code text} as a number; NO_RV if any is not. */
    private static long parseLowerHex(CharSequence text, int from, int to) {
        long value = 0;
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            int nibble;
            if (c >= '0' && c <= '9') {
                nibble = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                nibble = c - 'a' + 10;
            } else {
                return NO_RV;
            }
            value = (value << 4) | nibble;
        }
        return value;
    }

    /**
     * Randomness of a W3C trace id in OpenTelemetry's lowercase hex form (32 digits): its low 56
     * bits. Other forms go through {@link #traceIdRandomness(byte[])}.
     */
    public static long traceIdRandomness(String traceIdHex) {
        if (traceIdHex.length() == 32) {
            long value = parseLowerHex(traceIdHex, 32 - HEX_DIGITS, 32);
            if (value != NO_RV) {
                return value;
            }
        }
        return traceIdRandomness(traceIdHex.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Randomness of trace id bytes: 32 or 16 ASCII hex digits are decoded first; then 16 bytes give
     * their last 7, 8 bytes their last 7; any other id a hash ({@code fmix64(fnv1a64(B)) >>> 8}).
     */
    public static long traceIdRandomness(byte[] traceId) {
        byte[] bytes = traceId;
        if ((bytes.length == 32 || bytes.length == 16) && allHex(bytes)) {
            bytes = decodeHex(bytes);
        }
        if (bytes.length == 16 || bytes.length == 8) {
            long value = 0;
            for (int i = bytes.length - 7; i < bytes.length; i++) {
                value = (value << 8) | (bytes[i] & 0xff);
            }
            return value;
        }
        return fmix64(fnv1a64(bytes)) >>> (64 - RANDOMNESS_BITS);
    }

    private static boolean allHex(byte[] bytes) {
        for (byte b : bytes) {
            if (Character.digit(b, 16) < 0 || b < 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] decodeHex(byte[] digits) {
        byte[] out = new byte[digits.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] =
                    (byte)
                            ((Character.digit(digits[2 * i], 16) << 4)
                                    | Character.digit(digits[2 * i + 1], 16));
        }
        return out;
    }

    /** 64-bit FNV-1a. */
    static long fnv1a64(byte[] bytes) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : bytes) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** MurmurHash3's 64-bit finalizer. */
    static long fmix64(long hash) {
        hash ^= hash >>> 33;
        hash *= 0xff51afd7ed558ccdL;
        hash ^= hash >>> 33;
        hash *= 0xc4ceb9fe1a85ec53L;
        return hash ^ (hash >>> 33);
    }
}
