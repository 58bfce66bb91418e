//! Coding of trace and span ids relative to ids already known to both sides.
//!
//! Ids are byte strings of any length (16/8 bytes for OTLP, text for SkyWalking and
//! others). An id is sent as the cheapest of: a back reference to an id seen earlier in
//! the same trace; a copy of a reference id's prefix plus a literal tail; a copy of a
//! reference id's prefix, then the decimal digit run found there in the reference plus
//! a signed delta, then a literal tail (SkyWalking's `<segment>.0`, `<segment>.1`, and
//! segment ids one less than their trace id, cost two or three bytes); or the literal
//! bytes. The encoder checks every candidate by decoding it, so coding is lossless.

use crate::error::DecodeError;
use crate::wire::{Reader, put_bytes, put_signed, put_varint, varint_len, zigzag};

/// Reference slot: the previous span id of the same trace.
pub const REF_PREVIOUS_IN_TRACE: usize = 0;
/// Reference slot: the span's trace id.
pub const REF_TRACE: usize = 1;
/// Reference slot: the span's parent id (only when coding the span id).
pub const REF_PARENT: usize = 2;
/// Reference slot: the previous span's span id in the stream, whatever its trace.
pub const REF_PREVIOUS_IN_STREAM: usize = 3;
/// Number of reference slots.
pub const REF_SLOTS: usize = 4;

const KIND_LITERAL: u64 = 0;
const KIND_PREFIX: u64 = 1;
const KIND_NUMBER: u64 = 2;
const KIND_BACK_REFERENCE: u64 = 3;

/// Longest decimal run the numeric mode handles (fits in `u64`).
const MAX_DIGITS: usize = 19;

/// Reference ids available to code one id; `None` where a slot has no id.
pub type Refs<'a> = [Option<&'a [u8]>; REF_SLOTS];

/// Appends the cheapest coding of `id`. `back_reference` is the distance (1 = latest)
/// to an equal id in the trace's id list, when there is one. `tag_offset` is added to
/// the leading tag (parents use 1, keeping tag 0 for "no parent").
pub fn put_id(
    out: &mut Vec<u8>,
    id: &[u8],
    refs: &Refs<'_>,
    back_reference: Option<u64>,
    tag_offset: u64,
) {
    if let Some(distance) = back_reference {
        // A back reference is never longer than any other coding of a non-empty id.
        put_varint(out, (((distance - 1) << 2) | KIND_BACK_REFERENCE) + tag_offset);
        return;
    }
    let mut best_cost = 1 + varint_len(id.len() as u64) + id.len();
    let mut best: Option<(usize, Candidate)> = None;
    for (slot, reference) in refs.iter().enumerate() {
        let Some(reference) = reference else { continue };
        let prefix = common_prefix(id, reference);
        let tail = id.len() - prefix;
        let cost = 1 + varint_len(prefix as u64) + varint_len(tail as u64) + tail;
        if cost < best_cost {
            best_cost = cost;
            best = Some((slot, Candidate::Prefix { prefix }));
        }
        if let Some(candidate) = numeric_candidate(id, reference, prefix) {
            let Candidate::Number { start, delta, end } = candidate else {
                unreachable!("numeric_candidate returns numbers")
            };
            let tail = id.len() - end;
            let cost = 1
                + varint_len(start as u64)
                + varint_len(zigzag(delta))
                + varint_len(tail as u64)
                + tail;
            if cost < best_cost {
                best_cost = cost;
                best = Some((slot, candidate));
            }
        }
    }
    match best {
        None => {
            put_varint(out, KIND_LITERAL + tag_offset);
            put_bytes(out, id);
        }
        Some((slot, Candidate::Prefix { prefix })) => {
            put_varint(out, (((slot as u64) << 2) | KIND_PREFIX) + tag_offset);
            put_varint(out, prefix as u64);
            put_bytes(out, &id[prefix..]);
        }
        Some((slot, Candidate::Number { start, delta, end })) => {
            put_varint(out, (((slot as u64) << 2) | KIND_NUMBER) + tag_offset);
            put_varint(out, start as u64);
            put_signed(out, delta);
            put_bytes(out, &id[end..]);
        }
    }
}

/// What [`read_id`] found.
pub enum IdCoding {
    /// The id's bytes were written into the output buffer.
    Bytes,
    /// The id equals the id at this distance (1 = latest) in the trace's id list.
    BackReference(u64),
}

