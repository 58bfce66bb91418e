//! Consistent probability sampling as OpenTelemetry specifies it: the decision is a
//! function of the trace's 56 bits of randomness, so every service, replica and SDK keeps
//! or drops a trace alike, a trace kept at rate `p` is kept at every rate `q > p`, and
//! Autoscope's decisions nest with OpenTelemetry's consistent probability samplers
//! upstream and downstream.
//!
//! Specification: OpenTelemetry, "TraceState: Probability Sampling"
//! (<https://opentelemetry.io/docs/specs/otel/trace/tracestate-probability-sampling/>):
//! every participant reads the same randomness `R` (the explicit `rv` of the `ot`
//! tracestate entry, else the trailing 7 bytes = low 56 bits of the W3C trace id), a
//! sampling probability `p` becomes a rejection threshold `T` in `[0, 2^56]`, and a span
//! is kept iff `R >= T`; the threshold is recorded as `th` in the `ot` entry, written as
//! up to 14 lowercase hex digits with trailing zeros removed (`th:0` is 100%).
//! "TraceState Handling" (<https://opentelemetry.io/docs/specs/otel/trace/tracestate-handling/>)
//! defines the `ot` entry (`ot=th:…;rv:…`, `;`-separated `key:value` pairs) and `rv` as
//! exactly 14 lowercase hex digits.
//!
//! The exact rules, so that the Java, Python and Go samplers decide alike (the
//! conformance vectors in `conformance/` hold them to it):
//!
//! **Randomness `R`** ([`randomness`]):
//! 1. the tracestate (W3C syntax: members separated by `,`, each trimmed of spaces and
//!    tabs, empty members skipped, key and value split at the first `=`) has a member
//!    with key `ot`; in the first such member's value (parts separated by `;`, key and
//!    value split at the first `:`) the first part with key `rv` has a value of exactly
//!    14 characters in `[0-9a-f]`: `R` is that value read as hex. An `rv` of any other
//!    form is *malformed*: it is ignored (and counted, [`Randomness::malformed_rv`]),
//!    and `R` comes from the trace id as if there were no `rv`;
//! 2. else from the trace id bytes `B` ([`trace_randomness`]):
//!    - `B` is 32 bytes, each an ASCII hex digit (`[0-9a-fA-F]`): `B` is replaced by its
//!      16 decoded bytes (ids that trace files write as hex text);
//!    - else `B` is 16 bytes, each an ASCII hex digit: `B` is replaced by its 8 decoded
//!      bytes (64-bit ids written as hex text);
//!    - then if `B` is 16 bytes (W3C / OTLP): `R` is the big-endian value of its last 7
//!      bytes, `B[9..16]`;
//!    - if `B` is 8 bytes (Jaeger / Zipkin 64-bit ids), read as zero-padded on the left
//!      to 16: `R` is the big-endian value of `B[1..8]`;
//!    - any other id (SkyWalking's `a.b.c` text ids, research CSVs' names, the empty id)
//!      is hashed: `R = fmix64(fnv1a64(B)) >> 8`, with 64-bit FNV-1a (offset basis
//!      `0xcbf29ce484222325`, prime `0x100000001b3`) and MurmurHash3's 64-bit finalizer.
//!
//!    A binary 16-byte id whose bytes all happen to be ASCII hex digits is read as hex
//!    text; for a random id that has probability (22/256)^16 ≈ 2·10^-17.
//!
//! **Threshold of a rate `p`** ([`threshold`]): `x = (1.0 - p) * 2^56` evaluated in IEEE
//! 754 binary64 (one subtraction, then an exact scaling by a power of two), `T =
//! floor(x)`, plus 1 if `x - floor(x) >= 0.5` (half rounds up; the fraction is exact in
//! binary64), clamped to `[0, 2^56]`. (For a rate in `[0, 1]`, `1.0 - p` is a multiple of
//! 2^-53, so `x` is a whole multiple of 8 and the rounding step never changes anything;
//! it is part of the definition for completeness.) A NaN rate counts as 0 (`T = 2^56`). `T = 2^56`
//! keeps nothing; `T = 0` keeps everything. A `keep` action has `T = 0`.
//!
//! **Decision**: keep iff `R >= T`.
//!
//! **`th`** ([`encode_th`]): `T` as exactly 14 lowercase hex digits, trailing zeros
//! removed; `0` for `T = 0`; none for `T = 2^56` (nothing is kept at that threshold).
//!
//! **Adjusted count** ([`adjusted_count`]) of a span kept at threshold `T`:
//! `2^56 / (2^56 - T)` in binary64 (the difference converted to binary64 with
//! round-to-nearest-even, then one division): the inverse of the probability the
//! threshold really applies, which is also what a downstream reader of `th` computes.

