//! Recovery from a damaged `.tz` file: decode every frame that is intact (its
//! checksum holds and its stream's state is known), skip the rest, and say what was
//! lost.

use crate::container::{FILE_HEADER_BYTES, parse_trailer_at};
use crate::decoder::{Decoder, DecoderOptions, read_frame_header};
use crate::error::DecodeError;
use crate::wire::Reader;
use crate::{FILE_MAGIC, FILE_VERSION, FILE_VERSION_1, FORMAT_VERSION};
use trace_formats::Span;
use xxhash_rust::xxh3::xxh3_64;

/// A stretch of the file whose spans were not recovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LostRange {
    /// Index of the first frame lost (frames counted as found; damage in a frame's
    /// length hides how many frames a damaged range held).
    pub first_frame: u64,
    /// Frames lost in the range, when known.
    pub frames: Option<u64>,
    /// Spans lost in the range, when known (from intact frame headers).
    pub spans: Option<u64>,
    /// First byte of the range.
    pub start: u64,
    /// Byte just past the range.
    pub end: u64,
    /// Why.
    pub reason: String,
}

/// What [`salvage`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SalvageReport {
    /// File format version.
    pub version: u8,
    /// Frames decoded.
    pub frames_recovered: u64,
    /// Spans decoded.
    pub spans_recovered: u64,
    /// What was skipped, in file order.
    pub lost: Vec<LostRange>,
    /// Frames and spans the (intact) trailer announces, version 2.
    pub trailer: Option<(u64, u64)>,
}

impl SalvageReport {
    /// Whether nothing was lost.
    pub fn is_complete(&self) -> bool {
        self.lost.is_empty()
    }

    /// Spans lost: from the trailer when it is intact, otherwise the sum of what the
    /// lost ranges are known to hold (`None` when some range's count is unknown).
    pub fn spans_lost(&self) -> Option<u64> {
        if let Some((_, spans)) = self.trailer {
            return Some(spans.saturating_sub(self.spans_recovered));
        }
        self.lost.iter().map(|range| range.spans).sum()
    }

    /// Frames lost, like [`SalvageReport::spans_lost`].
    pub fn frames_lost(&self) -> Option<u64> {
        if let Some((frames, _)) = self.trailer {
            return Some(frames.saturating_sub(self.frames_recovered));
        }
        self.lost.iter().map(|range| range.frames).sum()
    }
}

/// An intact frame record at `offset`: its length prefix, frame and checksum check
/// out. Returns the frame and the offset past it.
fn frame_at(file: &[u8], offset: usize, max_frame_bytes: u64) -> Option<(&[u8], usize)> {
    let mut reader = Reader::new(&file[offset..], "frame length");
    let len = reader.varint().ok()?;
    let prefix_len = file.len() - offset - reader.remaining();
    if len == 0 || len > max_frame_bytes + max_frame_bytes / 8 + 1024 {
        return None;
    }
    let frame_start = offset + prefix_len;
    let frame_end = frame_start.checked_add(len as usize)?;
    let record_end = frame_end.checked_add(8)?;
    if record_end > file.len() {
        return None;
    }
    let stored = u64::from_le_bytes(file[frame_end..record_end].try_into().ok()?);
    (xxh3_64(&file[offset..frame_end]) == stored)
        .then_some((&file[frame_start..frame_end], record_end))
}

/// Where the next intact frame or trailer starts after damage at `from`.
fn resynchronize(file: &[u8], from: usize, max_frame_bytes: u64) -> usize {
    for candidate in from..file.len() {
        if parse_trailer_at(&file[candidate..]).is_some_and(|t| candidate + t.len == file.len()) {
            return candidate;
        }
        // A frame starts with its version byte and flags right after a short length:
        // check those before hashing.
        let plausible = file[candidate + 1..]
            .iter()
            .take(6)
            .any(|&b| b == FORMAT_VERSION);
        if plausible && frame_at(file, candidate, max_frame_bytes).is_some() {
            return candidate;
        }
    }
    file.len()
}

