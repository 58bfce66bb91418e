//! Typed errors of encoding, decoding and the `.tz` container.

/// Why a frame or file could not be decoded. Garbage input always ends here, never in
/// a panic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended inside a structure.
    #[error("truncated input in {section} at byte {offset}")]
    Truncated {
        /// Part of the format being read.
        section: &'static str,
        /// Offset within that part.
        offset: usize,
    },
    /// The bytes do not follow the format.
    #[error("invalid {section} at byte {offset}: {reason}")]
    Invalid {
        /// Part of the format being read.
        section: &'static str,
        /// Offset within that part.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The frame or file was written by a format version this decoder does not know.
    #[error(
        "unsupported format version {0} (this build reads files of versions 1 and 2, frames of version 1)"
    )]
    UnsupportedVersion(u8),
    /// The file does not start with the `.tz` magic bytes.
    #[error("not a tracezip file (bad magic bytes)")]
    BadMagic,
    /// A frame refers to dictionary state the decoder does not have (a frame was lost,
    /// or the decoder restarted): the encoder must send a reset frame.
    #[error("stream {stream_id}: expected frame {expected}, got frame {got} without a reset")]
    OutOfSequence {
        /// Stream id of the frame.
        stream_id: u64,
        /// Sequence number the decoder expected.
        expected: u64,
        /// Sequence number of the frame.
        got: u64,
    },
    /// An earlier frame of this stream failed to decode, so its state is unreliable
    /// until a reset frame arrives.
    #[error("stream {0}: state lost after an earlier error; waiting for a reset frame")]
    StreamBroken(u64),
    /// A dictionary reference points past the entries defined so far.
    #[error("unknown {kind} id {id}")]
    UnknownId {
        /// Which dictionary.
        kind: &'static str,
        /// The id.
        id: u64,
    },
    /// A limit of [`crate::DecoderOptions`] was exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    /// The zstd layer failed.
    #[error("zstd: {0}")]
    Zstd(String),
    /// A frame's bytes differ from what was written (version 2 files).
    #[error("frame {frame} at byte {offset}: checksum mismatch (the file is damaged)")]
    ChecksumMismatch {
        /// Index of the frame in the file, from 0.
        frame: u64,
        /// Offset of the frame's length prefix in the file.
        offset: u64,
    },
    /// A version 2 file ends without its trailer: it was cut short.
    #[error("file ends at byte {offset} after {frames} frames without its trailer (cut short?)")]
    MissingTrailer {
        /// Frames read before the end.
        frames: u64,
        /// Where the file ends.
        offset: u64,
    },
    /// The trailer disagrees with the frames read, or its checksum with the file.
    #[error("trailer at byte {offset}: {reason}")]
    BadTrailer {
        /// Offset of the trailer in the file.
        offset: u64,
        /// What disagrees.
        reason: String,
    },
    /// A frame of a file could not be read or decoded.
    #[error("frame {frame} at byte {offset}: {source}")]
    InFrame {
        /// Index of the frame in the file, from 0.
        frame: u64,
        /// Offset of the frame's length prefix in the file.
        offset: u64,
        /// What went wrong.
        source: Box<DecodeError>,
    },
    /// Reading the container failed.
    #[error("I/O: {0}")]
    Io(String),
}

/// Why spans could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// An attribute value nests arrays or key-value lists deeper than the format allows.
    #[error("attribute value nested deeper than {max} levels", max = crate::MAX_VALUE_DEPTH)]
    ValueTooDeep,
    /// The batch holds more than [`crate::MAX_FRAME_SPANS`] spans: split it.
    #[error("batch of {0} spans: at most {max} spans a frame", max = crate::MAX_FRAME_SPANS)]
    TooManySpans(usize),
    /// The batch encodes to more than [`crate::MAX_FRAME_BYTES`]: split it.
    #[error("batch too large: {0} bytes of payload (at most {max}); encode fewer spans at a time", max = crate::MAX_FRAME_BYTES)]
    BatchTooLarge(usize),
    /// The zstd layer failed.
    #[error("zstd: {0}")]
    Zstd(String),
}
