//! Primitive encodings shared by every part of the format: LEB128 varints, zigzag
//! signed integers, length-prefixed byte strings, and a bounds-checked reader that
//! never reads or allocates past the input it was given.

use crate::error::DecodeError;
use std::cell::Cell;

/// Appends `value` as an unsigned LEB128 varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Maps a signed integer to an unsigned one so that small magnitudes stay small.
#[inline]
pub fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Inverse of [`zigzag`].
#[inline]
pub fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Appends a signed integer as a zigzag varint.
#[inline]
pub fn put_signed(out: &mut Vec<u8>, value: i64) {
    put_varint(out, zigzag(value));
}

/// Appends a length-prefixed byte string.
#[inline]
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Number of bytes `value` takes as a varint.
#[inline]
pub fn varint_len(value: u64) -> usize {
    // 1 byte per 7 significant bits, at least one byte.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// A cursor over input bytes; every read checks the remaining length first.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    position: usize,
    /// What this reader reads, for error messages.
    section: &'static str,
    /// Bytes the decoded structures may still take, shared by the readers of a frame.
    budget: Option<&'a Cell<usize>>,
}

impl<'a> Reader<'a> {
    /// A reader over `input`, naming `section` in its errors.
    pub fn new(input: &'a [u8], section: &'static str) -> Self {
        Self {
            input,
            position: 0,
            section,
            budget: None,
        }
    }

    /// The same reader, charging what it decodes to `budget` (see [`Reader::charge`]).
    pub fn with_budget(mut self, budget: &'a Cell<usize>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Takes `bytes` from the decoding budget before they are allocated: a frame may
    /// decode to at most so many bytes, however much its bytes repeat by reference.
    #[inline]
    pub fn charge(&self, bytes: usize) -> Result<(), DecodeError> {
        if let Some(budget) = self.budget {
            let left = budget.get();
            if bytes > left {
                return Err(DecodeError::LimitExceeded(
                    "frame decodes to more than max_decoded_frame_bytes",
                ));
            }
            budget.set(left - bytes);
        }
        Ok(())
    }

    /// Bytes not read yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.input.len() - self.position
    }

    /// Whether every byte was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    fn truncated(&self) -> DecodeError {
        DecodeError::Truncated {
            section: self.section,
            offset: self.position,
        }
    }

    /// The next byte, without reading it.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.input.get(self.position).copied()
    }

    /// Reads one byte.
    #[inline]
    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let byte = *self
            .input
            .get(self.position)
            .ok_or_else(|| self.truncated())?;
        self.position += 1;
        Ok(byte)
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    #[inline]
    pub fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if shift == 63 && byte > 1 {
                    return Err(self.invalid("varint overflows 64 bits"));
                }
                return Ok(value);
            }
        }
        Err(self.invalid("varint longer than 10 bytes"))
    }

    /// Reads a varint that must fit in `u32`.
    #[inline]
    pub fn varint_u32(&mut self) -> Result<u32, DecodeError> {
        let value = self.varint()?;
        u32::try_from(value).map_err(|_| self.invalid("value does not fit in 32 bits"))
    }

    /// Reads a varint used as a count or length, which must not exceed the remaining
    /// input divided by `min_item_bytes` (each item takes at least that many bytes), so
    /// that a garbage count can never cause a large allocation.
    #[inline]
    pub fn count(&mut self, min_item_bytes: usize) -> Result<usize, DecodeError> {
        let value = self.varint()?;
        let limit = self.remaining() / min_item_bytes.max(1);
        if value > limit as u64 {
            return Err(self.invalid("count larger than the remaining input"));
        }
        Ok(value as usize)
    }

    /// Reads a zigzag varint.
    #[inline]
    pub fn signed(&mut self) -> Result<i64, DecodeError> {
        Ok(unzigzag(self.varint()?))
    }

    /// Reads `len` raw bytes.
    #[inline]
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.remaining() {
            return Err(self.truncated());
        }
        let bytes = &self.input[self.position..self.position + len];
        self.position += len;
        Ok(bytes)
    }

    /// Reads a length-prefixed byte string.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.count(1)?;
        self.take(len)
    }

    /// Reads a length-prefixed UTF-8 string.
    #[inline]
    pub fn string(&mut self) -> Result<&'a str, DecodeError> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| self.invalid("string is not UTF-8"))
    }

    /// Reads a length-prefixed UTF-8 string into an owned one, charged to the budget.
    #[inline]
    pub fn owned_string(&mut self) -> Result<String, DecodeError> {
        let text = self.string()?;
        self.charge(text.len())?;
        Ok(text.to_owned())
    }

    /// Reads length-prefixed bytes into an owned vector, charged to the budget.
    #[inline]
    pub fn owned_bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let bytes = self.bytes()?;
        self.charge(bytes.len())?;
        Ok(bytes.to_vec())
    }

    /// An error saying the input is malformed at the current position.
    pub fn invalid(&self, reason: &'static str) -> DecodeError {
        DecodeError::Invalid {
            section: self.section,
            offset: self.position,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for value in [0, 1, 127, 128, 16_383, 16_384, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out.len(), varint_len(value));
            assert_eq!(Reader::new(&out, "t").varint().unwrap(), value);
        }
        for value in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(value)), value);
        }
    }

    #[test]
    fn overlong_varints_are_rejected() {
        assert!(Reader::new(&[0xff; 11], "t").varint().is_err());
        // Ten bytes whose last byte carries more than the 64th bit.
        let mut bytes = vec![0xff; 9];
        bytes.push(0x02);
        assert!(Reader::new(&bytes, "t").varint().is_err());
    }

    #[test]
    fn counts_are_bounded_by_the_input() {
        let mut out = Vec::new();
        put_varint(&mut out, 1 << 40);
        assert!(Reader::new(&out, "t").count(1).is_err());
    }
}