/// Bits of randomness per trace.
pub const RANDOMNESS_BITS: u32 = 56;

/// `2^56`: the threshold that rejects everything.
pub const NEVER: u64 = 1 << RANDOMNESS_BITS;

/// Hex digits of a full `rv` or `th` value.
pub const HEX_DIGITS: usize = 14;

/// 64-bit FNV-1a of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// MurmurHash3's 64-bit finalizer.
pub fn fmix64(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// The documented hash of an id that is not a W3C or 64-bit id:
/// `fmix64(fnv1a64(bytes)) >> 8`.
pub fn hashed_randomness(bytes: &[u8]) -> u64 {
    fmix64(fnv1a64(bytes)) >> (64 - RANDOMNESS_BITS)
}

/// Where a trace's randomness came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RandomnessSource {
    /// The `rv` of the `ot` tracestate entry.
    ExplicitRv,
    /// The low 56 bits of a 16-byte (or zero-padded 8-byte) trace id, possibly decoded
    /// from hex text first.
    TraceIdBits,
    /// The hash of a trace id of another form.
    TraceIdHash,
}

/// A trace's randomness and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Randomness {
    /// `R`, in `[0, 2^56)`.
    pub value: u64,
    /// Its source.
    pub source: RandomnessSource,
    /// The tracestate had an `rv` that was not 14 lowercase hex digits (ignored).
    pub malformed_rv: bool,
}

/// The randomness of a span from its trace id and its W3C tracestate (see the module
/// docs for the exact rules).
pub fn randomness(trace_id: &[u8], trace_state: &str) -> Randomness {
    let ot = if trace_state.is_empty() {
        None
    } else {
        ot_value(trace_state)
    };
    randomness_from_ot(trace_id, ot)
}

/// The randomness of a span from its trace id and the value of its tracestate's first
/// `ot` member (`None`: no such member), for callers (SDKs) whose tracestate type
/// already parsed the members.
pub fn randomness_from_ot(trace_id: &[u8], ot: Option<&str>) -> Randomness {
    let mut malformed_rv = false;
    if let Some(ot) = ot {
        match rv_of_ot(ot) {
            ExplicitRv::Valid(value) => {
                return Randomness {
                    value,
                    source: RandomnessSource::ExplicitRv,
                    malformed_rv: false,
                };
            }
            ExplicitRv::Malformed => malformed_rv = true,
            ExplicitRv::Absent => {}
        }
    }
    let (value, source) = trace_id_randomness(trace_id);
    Randomness {
        value,
        source,
        malformed_rv,
    }
}

/// What a tracestate says about `rv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplicitRv {
    /// No `ot` member, or no `rv` in it.
    Absent,
    /// A well-formed `rv`.
    Valid(u64),
    /// An `rv` that is not exactly 14 characters in `[0-9a-f]`.
    Malformed,
}

/// The `rv` of the first `ot` member of a W3C tracestate.
pub fn explicit_rv(trace_state: &str) -> ExplicitRv {
    match ot_value(trace_state) {
        Some(ot) => rv_of_ot(ot),
        None => ExplicitRv::Absent,
    }
}

/// The `rv` in the value of an `ot` member (`;`-separated `key:value` parts, the first
/// `rv` counts).
pub fn rv_of_ot(ot: &str) -> ExplicitRv {
    for part in ot.split(';') {
        let Some((key, value)) = part.split_once(':') else {
            continue;
        };
        if key != "rv" {
            continue;
        }
        return match parse_lower_hex_56(value.as_bytes()) {
            Some(value) => ExplicitRv::Valid(value),
            None => ExplicitRv::Malformed,
        };
    }
    ExplicitRv::Absent
}

