//! The `.tz` file: a short header, then length-prefixed frames of one or more streams;
//! in version 2 each frame is followed by its checksum and the file ends with a trailer
//! (frame count, span count, checksum of the whole), so that damage and truncation are
//! found, never decoded.

use crate::decoder::{Decoder, DecoderOptions, read_frame_header};
use crate::encoder::{Encoder, EncoderOptions};
use crate::error::{DecodeError, EncodeError};
use crate::wire::{Reader, put_varint};
use crate::{FILE_MAGIC, FILE_VERSION, FILE_VERSION_1};
use std::io::{Read, Write};
use trace_formats::Span;
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

/// Bytes of the file header: magic and version.
pub const FILE_HEADER_BYTES: u64 = 5;
/// Bytes of a frame's checksum (XXH3-64, little-endian), version 2.
const CHECKSUM_BYTES: usize = 8;
/// The byte that opens the trailer where a frame length would be (frames are never
/// empty).
const TRAILER_MARKER: u8 = 0;

/// Writes a version 2 `.tz` file frame by frame; [`FileWriter::finish`] writes the
/// trailer. A file whose writer was not finished is reported as cut short.
#[derive(Debug)]
pub struct FileWriter<W: Write> {
    out: W,
    whole: Xxh3Debug,
    frames: u64,
    spans: u64,
    bytes: u64,
}

/// [`Xxh3`] does not implement `Debug`.
#[derive(Clone)]
struct Xxh3Debug(Xxh3);

impl std::fmt::Debug for Xxh3Debug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Xxh3")
    }
}

impl<W: Write> FileWriter<W> {
    /// Writes the file header.
    pub fn new(out: W) -> std::io::Result<Self> {
        let mut writer = Self {
            out,
            whole: Xxh3Debug(Xxh3::new()),
            frames: 0,
            spans: 0,
            bytes: 0,
        };
        writer.put(&FILE_MAGIC)?;
        writer.put(&[FILE_VERSION])?;
        Ok(writer)
    }

    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.whole.0.update(bytes);
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes one frame (as made by [`Encoder::encode_batch`]) with its length and
    /// checksum.
    pub fn write_frame(&mut self, frame: &[u8]) -> std::io::Result<()> {
        let (header, _) = read_frame_header(frame)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        let mut prefix = Vec::with_capacity(10 + CHECKSUM_BYTES);
        put_varint(&mut prefix, frame.len() as u64);
        let mut hasher = Xxh3::new();
        hasher.update(&prefix);
        hasher.update(frame);
        let checksum = hasher.digest().to_le_bytes();
        self.put(&prefix)?;
        self.put(frame)?;
        self.put(&checksum)?;
        self.frames += 1;
        self.spans += header.span_count;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Spans in the frames written so far.
    pub fn spans(&self) -> u64 {
        self.spans
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Writes the trailer; returns the output (not flushed) and the bytes written in
    /// all.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        let whole = self.whole.0.digest();
        let mut trailer = vec![TRAILER_MARKER];
        put_varint(&mut trailer, self.frames);
        put_varint(&mut trailer, self.spans);
        trailer.extend_from_slice(&whole.to_le_bytes());
        let own = xxh3_64(&trailer);
        trailer.extend_from_slice(&own.to_le_bytes());
        self.put(&trailer)?;
        Ok((self.out, self.bytes))
    }
}

/// One frame as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFrame {
    /// Index of the frame in the file, from 0.
    pub index: u64,
    /// Offset of its length prefix in the file.
    pub offset: u64,
    /// Offset just past the frame (and its checksum).
    pub end: u64,
    /// Spans its header announces.
    pub span_count: u64,
    /// The frame, for [`Decoder::decode_frame`].
    pub bytes: Vec<u8>,
}

/// What a version 2 trailer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileTrailer {
    /// Frames in the file.
    pub frames: u64,
    /// Spans in the file.
    pub spans: u64,
    /// Offset of the trailer.
    pub offset: u64,
}

/// A parsed trailer: counts, the checksum of what precedes it, its length.
pub(crate) struct RawTrailer {
    pub frames: u64,
    pub spans: u64,
    pub whole: u64,
    pub len: usize,
}

/// A trailer at the start of `bytes` whose own checksum holds.
pub(crate) fn parse_trailer_at(bytes: &[u8]) -> Option<RawTrailer> {
    parse_trailer(&bytes[..bytes.len().min(37)]).ok()
}

