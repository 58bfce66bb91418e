//! The canonical text of an attribute value, which rule conditions match against:
//! strings as they are, integers in decimal, booleans `true`/`false`, doubles as
//! ECMAScript's `Number.prototype.toString` writes them (ECMA-262, Number::toString with
//! radix 10). Written into a buffer on the stack: no allocation.
//!
//! The double layout, with `d1…dk` the shortest decimal digits that read back as the
//! same double (the digit string closest to the exact value when several are shortest)
//! and `n` the decimal exponent such that the value is `0.d1…dk × 10^n`:
//! - `NaN`, `Infinity`, `-Infinity`; both zeros are `0`; negative values get `-`;
//! - `k <= n <= 21`: the digits, then `n - k` zeros (`100`, `123`);
//! - `0 < n <= 21`: the first `n` digits, `.`, the rest (`1.5`, `123.456`);
//! - `-6 < n <= 0`: `0.`, `-n` zeros, the digits (`0.5`, `0.000001`);
//! - otherwise: `d1`, then `.` and `d2…dk` if `k > 1`, then `e`, `+` or `-`, and
//!   `|n - 1|` in decimal (`1e+21`, `1.5e-7`).

use crate::span::AttributeValue;
use std::fmt::Write as _;

/// Room for the longest canonical text of a non-string value (`-0.00000` plus 17 digits
/// is 25 bytes; an `i64` is at most 20).
const CAPACITY: usize = 32;

/// A stack buffer holding one canonical text.
#[derive(Debug, Clone)]
pub struct CanonicalBuf {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl Default for CanonicalBuf {
    fn default() -> Self {
        Self {
            bytes: [0; CAPACITY],
            len: 0,
        }
    }
}

impl CanonicalBuf {
    fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn push(&mut self, byte: u8) {
        if self.len < CAPACITY {
            self.bytes[self.len] = byte;
            self.len += 1;
        }
    }

    fn push_str(&mut self, text: &str) {
        for &byte in text.as_bytes() {
            self.push(byte);
        }
    }
}

impl std::fmt::Write for CanonicalBuf {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        if self.len + text.len() > CAPACITY {
            return Err(std::fmt::Error);
        }
        self.push_str(text);
        Ok(())
    }
}

/// The canonical text of `value`; non-string values are written into `buf`.
pub fn canonical_text<'v>(value: &AttributeValue<'v>, buf: &'v mut CanonicalBuf) -> &'v str {
    buf.len = 0;
    match *value {
        AttributeValue::Str(text) => text,
        AttributeValue::Bool(true) => "true",
        AttributeValue::Bool(false) => "false",
        AttributeValue::Int(number) => {
            // An i64 has at most 20 characters: the write cannot fail.
            let _ = write!(buf, "{number}");
            buf.as_str()
        }
        AttributeValue::Double(number) => {
            write_double(number, buf);
            buf.as_str()
        }
    }
}

/// Writes the canonical text of a double (see the module docs) into `buf`.
fn write_double(value: f64, buf: &mut CanonicalBuf) {
    if value.is_nan() {
        return buf.push_str("NaN");
    }
    if value == 0.0 {
        return buf.push(b'0');
    }
    if value.is_infinite() {
        return buf.push_str(if value > 0.0 { "Infinity" } else { "-Infinity" });
    }
    // Rust's `{:e}` writes the shortest round-trip digits: `d[.ddd]e[-]x`.
    let mut scientific = CanonicalBuf::default();
    if write!(scientific, "{:e}", value.abs()).is_err() {
        return buf.push_str("NaN"); // unreachable: at most 24 bytes
    }
    let text = scientific.as_str();
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits = [0u8; 17];
    let mut k = 0usize;
    for &byte in mantissa.as_bytes() {
        if byte.is_ascii_digit() && k < digits.len() {
            digits[k] = byte;
            k += 1;
        }
    }
    let digits = &digits[..k];
    let n = exponent + 1;
    let k = k as i32;
    if value < 0.0 {
        buf.push(b'-');
    }
    if k <= n && n <= 21 {
        digits.iter().for_each(|&d| buf.push(d));
        (0..n - k).for_each(|_| buf.push(b'0'));
    } else if 0 < n && n <= 21 {
        let (whole, fraction) = digits.split_at(n as usize);
        whole.iter().for_each(|&d| buf.push(d));
        buf.push(b'.');
        fraction.iter().for_each(|&d| buf.push(d));
    } else if -6 < n && n <= 0 {
        buf.push_str("0.");
        (0..-n).for_each(|_| buf.push(b'0'));
        digits.iter().for_each(|&d| buf.push(d));
    } else {
        buf.push(digits[0]);
        if k > 1 {
            buf.push(b'.');
            digits[1..].iter().for_each(|&d| buf.push(d));
        }
        buf.push(b'e');
        buf.push(if n - 1 < 0 { b'-' } else { b'+' });
        let _ = write!(buf, "{}", (n - 1).unsigned_abs());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: AttributeValue<'_>) -> String {
        let mut buf = CanonicalBuf::default();
        canonical_text(&value, &mut buf).to_string()
    }

    #[test]
    fn scalars() {
        assert_eq!(text(AttributeValue::Str("a b")), "a b");
        assert_eq!(text(AttributeValue::Bool(true)), "true");
        assert_eq!(text(AttributeValue::Bool(false)), "false");
        assert_eq!(text(AttributeValue::Int(0)), "0");
        assert_eq!(text(AttributeValue::Int(-42)), "-42");
        assert_eq!(text(AttributeValue::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(text(AttributeValue::Int(i64::MAX)), "9223372036854775807");
    }

    #[test]
    fn doubles_as_ecmascript_writes_them() {
        // Expected values are what `String(x)` gives in JavaScript.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (100.0, "100"),
            (0.1, "0.1"),
            (0.5, "0.5"),
            (1.0 / 3.0, "0.3333333333333333"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.000001, "0.000001"),
            (0.0000001, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (-2.5e-10, "-2.5e-10"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (200.0, "200"),
            (1.7e300, "1.7e+300"),
        ];
        for &(value, expected) in cases {
            assert_eq!(text(AttributeValue::Double(value)), expected, "{value:e}");
        }
    }

    #[test]
    fn doubles_read_back_exactly() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = f64::from_bits(state);
            if !value.is_finite() {
                continue;
            }
            let written = text(AttributeValue::Double(value));
            let read: f64 = written.parse().unwrap();
            assert!(read == value, "{value:e} -> {written}");
        }
    }
}
