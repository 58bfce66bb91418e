//! Shared pieces of the JSON readers and writers: hex ids, integers that may be
//! written as strings, `null` read as the default, and base64.

use base64::Engine as _;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Decodes hex (either case); an odd number of digits is read as if a `0` led.
pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len().div_ceil(2));
    let (head, rest) = if bytes.len() % 2 == 1 {
        (Some(bytes[0]), &bytes[1..])
    } else {
        (None, bytes)
    };
    if let Some(b) = head {
        out.push(digit(b)?);
    }
    for pair in rest.chunks_exact(2) {
        out.push(digit(pair[0])? << 4 | digit(pair[1])?);
    }
    Some(out)
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// Deserializes a hex id (a string, `null` or absent meaning empty).
pub(crate) fn hex_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    struct HexVisitor;
    impl<'de> Visitor<'de> for HexVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a hex id")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            decode_hex(v).ok_or_else(|| E::custom(format!("id {v:?} is not hexadecimal")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
            Ok(Vec::new())
        }
    }
    deserializer.deserialize_any(HexVisitor)
}

macro_rules! flexible_integer {
    ($name:ident, $ty:ty) => {
        /// Deserializes an integer written as a JSON number or a decimal string
        /// (`null` meaning 0).
        pub(crate) fn $name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
            struct IntVisitor;
            impl<'de> Visitor<'de> for IntVisitor {
                type Value = $ty;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(concat!(
                        "an integer (",
                        stringify!($ty),
                        ") as a number or a string"
                    ))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<$ty, E> {
                    <$ty>::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<$ty, E> {
                    <$ty>::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
                }
                fn visit_f64<E: de::Error>(self, v: f64) -> Result<$ty, E> {
                    // Some producers write integers as 1.5e15; accept exact whole values.
                    if v.fract() == 0.0 && v >= <$ty>::MIN as f64 && v <= <$ty>::MAX as f64 {
                        Ok(v as $ty)
                    } else {
                        Err(E::custom(format!("{v} is not an integer in range")))
                    }
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                    v.trim()
                        .parse()
                        .map_err(|_| E::custom(format!("{v:?} is not an integer in range")))
                }
                fn visit_unit<E: de::Error>(self) -> Result<$ty, E> {
                    Ok(0)
                }
            }
            deserializer.deserialize_any(IntVisitor)
        }
    };
}

flexible_integer!(flex_u64, u64);
flexible_integer!(flex_i64, i64);
flexible_integer!(flex_u32, u32);

/// Deserializes `T`, reading `null` as `T::default()`.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Runs `f` on each top-level JSON value of `bytes` (one or several, separated by
/// whitespace as in JSON Lines).
pub(crate) fn for_each_value<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    mut f: impl FnMut(T),
) -> Result<(), serde_json::Error> {
    let stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
    for value in stream {
        f(value?);
    }
    Ok(())
}

/// Formats a double the way JSON writers here do: shortest round-tripping form.
pub(crate) fn double_text(v: f64) -> String {
    if v.is_finite() {
        let mut s = v.to_string();
        if !s.contains(['.', 'e', 'E']) {
            s.push_str(".0");
        }
        s
    } else if v.is_nan() {
        "NaN".to_string()
    } else if v > 0.0 {
        "Infinity".to_string()
    } else {
        "-Infinity".to_string()
    }
}
