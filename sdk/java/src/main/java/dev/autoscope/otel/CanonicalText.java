package dev.autoscope.otel;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * The canonical text of an attribute value that conditions match: strings as they are, ints in
 * decimal, bools {@code true}/{@code false}, doubles as ECMAScript's {@code
 * Number.prototype.toString} writes them.
 */
final class CanonicalText {
    private CanonicalText() {}

    /**
     * The canonical text of a value of a supported type, null for any other (which fails every
     * condition).
     */
    static String of(Object value) {
        if (value instanceof String text) {
            return text;
        }
        if (value instanceof Long number) {
            return Long.toString(number);
        }
        if (value instanceof Boolean flag) {
            return flag ? "true" : "false";
        }
        if (value instanceof Double number) {
            return ofDouble(number);
        }
        return null;
    }

    /** ECMA-262 Number::toString(x) in radix 10. */
    static String ofDouble(double x) {
        if (Double.isNaN(x)) {
            return "NaN";
        }
        if (x == 0.0) {
            return "0";
        }
        if (Double.isInfinite(x)) {
            return x > 0 ? "Infinity" : "-Infinity";
        }
        StringBuilder out = new StringBuilder(24);
        if (x < 0) {
            out.append('-');
            x = -x;
        }
        BigDecimal shortest = shortestDecimal(x);
        String digits = shortest.unscaledValue().toString();
        int end = digits.length();
        while (end > 1 && digits.charAt(end - 1) == '0') {
            end--;
        }
        int k = end;
        // value = 0.d1...dk * 10^n
        int n = digits.length() - shortest.scale();
        digits = digits.substring(0, k);
        if (k <= n && n <= 21) {
            out.append(digits).append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            out.append(digits, 0, n).append('.').append(digits, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.").append("0".repeat(-n)).append(digits);
        } else {
            out.append(digits.charAt(0));
            if (k > 1) {
                out.append('.').append(digits, 1, k);
            }
            int exponent = n - 1;
            out.append('e').append(exponent < 0 ? '-' : '+').append(Math.abs(exponent));
        }
        return out.toString();
    }

    /**
     * The shortest decimal that reads back as {@code x} (positive, finite), the one closest to
     * {@code x} among several of that length. JDK 17's {@code Double.toString} is not always
     * shortest (JDK-4511638), so digits are tried at increasing precision: at each precision the
     * closest reading-back candidate is either the value rounded down or rounded up.
     */
    private static BigDecimal shortestDecimal(double x) {
        BigDecimal exact = new BigDecimal(x);
        for (int precision = 1; precision <= 17; precision++) {
            BigDecimal down = exact.round(new MathContext(precision, RoundingMode.FLOOR));
            BigDecimal up = exact.round(new MathContext(precision, RoundingMode.CEILING));
            boolean downReads = down.doubleValue() == x;
            boolean upReads = up.doubleValue() == x;
            if (downReads && upReads) {
                int compare = exact.subtract(down).compareTo(up.subtract(exact));
                return compare <= 0 ? down : up;
            }
            if (downReads) {
                return down;
            }
            if (upReads) {
                return up;
            }
        }
        return exact.round(MathContext.DECIMAL64);
    }
}
