//! Coding of ids (and id-like strings) relative to what both sides already know.
//!
//! Ids are byte strings of any length (16/8 bytes for OTLP, text for SkyWalking and
//! others). An id is sent as the cheapest of:
//! - a back reference to an equal id seen earlier in the same list (the trace's ids, or
//!   the stream's recent inline strings);
//! - equal to a reference id (previous span id of the trace, the trace id, the parent,
//!   the previous span id of the stream, ...: see the `REF_*` slots);
//! - a reference with its last decimal digit run incremented (`X.4` → `X.5`);
//! - a reference's prefix, then the decimal digit run found there in the reference plus
//!   a signed delta, then a literal tail (`...0402.0` from trace id `...0403`);
//! - a reference's prefix plus a literal tail;
//! - XXH3 of one of the span's string attributes (ids that `trace-formats` derived by
//!   hashing textual ids, keeping the text in an attribute: the id then costs one byte);
//! - the literal bytes.
//!
//! The encoder checks every candidate by decoding it, so coding is lossless.

use crate::error::DecodeError;
use crate::wire::{Reader, put_bytes, put_signed, put_varint, varint_len, zigzag};
use trace_formats::{AnyValue, KeyValue};

/// Reference slot: the previous span id of the same trace (for inline strings: the
/// previous value of the same attribute key).
pub const REF_PREVIOUS_IN_TRACE: usize = 0;
/// Reference slot: the span's trace id (for inline strings: the previous inline string
/// of the same span).
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
const KIND_INCREMENT: u64 = 4;
const KIND_EQUAL: u64 = 5;
const KIND_HASH: u64 = 6;
const KIND_BITS: u32 = 3;
const KIND_MASK: u64 = (1 << KIND_BITS) - 1;

/// Longest decimal run the numeric modes handle (fits in `u64`).
const MAX_DIGITS: usize = 19;

/// Reference ids available to code one id; `None` where a slot has no id.
pub type Refs<'a> = [Option<&'a [u8]>; REF_SLOTS];

/// What the encoder knows beyond the references when coding one id.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints {
    /// Distance (1 = latest) to an equal id in the list the decoder keeps.
    pub back_reference: Option<u64>,
    /// Index of a string attribute of the span whose XXH3 is the id.
    pub hashed_attribute: Option<usize>,
}

/// Appends the cheapest coding of `id`; `tag_offset` is added to the leading tag
/// (parents use 1, keeping tag 0 for "no parent"). Returns whether the coding is a
/// back reference (both sides append every other id to their list).
pub fn put_id(
    out: &mut Vec<u8>,
    id: &[u8],
    refs: &Refs<'_>,
    hints: Hints,
    tag_offset: u64,
) -> bool {
    put_id_coding(out, id, refs, hints, tag_offset) == KIND_BACK_REFERENCE
}

fn put_id_coding(
    out: &mut Vec<u8>,
    id: &[u8],
    refs: &Refs<'_>,
    hints: Hints,
    tag_offset: u64,
) -> u64 {
    let tag = |kind: u64, rest: u64| ((rest << KIND_BITS) | kind) + tag_offset;
    // One-byte codings first, in a fixed order.
    for (slot, reference) in refs.iter().enumerate() {
        if *reference == Some(id) {
            put_varint(out, tag(KIND_EQUAL, slot as u64));
            return KIND_EQUAL;
        }
    }
    if let Some(distance) = hints.back_reference {
        put_varint(out, tag(KIND_BACK_REFERENCE, distance - 1));
        return KIND_BACK_REFERENCE;
    }
    if let Some(index) = hints.hashed_attribute {
        put_varint(
            out,
            tag(KIND_HASH, ((index as u64) << 1) | u64::from(id.len() == 16)),
        );
        return KIND_HASH;
    }
    for (slot, reference) in refs.iter().enumerate() {
        if let Some(reference) = reference
            && let Some(delta) = increment_candidate(id, reference)
        {
            put_varint(out, tag(KIND_INCREMENT, ((delta - 1) << 2) | slot as u64));
            return KIND_INCREMENT;
        }
    }
    let mut best_cost = varint_len(tag(KIND_LITERAL, 0)) + varint_len(id.len() as u64) + id.len();
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
        if let Some((start, delta, end)) = numeric_candidate(id, reference, prefix) {
            let tail = id.len() - end;
            let cost = 1
                + varint_len(start as u64)
                + varint_len(zigzag(delta))
                + varint_len(tail as u64)
                + tail;
            if cost < best_cost {
                best_cost = cost;
                best = Some((slot, Candidate::Number { start, delta, end }));
            }
        }
    }
    match best {
        None => {
            put_varint(out, tag(KIND_LITERAL, 0));
            put_bytes(out, id);
            KIND_LITERAL
        }
        Some((slot, Candidate::Prefix { prefix })) => {
            put_varint(out, tag(KIND_PREFIX, slot as u64));
            put_varint(out, prefix as u64);
            put_bytes(out, &id[prefix..]);
            KIND_PREFIX
        }
        Some((slot, Candidate::Number { start, delta, end })) => {
            put_varint(out, tag(KIND_NUMBER, slot as u64));
            put_varint(out, start as u64);
            put_signed(out, delta);
            put_bytes(out, &id[end..]);
            KIND_NUMBER
        }
    }
}