/// The value of the first member keyed `ot` of a W3C tracestate.
pub fn ot_value(trace_state: &str) -> Option<&str> {
    trace_state.split(',').find_map(|member| {
        let member = member.trim_matches(|c| c == ' ' || c == '\t');
        let (key, value) = member.split_once('=')?;
        (key == "ot").then_some(value)
    })
}

/// Exactly 14 lowercase hex digits as a number.
fn parse_lower_hex_56(digits: &[u8]) -> Option<u64> {
    if digits.len() != HEX_DIGITS {
        return None;
    }
    let mut value = 0u64;
    for &digit in digits {
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => return None,
        };
        value = (value << 4) | u64::from(nibble);
    }
    Some(value)
}

/// The value of an ASCII hex digit of either case.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// `HEX_DIGIT_VALUES` of a byte that is not a hex digit (any value with high bits set).
const NOT_HEX: u8 = 0xff;

/// Per byte value: its value as an ASCII hex digit of either case, or `NOT_HEX`.
const HEX_DIGIT_VALUES: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// Decodes hex text of `2 * N` digits into `N` bytes, or `None` if any byte is not a hex
/// digit. One table load per digit and a check at the end: the trace ids of a stream
/// are decoded once per trace, and a branch per digit was 4% of a decision.
fn decode_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    let mut not_hex = 0u8;
    for (slot, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let high = HEX_DIGIT_VALUES[usize::from(pair[0])];
        let low = HEX_DIGIT_VALUES[usize::from(pair[1])];
        not_hex |= (high | low) & 0xf0;
        *slot = (high << 4) | (low & 0x0f);
    }
    (not_hex == 0).then_some(out)
}

/// The big-endian value of the last 7 bytes of `bytes` (at least 7 long).
fn low_56_bits(bytes: &[u8]) -> u64 {
    bytes[bytes.len() - 7..]
        .iter()
        .fold(0u64, |value, &byte| (value << 8) | u64::from(byte))
}

/// The randomness of a trace id alone (no tracestate), in `[0, 2^56)`.
pub fn trace_randomness(trace_id: &[u8]) -> u64 {
    trace_id_randomness(trace_id).0
}

/// The randomness of a trace id and which rule gave it.
pub fn trace_id_randomness(trace_id: &[u8]) -> (u64, RandomnessSource) {
    match trace_id.len() {
        32 => match decode_hex::<16>(trace_id) {
            Some(bytes) => (low_56_bits(&bytes), RandomnessSource::TraceIdBits),
            None => (hashed_randomness(trace_id), RandomnessSource::TraceIdHash),
        },
        16 => match decode_hex::<8>(trace_id) {
            Some(bytes) => (low_56_bits(&bytes), RandomnessSource::TraceIdBits),
            None => (low_56_bits(trace_id), RandomnessSource::TraceIdBits),
        },
        8 => (low_56_bits(trace_id), RandomnessSource::TraceIdBits),
        _ => (hashed_randomness(trace_id), RandomnessSource::TraceIdHash),
    }
}

/// The rejection threshold of rate `p` (see the module docs): `(1 - p) * 2^56` rounded
/// half up, clamped to `[0, 2^56]`; NaN counts as 0.
pub fn threshold(p: f64) -> u64 {
    if p.is_nan() {
        return NEVER;
    }
    let x = (1.0 - p) * NEVER as f64;
    if x <= 0.0 {
        0
    } else if x >= NEVER as f64 {
        NEVER
    } else {
        let whole = x.floor();
        // `whole` is below 2^56, so the cast is exact.
        let rounded = whole as u64 + u64::from(x - whole >= 0.5);
        rounded.min(NEVER)
    }
}

/// Whether a trace with this randomness passes this threshold.
pub fn keeps(randomness: u64, threshold: u64) -> bool {
    randomness >= threshold
}

/// The adjusted count of a span kept at `threshold`: `2^56 / (2^56 - T)`; 0 for
/// `T >= 2^56` (nothing is kept there).
pub fn adjusted_count(threshold: u64) -> f64 {
    if threshold >= NEVER {
        0.0
    } else {
        NEVER as f64 / (NEVER - threshold) as f64
    }
}

/// A `th` value: up to 14 lowercase hex digits, on the stack.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Th {
    digits: [u8; HEX_DIGITS],
    len: u8,
}