/// Parses a trailer at the start of `bytes` and checks its own checksum.
fn parse_trailer(bytes: &[u8]) -> Result<RawTrailer, &'static str> {
    let mut reader = Reader::new(bytes, "trailer");
    if reader.byte().map_err(|_| "cut short")? != TRAILER_MARKER {
        return Err("not a trailer");
    }
    let frames = reader.varint().map_err(|_| "bad frame count")?;
    let spans = reader.varint().map_err(|_| "bad span count")?;
    let whole = read_u64(&mut reader).ok_or("cut short")?;
    let covered = bytes.len() - reader.remaining();
    let own = read_u64(&mut reader).ok_or("cut short")?;
    if xxh3_64(&bytes[..covered]) != own {
        return Err("trailer checksum mismatch (the trailer is damaged)");
    }
    Ok(RawTrailer {
        frames,
        spans,
        whole,
        len: covered + CHECKSUM_BYTES,
    })
}

fn read_u64(reader: &mut Reader<'_>) -> Option<u64> {
    let bytes = reader.take(8).ok()?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

/// Reads the frames of a `.tz` file (version 1 or 2) one by one, checking each
/// frame's checksum and, at the end, the trailer.
#[derive(Debug)]
pub struct FileReader<R> {
    input: R,
    version: u8,
    max_frame_bytes: u64,
    offset: u64,
    frames: u64,
    spans: u64,
    whole: Xxh3Debug,
    trailer: Option<FileTrailer>,
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
        if header[4] != FILE_VERSION && header[4] != FILE_VERSION_1 {
            return Err(DecodeError::UnsupportedVersion(header[4]));
        }
        let mut whole = Xxh3::new();
        whole.update(&header);
        Ok(Self {
            input,
            version: header[4],
            max_frame_bytes: max_frame_bytes as u64,
            offset: FILE_HEADER_BYTES,
            frames: 0,
            spans: 0,
            whole: Xxh3Debug(whole),
            trailer: None,
        })
    }

    /// The file's format version (1 or 2).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The trailer, once [`FileReader::next_frame`] returned `None` (version 2).
    pub fn trailer(&self) -> Option<FileTrailer> {
        self.trailer
    }

    fn read_byte(&mut self) -> Result<Option<u8>, DecodeError> {
        let mut byte = [0u8; 1];
        loop {
            match self.input.read(&mut byte) {
                Ok(0) => return Ok(None),
                Ok(_) => return Ok(Some(byte[0])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(DecodeError::Io(e.to_string())),
            }
        }
    }

    /// Reads up to `len` bytes; fewer only at the end of the input.
    fn read_up_to(&mut self, len: u64) -> Result<Vec<u8>, DecodeError> {
        // Grows with the data actually present, so a lying length cannot allocate much.
        let mut bytes = Vec::with_capacity((len as usize).min(1 << 20));
        (&mut self.input)
            .take(len)
            .read_to_end(&mut bytes)
            .map_err(|e| DecodeError::Io(e.to_string()))?;
        Ok(bytes)
    }

    fn in_frame(&self, offset: u64, error: DecodeError) -> DecodeError {
        DecodeError::InFrame {
            frame: self.frames,
            offset,
            source: Box::new(error),
        }
    }

    /// The next frame, or `None` at the end of the file (after a valid trailer, in
    /// version 2).
    pub fn next_frame(&mut self) -> Result<Option<FileFrame>, DecodeError> {
        if self.trailer.is_some() {
            return Ok(None);
        }
        let start = self.offset;
        let mut prefix = Vec::with_capacity(10);
        let mut len = 0u64;
        let mut shift = 0;
        loop {
            let Some(byte) = self.read_byte()? else {
                if prefix.is_empty() {
                    if self.version == FILE_VERSION_1 {
                        return Ok(None);
                    }
                    return Err(DecodeError::MissingTrailer {
                        frames: self.frames,
                        offset: start,
                    });
                }
                return Err(self.in_frame(
                    start,
                    DecodeError::Truncated {
                        section: "frame length",
                        offset: prefix.len(),
                    },
                ));
            };
            prefix.push(byte);
            if prefix.len() == 1 && byte == TRAILER_MARKER && self.version != FILE_VERSION_1 {
                return self.read_trailer(start).map(|()| None);
            }
            len |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 35 {
                return Err(self.in_frame(
                    start,
                    DecodeError::Invalid {
                        section: "frame length",
                        offset: prefix.len(),
                        reason: "frame length too long",
                    },
                ));
            }
        }
        // A zstd frame may be a little larger than its payload; headers add a few bytes.
        let slack = self.max_frame_bytes / 8 + 1024;
        if len > self.max_frame_bytes.saturating_add(slack) {
            return Err(self.in_frame(
                start,
                DecodeError::LimitExceeded("frame larger than max_frame_bytes"),
            ));
        }
        let checksum_len = if self.version == FILE_VERSION_1 {
            0
        } else {
            CHECKSUM_BYTES as u64
        };
        let mut bytes = self.read_up_to(len + checksum_len)?;
        if (bytes.len() as u64) < len + checksum_len {
            let offset = prefix.len() + bytes.len();
            return Err(self.in_frame(
                start,
                DecodeError::Truncated {
                    section: "frame (file cut short)",
                    offset,
                },
            ));
        }
        if checksum_len != 0 {
            let stored = u64::from_le_bytes(
                bytes[len as usize..]
                    .try_into()
                    .expect("eight checksum bytes were read"),
            );
            let mut hasher = Xxh3::new();
            hasher.update(&prefix);
            hasher.update(&bytes[..len as usize]);
            if hasher.digest() != stored {
                return Err(DecodeError::ChecksumMismatch {
                    frame: self.frames,
                    offset: start,
                });
            }
        }
        self.whole.0.update(&prefix);
        self.whole.0.update(&bytes);
        bytes.truncate(len as usize);
        let (header, _) = read_frame_header(&bytes).map_err(|e| self.in_frame(start, e))?;
        self.offset += prefix.len() as u64 + len + checksum_len;
        let frame = FileFrame {
            index: self.frames,
            offset: start,
            end: self.offset,
            span_count: header.span_count,
            bytes,
        };
        self.frames += 1;
        self.spans += header.span_count;
        Ok(Some(frame))
    }

    fn read_trailer(&mut self, start: u64) -> Result<(), DecodeError> {
        let bad = |reason: String| DecodeError::BadTrailer {
            offset: start,
            reason,
        };
        // Marker, two varints and two checksums: at most 37 bytes.
        let mut bytes = vec![TRAILER_MARKER];
        bytes.extend(self.read_up_to(36)?);
        let trailer = parse_trailer(&bytes).map_err(|reason| bad(reason.to_owned()))?;
        if bytes.len() > trailer.len || self.read_byte()?.is_some() {
            return Err(bad("bytes after the trailer".to_owned()));
        }
        if trailer.whole != self.whole.0.digest() {
            return Err(bad("checksum of the whole file mismatch".to_owned()));
        }
        if trailer.frames != self.frames || trailer.spans != self.spans {
            return Err(bad(format!(
                "the file holds {} frames of {} spans, the trailer says {} frames of {} spans",
                self.frames, self.spans, trailer.frames, trailer.spans
            )));
        }
        self.offset += trailer.len as u64;
        self.trailer = Some(FileTrailer {
            frames: trailer.frames,
            spans: trailer.spans,
            offset: start,
        });
        Ok(())
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
    let mut writer = FileWriter::new(Vec::new()).expect("writing to a Vec cannot fail");
    for batch in spans.chunks(batch_spans.max(1)) {
        let frame = encoder.encode_batch(batch)?;
        writer
            .write_frame(&frame)
            .expect("writing to a Vec cannot fail");
    }
    Ok(writer.finish().expect("writing to a Vec cannot fail").0)
}

/// Decompresses a whole `.tz` file into its spans, in order.
pub fn decompress(file: &[u8]) -> Result<Vec<Span>, DecodeError> {
    let mut spans = Vec::new();
    decompress_each(file, DecoderOptions::default(), |frame_spans| {
        spans.extend(frame_spans);
        Ok::<(), DecodeError>(())
    })?;
    Ok(spans)
}

/// Decodes the `.tz` file read from `input` frame by frame, handing each frame's
/// spans to `each` (memory holds one frame at a time). Any damage is an error naming
/// the frame and its byte offset; `each`'s error ends the decoding. Returns the
/// frames and spans decoded.
pub fn decompress_each<R: Read, E: From<DecodeError>>(
    input: R,
    options: DecoderOptions,
    mut each: impl FnMut(Vec<Span>) -> Result<(), E>,
) -> Result<(u64, u64), E> {
    let mut reader = FileReader::new(input, options.max_frame_bytes)?;
    let mut decoder = Decoder::new(options);
    let mut spans = 0;
    while let Some(frame) = reader.next_frame()? {
        let decoded = decoder
            .decode_frame(&frame.bytes)
            .map_err(|error| DecodeError::InFrame {
                frame: frame.index,
                offset: frame.offset,
                source: Box::new(error),
            })?;
        spans += decoded.len() as u64;
        each(decoded)?;
    }
    Ok((reader.frames, spans))
}