/// What [`read_id_after_tag`] found.
pub enum IdCoding {
    /// The id's bytes were written into the output buffer.
    Bytes,
    /// The id equals the id at this distance (1 = latest) in the decoder's list.
    BackReference(u64),
}

/// Reads an id coded by [`put_id`] whose tag (minus its offset) was already read,
/// appending its bytes to `out` unless it is a back reference. `attributes` are the
/// span's, for ids coded as a hash of one of them.
pub fn read_id_after_tag(
    reader: &mut Reader<'_>,
    tag: u64,
    refs: &Refs<'_>,
    attributes: &[KeyValue],
    out: &mut Vec<u8>,
) -> Result<IdCoding, DecodeError> {
    let kind = tag & KIND_MASK;
    let rest = tag >> KIND_BITS;
    let reference = |slot: u64| {
        refs.get(slot as usize)
            .copied()
            .flatten()
            .ok_or_else(|| reader.invalid("id refers to an unavailable reference"))
    };
    match kind {
        KIND_LITERAL => {
            if rest != 0 {
                return Err(reader.invalid("literal id with extra tag bits"));
            }
            let literal = reader.bytes()?;
            out.reserve_exact(literal.len());
            out.extend_from_slice(literal);
        }
        KIND_BACK_REFERENCE => return Ok(IdCoding::BackReference(rest + 1)),
        KIND_EQUAL => {
            let reference = reference(rest)?;
            out.reserve_exact(reference.len());
            out.extend_from_slice(reference);
        }
        KIND_HASH => {
            let Some(KeyValue {
                value: AnyValue::String(text),
                ..
            }) = attributes.get((rest >> 1) as usize)
            else {
                return Err(reader.invalid("id hashed from a missing or non-string attribute"));
            };
            out.reserve_exact(16);
            hash_text(text.as_bytes(), rest & 1 != 0, out);
        }
        KIND_INCREMENT => {
            let reference = reference(rest & 3)?;
            let delta = (rest >> 2) + 1;
            let (start, width) = last_digit_run(reference)
                .ok_or_else(|| reader.invalid("reference has no digit run to increment"))?;
            let number = parse_digits(&reference[start..start + width]).wrapping_add(delta);
            out.reserve_exact(reference.len() + 1);
            out.extend_from_slice(&reference[..start]);
            put_digits(out, number, width);
            out.extend_from_slice(&reference[start + width..]);
        }
        KIND_PREFIX => {
            let reference = reference(rest)?;
            let prefix = reader.varint()?;
            if prefix > reference.len() as u64 {
                return Err(reader.invalid("id prefix longer than its reference"));
            }
            let tail = reader.bytes()?;
            out.reserve_exact(prefix as usize + tail.len());
            out.extend_from_slice(&reference[..prefix as usize]);
            out.extend_from_slice(tail);
        }
        KIND_NUMBER => {
            let reference = reference(rest)?;
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
        }
        _ => return Err(reader.invalid("unknown id coding")),
    }
    Ok(IdCoding::Bytes)
}