impl Th {
    /// The text, e.g. `8` for rate 0.5, `0` for rate 1.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or("0")
    }
}

impl std::fmt::Display for Th {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Th {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Th({})", self.as_str())
    }
}

/// The `th` encoding of a threshold: 14 lowercase hex digits with trailing zeros removed,
/// `0` for `T = 0`; `None` for `T >= 2^56`.
pub fn encode_th(threshold: u64) -> Option<Th> {
    if threshold >= NEVER {
        return None;
    }
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [b'0'; HEX_DIGITS];
    for (i, slot) in digits.iter_mut().enumerate() {
        let shift = 4 * (HEX_DIGITS - 1 - i);
        *slot = DIGITS[((threshold >> shift) & 0xf) as usize];
    }
    let len = digits
        .iter()
        .rposition(|&d| d != b'0')
        .map_or(1, |last| last + 1);
    Some(Th {
        digits,
        len: len as u8,
    })
}

/// The threshold a `th` value stands for (1 to 14 hex digits of either case, padded with
/// trailing zeros), or `None` if it is not one.
pub fn decode_th(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > HEX_DIGITS {
        return None;
    }
    let mut value = 0u64;
    for &digit in bytes {
        value = (value << 4) | u64::from(hex_value(digit)?);
    }
    Some(value << (4 * (HEX_DIGITS - bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_table_agrees_with_hex_value_on_every_byte() {
        for byte in 0..=255u8 {
            let from_table = HEX_DIGIT_VALUES[usize::from(byte)];
            assert_eq!(
                hex_value(byte),
                (from_table != NOT_HEX).then_some(from_table)
            );
            // A non-digit anywhere in an id makes it undecodable.
            let mut id = *b"0123456789abcdef";
            for at in 0..id.len() {
                id[at] = byte;
                assert_eq!(
                    decode_hex::<8>(&id).is_some(),
                    hex_value(byte).is_some(),
                    "byte {byte:#x} at {at}"
                );
                id = *b"0123456789abcdef";
            }
        }
        assert_eq!(
            decode_hex::<8>(b"00f067aa0ba902b7"),
            Some([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7])
        );
        assert_eq!(decode_hex::<2>(b"AbCd"), Some([0xab, 0xcd]));
    }

    #[test]
    fn fnv_matches_published_vectors() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn thresholds_at_the_edges() {
        assert_eq!(threshold(1.0), 0);
        assert_eq!(threshold(0.0), NEVER);
        assert_eq!(threshold(-0.0), NEVER);
        assert_eq!(threshold(f64::NAN), NEVER);
        assert_eq!(threshold(2.0), 0);
        assert_eq!(threshold(-1.0), NEVER);
        assert_eq!(threshold(0.5), 1 << 55);
        assert_eq!(threshold(0.25), 3 << 54);
        // 2^-56 is lost in 1 - p (binary64 has 53 bits): nothing is kept.
        assert_eq!(threshold(2f64.powi(-56)), NEVER);
        assert_eq!(threshold(2f64.powi(-53)), NEVER - 8);
        assert!(keeps(0, threshold(1.0)));
        assert!(!keeps(NEVER - 1, threshold(0.0)));
    }

    #[test]
    fn thresholds_are_whole_multiples_of_eight() {
        // For a rate in [0, 1], `1 - p` in binary64 is a multiple of 2^-53, so `x` is a
        // multiple of 8 and the half-up rounding never has a fraction to round.
        let mut state = 1u64;
        for _ in 0..10_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let p = (state >> 11) as f64 / (1u64 << 53) as f64;
            let x = (1.0 - p) * NEVER as f64;
            assert_eq!(x.fract(), 0.0, "{p}");
            assert_eq!(threshold(p) % 8, 0, "{p}");
        }
    }

    #[test]
    fn th_encoding_follows_opentelemetry() {
        assert_eq!(encode_th(0).unwrap().as_str(), "0");
        assert_eq!(encode_th(threshold(0.5)).unwrap().as_str(), "8");
        assert_eq!(encode_th(threshold(0.25)).unwrap().as_str(), "c");
        assert_eq!(
            encode_th(threshold(0.1)).unwrap().as_str(),
            "e6666666666668"
        );
        assert_eq!(
            encode_th(threshold(2.0 / 3.0)).unwrap().as_str(),
            "55555555555558"
        );
        assert_eq!(
            encode_th(threshold(1.0 / 3.0)).unwrap().as_str(),
            "aaaaaaaaaaaab"
        );
        assert_eq!(encode_th(1).unwrap().as_str(), "00000000000001");
        assert_eq!(encode_th(NEVER - 1).unwrap().as_str(), "ffffffffffffff");
        assert!(encode_th(NEVER).is_none());
        for t in [0, 1, 1 << 55, threshold(0.1), NEVER - 1] {
            assert_eq!(decode_th(encode_th(t).unwrap().as_str()), Some(t));
        }
        assert_eq!(decode_th(""), None);
        assert_eq!(decode_th("fffffffffffffff"), None);
        assert_eq!(decode_th("g"), None);
    }

    #[test]
    fn randomness_from_w3c_and_64_bit_ids() {
        let id: [u8; 16] = [
            0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e,
            0x47, 0x36,
        ];
        assert_eq!(trace_randomness(&id), 0xce929d0e0e4736);
        assert_eq!(
            trace_randomness(b"4bf92f3577b34da6a3ce929d0e0e4736"),
            0xce929d0e0e4736
        );
        assert_eq!(
            trace_randomness(b"4BF92F3577B34DA6A3CE929D0E0E4736"),
            0xce929d0e0e4736
        );
        let short = [0x15, 0x1e, 0x8e, 0xa4, 0x4a, 0x5c, 0xf4, 0x1c];
        assert_eq!(trace_randomness(&short), 0x1e8ea44a5cf41c);
        assert_eq!(trace_randomness(b"151e8ea44a5cf41c"), 0x1e8ea44a5cf41c);
        // Text ids are hashed (pinned: a change would re-decide every such trace).
        assert_eq!(
            trace_id_randomness(b"1a2b.3c.16000000000000001").1,
            RandomnessSource::TraceIdHash
        );
        assert_eq!(trace_randomness(b"x"), hashed_randomness(b"x"));
        assert_eq!(hashed_randomness(b"x"), fmix64(fnv1a64(b"x")) >> 8);
        // 32 characters that are not all hex: hashed, not decoded.
        let not_hex = b"4bf92f3577b34da6a3ce929d0e0e473g";
        assert_eq!(trace_randomness(not_hex), hashed_randomness(not_hex));
    }

    #[test]
    fn explicit_rv_wins_and_malformed_rv_is_ignored() {
        let id = b"4bf92f3577b34da6a3ce929d0e0e4736";
        let r = randomness(id, "vendor=x,ot=th:8;rv:0123456789abcd");
        assert_eq!(r.value, 0x0123456789abcd);
        assert_eq!(r.source, RandomnessSource::ExplicitRv);
        let r = randomness(id, " ot=rv:ffffffffffffff ,other=1");
        assert_eq!(r.value, 0xffffffffffffff);
        for malformed in [
            "ot=rv:0123456789ABCD",
            "ot=rv:0123456789abc",
            "ot=rv:0123456789abcde",
            "ot=rv:",
            "ot=rv:0123456789abcg",
            "ot=th:0;rv: 123456789abcd",
        ] {
            let r = randomness(id, malformed);
            assert!(r.malformed_rv, "{malformed}");
            assert_eq!(r.value, 0xce929d0e0e4736, "{malformed}");
            assert_eq!(r.source, RandomnessSource::TraceIdBits);
        }
        // Only the first `ot` member counts; no `rv` is absent, not malformed.
        let r = randomness(id, "ot=th:8,ot=rv:0123456789abcd");
        assert!(!r.malformed_rv);
        assert_eq!(r.value, 0xce929d0e0e4736);
        let r = randomness(id, "xot=rv:0123456789abcd");
        assert_eq!(r.source, RandomnessSource::TraceIdBits);
    }

    #[test]
    fn adjusted_counts() {
        assert_eq!(adjusted_count(0), 1.0);
        assert_eq!(adjusted_count(threshold(0.5)), 2.0);
        assert_eq!(adjusted_count(threshold(0.25)), 4.0);
        assert_eq!(adjusted_count(NEVER), 0.0);
        assert!((adjusted_count(threshold(0.1)) - 10.0).abs() < 1e-12);
    }
}
