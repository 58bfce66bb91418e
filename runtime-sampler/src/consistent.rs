//! Consistent probability sampling: the decision is a function of the trace id, so every
//! service and replica keeps or drops a trace alike, and a trace kept at rate `p` is kept
//! at every rate `q > p`.
//!
//! In the spirit of OpenTelemetry's threshold sampling (`th` in the W3C `tracestate`):
//! each trace carries 56 bits of randomness `R`, a rate `p` becomes the rejection
//! threshold `T = round((1 - p) * 2^56)`, and a span is kept iff `R >= T`.
//!
//! OpenTelemetry takes `R` from the low 56 bits of a random 16-byte trace id, but many
//! trace ids here are text (SkyWalking, research CSVs) and not uniformly random, so we
//! hash the id bytes with a fixed, portable function that any language can reproduce:
//! `R = fmix64(fnv1a64(trace_id)) >> 8`, where `fnv1a64` is 64-bit FNV-1a (offset basis
//! `0xcbf29ce484222325`, prime `0x100000001b3`) and `fmix64` is MurmurHash3's 64-bit
//! finalizer (which spreads FNV's weak high bits). Another sampler implementing the same
//! two functions decides every trace the same way.

/// Bits of randomness per trace.
pub const RANDOMNESS_BITS: u32 = 56;

/// `2^56`: the threshold that rejects everything.
pub const NEVER: u64 = 1 << RANDOMNESS_BITS;

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

/// The 56 bits of randomness of a trace, in `[0, 2^56)`.
pub fn trace_randomness(trace_id: &[u8]) -> u64 {
    fmix64(fnv1a64(trace_id)) >> (64 - RANDOMNESS_BITS)
}

/// The rejection threshold of rate `p`: `round((1 - p) * 2^56)`, clamped; NaN counts as 0.
pub fn threshold(p: f64) -> u64 {
    if p.is_nan() || p <= 0.0 {
        NEVER
    } else if p >= 1.0 {
        0
    } else {
        // (1 - p) * 2^56 is below 2^56, so the cast cannot overflow.
        (((1.0 - p) * NEVER as f64).round() as u64).min(NEVER)
    }
}

/// Whether a trace with this randomness passes this threshold.
pub fn keeps(randomness: u64, threshold: u64) -> bool {
    randomness >= threshold
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(threshold(f64::NAN), NEVER);
        assert_eq!(threshold(0.5), 1 << 55);
        assert!(keeps(0, threshold(1.0)));
        assert!(!keeps(NEVER - 1, threshold(0.0)));
    }

    #[test]
    fn randomness_is_stable() {
        // Pinned (computed independently in Python) so a change of hash, which would
        // re-decide every trace, cannot go unseen.
        assert_eq!(
            trace_randomness(b"4bf92f3577b34da6a3ce929d0e0e4736"),
            64_854_647_689_966_296
        );
        assert!(trace_randomness(b"x") < NEVER);
    }
}