/// Appends the id `trace-formats` derives from a textual id: XXH3-128 (16 bytes, for
/// trace ids) or XXH3-64 (8 bytes, for span ids) of the text, big-endian, an all-zero
/// result made 1 in its last byte.
fn hash_text(text: &[u8], wide: bool, out: &mut Vec<u8>) {
    let start = out.len();
    if wide {
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_128(text).to_be_bytes());
    } else {
        out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(text).to_be_bytes());
    }
    if out[start..].iter().all(|&b| b == 0) {
        *out.last_mut().expect("a hash was appended") = 1;
    }
}

/// Whether `id` is what the hash coding derives from `text`.
pub fn hashes_to(id: &[u8], text: &str) -> bool {
    let mut hash = [0u8; 16];
    let len = match id.len() {
        8 => {
            hash[..8].copy_from_slice(&xxhash_rust::xxh3::xxh3_64(text.as_bytes()).to_be_bytes());
            8
        }
        16 => {
            hash.copy_from_slice(&xxhash_rust::xxh3::xxh3_128(text.as_bytes()).to_be_bytes());
            16
        }
        _ => return false,
    };
    if hash[..len].iter().all(|&b| b == 0) {
        hash[len - 1] = 1;
    }
    hash[..len] == *id
}

/// A list of ids both sides append to in the same order, for back references.
#[derive(Debug, Default)]
pub struct IdList {
    /// The ids, concatenated; `ends[i]` is where id `i` ends.
    arena: Vec<u8>,
    ends: Vec<u32>,
    /// Encoder only: hash of an id to its latest index.
    index: std::collections::HashMap<u64, u32, ahash::RandomState>,
}

impl IdList {
    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Forgets every id.
    pub fn clear(&mut self) {
        self.arena.clear();
        self.ends.clear();
        self.index.clear();
    }

    /// The id at `index`.
    pub fn get(&self, index: u32) -> &[u8] {
        let end = self.ends[index as usize] as usize;
        let start = match index {
            0 => 0,
            _ => self.ends[index as usize - 1] as usize,
        };
        &self.arena[start..end]
    }

    /// Appends `id` (decoder side); returns its index.
    pub fn push(&mut self, id: &[u8]) -> u32 {
        self.arena.extend_from_slice(id);
        self.ends.push(self.arena.len() as u32);
        self.ends.len() as u32 - 1
    }

    /// Appends `id` and indexes it by `hash` (encoder side); returns its index.
    pub fn push_indexed(&mut self, id: &[u8], hash: u64) -> u32 {
        let index = self.push(id);
        self.index.insert(hash, index);
        index
    }

    /// The latest index of `id` (whose hash is `hash`), if indexed.
    pub fn find(&self, id: &[u8], hash: u64) -> Option<u32> {
        let &index = self.index.get(&hash)?;
        (self.get(index) == id).then_some(index)
    }

    /// Distance (1 = latest) of the id at `index`.
    pub fn distance(&self, index: u32) -> u64 {
        self.ends.len() as u64 - u64::from(index)
    }

    /// Index of the id at `distance`, if there is one.
    pub fn at_distance(&self, distance: u64) -> Option<u32> {
        (distance >= 1 && distance <= self.ends.len() as u64)
            .then(|| (self.ends.len() as u64 - distance) as u32)
    }
}

enum Candidate {
    Prefix {
        prefix: usize,
    },
    Number {
        start: usize,
        delta: i64,
        end: usize,
    },
}

/// The delta (1 or more) by which the last digit run of `reference` must grow to
/// give `id`, everything else being equal.
fn increment_candidate(id: &[u8], reference: &[u8]) -> Option<u64> {
    let (start, width) = last_digit_run(reference)?;
    let suffix = &reference[start + width..];
    if id.len() < start + width + suffix.len()
        || id[..start] != reference[..start]
        || !id.ends_with(suffix)
    {
        return None;
    }
    let digits = &id[start..id.len() - suffix.len()];
    if digits.len() < width
        || digits.len() > MAX_DIGITS + 1
        || !digits.iter().all(u8::is_ascii_digit)
        || (digits.len() > width && digits[0] == b'0')
    {
        return None;
    }
    let number = checked_parse_digits(digits)?;
    let delta = number.wrapping_sub(parse_digits(&reference[start..start + width]));
    // Only small forward steps: anything else is cheaper as a number delta.
    (1..=1 << 20).contains(&delta).then_some(delta)
}