/// Decodes what can be decoded of a `.tz` file, handing each intact frame's spans to
/// `each` in file order. Errors only when the file is not a `.tz` file at all (or
/// `each` fails).
pub fn salvage<E: From<DecodeError>>(
    file: &[u8],
    options: DecoderOptions,
    mut each: impl FnMut(Vec<Span>) -> Result<(), E>,
) -> Result<SalvageReport, E> {
    if file.len() < FILE_HEADER_BYTES as usize || file[..4] != FILE_MAGIC {
        return Err(DecodeError::BadMagic.into());
    }
    let version = file[4];
    if version != FILE_VERSION && version != FILE_VERSION_1 {
        return Err(DecodeError::UnsupportedVersion(version).into());
    }
    let max_frame_bytes = options.max_frame_bytes as u64;
    let mut decoder = Decoder::new(options);
    let mut report = SalvageReport {
        version,
        ..SalvageReport::default()
    };
    let mut offset = FILE_HEADER_BYTES as usize;
    let mut frame_index = 0u64;
    let lose = |report: &mut SalvageReport, range: LostRange| {
        // Consecutive frames lost for the same reason make one range.
        if let Some(last) = report.lost.last_mut()
            && last.end == range.start
            && last.reason == range.reason
        {
            last.end = range.end;
            last.frames = last.frames.zip(range.frames).map(|(a, b)| a + b);
            last.spans = last.spans.zip(range.spans).map(|(a, b)| a + b);
            return;
        }
        report.lost.push(range);
    };
    while offset < file.len() {
        if version == FILE_VERSION
            && file[offset] == 0
            && let Some(trailer) = parse_trailer_at(&file[offset..])
        {
            report.trailer = Some((trailer.frames, trailer.spans));
            let end = offset + trailer.len;
            if end < file.len() {
                lose(
                    &mut report,
                    LostRange {
                        first_frame: frame_index,
                        frames: None,
                        spans: None,
                        start: end as u64,
                        end: file.len() as u64,
                        reason: "bytes after the trailer".into(),
                    },
                );
            }
            break;
        }
        let record = if version == FILE_VERSION {
            frame_at(file, offset, max_frame_bytes)
        } else {
            frame_at_v1(file, offset, max_frame_bytes)
        };
        let Some((frame, next)) = record else {
            let resumed = if version == FILE_VERSION {
                resynchronize(file, offset + 1, max_frame_bytes)
            } else {
                // Without checksums there is no telling where the next frame starts.
                file.len()
            };
            lose(
                &mut report,
                LostRange {
                    first_frame: frame_index,
                    frames: None,
                    spans: None,
                    start: offset as u64,
                    end: resumed as u64,
                    reason: if version == FILE_VERSION {
                        "damaged frame (checksum mismatch or cut short)".into()
                    } else {
                        "damaged frame length or file cut short".into()
                    },
                },
            );
            frame_index += 1;
            offset = resumed;
            continue;
        };
        let span_count = read_frame_header(frame).ok().map(|(h, _)| h.span_count);
        match decoder.decode_frame(frame) {
            Ok(spans) => {
                report.frames_recovered += 1;
                report.spans_recovered += spans.len() as u64;
                each(spans)?;
            }
            Err(error) => {
                let reason = match error {
                    DecodeError::StreamBroken(_) | DecodeError::OutOfSequence { .. } => {
                        "intact, but depends on a lost frame (state lost until the next reset)"
                            .to_owned()
                    }
                    other => format!("undecodable: {other}"),
                };
                lose(
                    &mut report,
                    LostRange {
                        first_frame: frame_index,
                        frames: Some(1),
                        spans: span_count,
                        start: offset as u64,
                        end: next as u64,
                        reason,
                    },
                );
            }
        }
        frame_index += 1;
        offset = next;
    }
    if version == FILE_VERSION && report.trailer.is_none() {
        lose(
            &mut report,
            LostRange {
                first_frame: frame_index,
                frames: None,
                spans: None,
                start: file.len() as u64,
                end: file.len() as u64,
                reason: "no trailer: the file was cut short (what followed is unknown)".into(),
            },
        );
    }
    Ok(report)
}

/// A version 1 frame record at `offset` (no checksum: only its length is checked).
fn frame_at_v1(file: &[u8], offset: usize, max_frame_bytes: u64) -> Option<(&[u8], usize)> {
    let mut reader = Reader::new(&file[offset..], "frame length");
    let len = reader.varint().ok()?;
    let frame_start = file.len() - reader.remaining();
    if len == 0 || len > max_frame_bytes + max_frame_bytes / 8 + 1024 {
        return None;
    }
    let end = frame_start.checked_add(len as usize)?;
    (end <= file.len()).then(|| (&file[frame_start..end], end))
}
