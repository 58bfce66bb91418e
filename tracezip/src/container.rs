//! The `.tz` file: a short header, then length-prefixed frames of one or more streams.

use crate::decoder::{Decoder, DecoderOptions};
use crate::encoder::{Encoder, EncoderOptions};
use crate::error::{DecodeError, EncodeError};
use crate::wire::put_varint;
use crate::{FILE_MAGIC, FORMAT_VERSION};
use std::io::{Read, Write};
use trace_formats::Span;

/// Writes the file header: magic bytes and format version.
pub fn write_file_header(out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(&FILE_MAGIC)?;
    out.write_all(&[FORMAT_VERSION])
}

/// Writes one frame with its length prefix.
pub fn write_frame(out: &mut dyn Write, frame: &[u8]) -> std::io::Result<()> {
    let mut prefix = Vec::with_capacity(10);
    put_varint(&mut prefix, frame.len() as u64);
    out.write_all(&prefix)?;
    out.write_all(frame)
}

/// Reads the frames of a `.tz` file one by one.
#[derive(Debug)]
pub struct FileReader<R> {
    input: R,
    max_frame_bytes: u64,
    offset: u64,
}

impl<R: Read> FileReader<R> {
    /// Checks the file header. `max_frame_bytes` bounds each frame's length.
    pub fn new(mut input: R, max_frame_bytes: usize) -> Result<Self, DecodeError> {
        let mut header = [0u8; 5];
        input
            .read_exact(&mut header)
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::UnexpectedEof => DecodeError::BadMagic,
                _ => DecodeError::Io(error.to_string()),
            })?;
        if header[..4] != FILE_MAGIC {
            return Err(DecodeError::BadMagic);
        }
        if header[4] != FORMAT_VERSION {
            return Err(DecodeError::UnsupportedVersion(header[4]));
        }
        Ok(Self {
            input,
            max_frame_bytes: max_frame_bytes as u64,
            offset: 5,
        })
    }

    /// The next frame, or `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let truncated = |offset| DecodeError::Truncated {
            section: "file",
            offset,
        };
        let mut len = 0u64;
        let mut shift = 0;
        loop {
            let mut byte = [0u8; 1];
            let read = self
                .input
                .read(&mut byte)
                .map_err(|e| DecodeError::Io(e.to_string()))?;
            if read == 0 {
                if shift == 0 {
                    return Ok(None);
                }
                return Err(truncated(self.offset as usize));
            }
            self.offset += 1;
            len |= u64::from(byte[0] & 0x7f) << shift;
            if byte[0] & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 35 {
                return Err(DecodeError::Invalid {
                    section: "file",
                    offset: self.offset as usize,
                    reason: "frame length too long",
                });
            }
        }
        // A zstd frame may be a little larger than its payload; headers add a few bytes.
        let slack = self.max_frame_bytes / 8 + 1024;
        if len > self.max_frame_bytes.saturating_add(slack) {
            return Err(DecodeError::LimitExceeded(
                "frame larger than max_frame_bytes",
            ));
        }
        // Grows with the data actually present, so a lying length cannot allocate much.
        let mut frame = Vec::with_capacity((len as usize).min(1 << 20));
        (&mut self.input)
            .take(len)
            .read_to_end(&mut frame)
            .map_err(|e| DecodeError::Io(e.to_string()))?;
        if frame.len() as u64 != len {
            return Err(truncated((self.offset + frame.len() as u64) as usize));
        }
        self.offset += len;
        Ok(Some(frame))
    }
}

/// Spans per frame used by [`compress`].
pub const DEFAULT_BATCH_SPANS: usize = 8192;

/// Compresses `spans` into a whole `.tz` file (stream 0), `batch_spans` spans a frame.
pub fn compress(
    spans: &[Span],
    options: EncoderOptions,
    batch_spans: usize,
) -> Result<Vec<u8>, EncodeError> {
    let mut encoder = Encoder::new(0, options);
    let mut out = Vec::new();
    write_file_header(&mut out).expect("writing to a Vec cannot fail");
    for batch in spans.chunks(batch_spans.max(1)) {
        let frame = encoder.encode_batch(batch)?;
        write_frame(&mut out, &frame).expect("writing to a Vec cannot fail");
    }
    Ok(out)
}

/// Decompresses a whole `.tz` file into its spans, in order.
pub fn decompress(file: &[u8]) -> Result<Vec<Span>, DecodeError> {
    let options = DecoderOptions::default();
    let mut reader = FileReader::new(file, options.max_frame_bytes)?;
    let mut decoder = Decoder::new(options);
    let mut spans = Vec::new();
    while let Some(frame) = reader.next_frame()? {
        spans.extend(decoder.decode_frame(&frame)?);
    }
    Ok(spans)
}