/// Reads an id coded by [`put_id`] whose tag was already read, appending its bytes to
/// `out` unless it is a back reference.
pub fn read_id_after_tag(
    reader: &mut Reader<'_>,
    tag: u64,
    refs: &Refs<'_>,
    out: &mut Vec<u8>,
) -> Result<IdCoding, DecodeError> {
    let kind = tag & 3;
    if kind == KIND_BACK_REFERENCE {
        return Ok(IdCoding::BackReference((tag >> 2) + 1));
    }
    if kind == KIND_LITERAL {
        if tag != KIND_LITERAL {
            return Err(reader.invalid("literal id with a reference slot"));
        }
        out.extend_from_slice(reader.bytes()?);
        return Ok(IdCoding::Bytes);
    }
    let slot = (tag >> 2) as usize;
    let reference = refs
        .get(slot)
        .copied()
        .flatten()
        .ok_or_else(|| reader.invalid("id refers to an unavailable reference"))?;
    if kind == KIND_PREFIX {
        let prefix = reader.varint()?;
        if prefix > reference.len() as u64 {
            return Err(reader.invalid("id prefix longer than its reference"));
        }
        out.extend_from_slice(&reference[..prefix as usize]);
        out.extend_from_slice(reader.bytes()?);
        return Ok(IdCoding::Bytes);
    }
    let start = reader.varint()?;
    let delta = reader.signed()?;
    if start >= reference.len() as u64 {
        return Err(reader.invalid("digit run past the end of its reference"));
    }
    let start = start as usize;
    let width = digit_run_len(&reference[start..]);
    if width == 0 || width > MAX_DIGITS {
        return Err(reader.invalid("reference has no usable digit run there"));
    }
    let number = parse_digits(&reference[start..start + width]).wrapping_add(delta as u64);
    out.extend_from_slice(&reference[..start]);
    put_digits(out, number, width);
    out.extend_from_slice(reader.bytes()?);
    Ok(IdCoding::Bytes)
}

enum Candidate {
    Prefix { prefix: usize },
    Number { start: usize, delta: i64, end: usize },
}

/// The numeric coding of `id` against `reference`, when it applies and reproduces `id`.
fn numeric_candidate(id: &[u8], reference: &[u8], prefix: usize) -> Option<Candidate> {
    let mut start = prefix;
    while start > 0 && id[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let width = digit_run_len(reference.get(start..)?);
    let id_width = digit_run_len(&id[start..]);
    if width == 0 || width > MAX_DIGITS || id_width == 0 || id_width > MAX_DIGITS + 1 {
        return None;
    }
    // The decoder pads to the reference's width: the id's run must have that width,
    // or be longer without a leading zero.
    if id_width < width || (id_width > width && id[start] == b'0') {
        return None;
    }
    let id_number = checked_parse_digits(&id[start..start + id_width])?;
    let delta = id_number.wrapping_sub(parse_digits(&reference[start..start + width])) as i64;
    Some(Candidate::Number {
        start,
        delta,
        end: start + id_width,
    })
}

fn common_prefix(left: &[u8], right: &[u8]) -> usize {
    left.iter().zip(right).take_while(|(a, b)| a == b).count()
}

fn digit_run_len(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

fn parse_digits(digits: &[u8]) -> u64 {
    digits
        .iter()
        .fold(0u64, |n, d| n.wrapping_mul(10).wrapping_add(u64::from(d - b'0')))
}

fn checked_parse_digits(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Appends `number` in decimal, left-padded with zeros to at least `width` digits.
fn put_digits(out: &mut Vec<u8>, mut number: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (number % 10) as u8;
        len += 1;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend(std::iter::repeat_n(b'0', width.saturating_sub(len)));
    out.extend(digits[..len].iter().rev());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(id: &[u8], refs: &Refs<'_>) -> usize {
        let mut out = Vec::new();
        put_id(&mut out, id, refs, None, 0);
        let mut reader = Reader::new(&out, "t");
        let tag = reader.varint().unwrap();
        let mut decoded = Vec::new();
        read_id_after_tag(&mut reader, tag, refs, &mut decoded).unwrap();
        assert_eq!(decoded, id, "{}", String::from_utf8_lossy(id));
        assert!(reader.is_empty());
        out.len()
    }

    #[test]
    fn skywalking_style_ids_cost_a_few_bytes() {
        let trace = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380403".as_slice();
        let first = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380402.0".as_slice();
        let refs = [None, Some(trace), None, None];
        assert!(round_trip(first, &refs) <= 6);
        let next = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380402.10".as_slice();
        let nine = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380402.9".as_slice();
        assert!(round_trip(next, &[Some(nine), Some(trace), None, None]) <= 4);
    }

    #[test]
    fn awkward_digit_runs_stay_lossless() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"a007", b"a008"),
            (b"a07", b"a008"),
            (b"a0", b"a99999999999999999999"),
            (b"x18446744073709551615", b"x1"),
            (b"99999999999999999999", b"1"),
            (b"", b"5"),
            (b"12", b""),
            (b"\xff\x00", b"\xff\x01"),
        ];
        for (id, reference) in cases {
            round_trip(id, &[Some(reference), None, None, None]);
            round_trip(id, &[None, None, None, None]);
        }
    }
}