/// Start and length of the last decimal digit run (at most `MAX_DIGITS` long).
fn last_digit_run(bytes: &[u8]) -> Option<(usize, usize)> {
    let end = bytes.iter().rposition(u8::is_ascii_digit)? + 1;
    let start = bytes[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    (end - start <= MAX_DIGITS).then_some((start, end - start))
}

/// The numeric coding of `id` against `reference`: digit run start, delta, and where
/// the id's run ends; when it applies.
fn numeric_candidate(id: &[u8], reference: &[u8], prefix: usize) -> Option<(usize, i64, usize)> {
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
    Some((start, delta, start + id_width))
}

fn common_prefix(left: &[u8], right: &[u8]) -> usize {
    left.iter().zip(right).take_while(|(a, b)| a == b).count()
}

fn digit_run_len(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

fn parse_digits(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |n, d| {
        n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
    })
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
        put_id(&mut out, id, refs, Hints::default(), 0);
        let mut reader = Reader::new(&out, "t");
        let tag = reader.varint().unwrap();
        let mut decoded = Vec::new();
        read_id_after_tag(&mut reader, tag, refs, &[], &mut decoded).unwrap();
        assert_eq!(decoded, id, "{}", String::from_utf8_lossy(id));
        assert!(reader.is_empty());
        out.len()
    }

    #[test]
    fn skywalking_style_ids_cost_a_few_bytes() {
        let trace = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380403".as_slice();
        let first = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380402.0".as_slice();
        assert!(round_trip(first, &[None, Some(trace), None, None]) <= 6);
        let nine = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380402.9".as_slice();
        let ten = b"67696aca7b694e1aaa376ae23fb64809.46.16291893879380402.10".as_slice();
        assert_eq!(round_trip(ten, &[Some(nine), Some(trace), None, None]), 1);
        assert_eq!(round_trip(nine, &[None, None, Some(nine), None]), 1);
    }

    #[test]
    fn awkward_digit_runs_stay_lossless() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"a007", b"a008"),
            (b"a07", b"a008"),
            (b"a008", b"a07"),
            (b"a0", b"a99999999999999999999"),
            (b"x18446744073709551615", b"x1"),
            (b"x18446744073709551615.1", b"x18446744073709551614.1"),
            (b"99999999999999999999", b"1"),
            (b"10", b"9"),
            (b"010", b"9"),
            (b"", b"5"),
            (b"12", b""),
            (b"\xff\x00", b"\xff\x01"),
        ];
        for (id, reference) in cases {
            round_trip(id, &[Some(reference), None, None, None]);
            round_trip(id, &[None, None, None, None]);
        }
    }

    #[test]
    fn hashed_ids_cost_one_byte() {
        let text = "abc.1.2";
        let mut span_id = Vec::new();
        hash_text(text.as_bytes(), false, &mut span_id);
        let mut trace_id = Vec::new();
        hash_text(text.as_bytes(), true, &mut trace_id);
        let attributes = [
            KeyValue::string("x", "y"),
            KeyValue::string("original", text),
        ];
        for id in [span_id, trace_id] {
            assert!(hashes_to(&id, text));
            let hints = Hints {
                hashed_attribute: Some(1),
                ..Hints::default()
            };
            let mut out = Vec::new();
            put_id(&mut out, &id, &[None; 4], hints, 0);
            assert_eq!(out.len(), 1);
            let mut reader = Reader::new(&out, "t");
            let tag = reader.varint().unwrap();
            let mut decoded = Vec::new();
            read_id_after_tag(&mut reader, tag, &[None; 4], &attributes, &mut decoded).unwrap();
            assert_eq!(decoded, id);
        }
    }
}
