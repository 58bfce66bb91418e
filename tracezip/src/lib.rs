//! Lossless span compression with a Span Retrieval Tree (SRT).
//!
//! Spans repeat themselves: names, attribute keys and values, resources, scopes, and
//! nearly the same timestamps. The encoder and the decoder keep the same dictionaries
//! and the same tree (see [`tree`]); a span is then sent as a path id (its shared part),
//! its ids coded against ids already known ([`ids`]), time deltas, and the few values
//! that do not repeat. `decode(encode(spans)) == spans` exactly. The byte format is
//! described in `FORMAT.md` beside this crate.
//!
//! ```
//! use tracezip::{Decoder, Encoder, EncoderOptions};
//! use trace_formats::Span;
//! let spans = vec![Span { name: "GET /".into(), ..Span::default() }];
//! let mut encoder = Encoder::new(7, EncoderOptions::default());
//! let frame = encoder.encode_batch(&spans).unwrap();
//! let mut decoder = Decoder::default();
//! assert_eq!(decoder.decode_frame(&frame).unwrap(), spans);
//! ```

pub mod compare;
pub mod container;
pub mod decoder;
pub mod encoder;
pub mod error;
pub mod ids;
pub mod salvage;
pub mod tree;
pub mod value;
pub mod wire;

pub use compare::{span_identical, spans_identical};
pub use container::{
    DEFAULT_BATCH_SPANS, FileFrame, FileReader, FileTrailer, FileWriter, compress, decompress,
    decompress_each,
};
pub use decoder::{Decoder, DecoderOptions, FrameHeader, read_frame_header};
pub use encoder::{DEFAULT_ZSTD_LEVEL, Encoder, EncoderOptions, EncoderStats};
pub use error::{DecodeError, EncodeError};
pub use salvage::{LostRange, SalvageReport, salvage};

/// Version byte of frames (the frame layout is the same in both file versions).
pub const FORMAT_VERSION: u8 = 1;
/// Version byte of the files written: 2 adds a checksum to every frame and a trailer.
pub const FILE_VERSION: u8 = 2;
/// The first file version: frames without checksums, no trailer. Still read.
pub const FILE_VERSION_1: u8 = 1;
/// Magic bytes opening a `.tz` file.
pub const FILE_MAGIC: [u8; 4] = *b"TZIP";
/// Frame flag: the payload is zstd-compressed.
pub const FLAG_ZSTD: u8 = 1;
/// Frame flag: the decoder drops the stream's state before this frame.
pub const FLAG_RESET: u8 = 2;
/// Largest frame payload (before zstd) an encoder produces and a decoder accepts by
/// default: bigger batches must be split.
pub const MAX_FRAME_BYTES: usize = 64 << 20;
/// Most spans in one frame an encoder produces and a decoder accepts by default.
pub const MAX_FRAME_SPANS: usize = 1 << 16;
/// Most bytes of spans (strings, ids, attribute values and the span structures) one
/// frame may decode to by default: a small frame whose spans repeat a long string by
/// reference must not turn into gigabytes.
pub const MAX_DECODED_FRAME_BYTES: usize = 512 << 20;
/// Deepest nesting of arrays and key-value lists in an attribute value.
pub const MAX_VALUE_DEPTH: usize = 64;
/// Highest zstd level used (higher levels need windows the decoder refuses).
pub const MAX_ZSTD_LEVEL: i32 = 19;
/// Traces whose state both sides keep (a ring, by order of first appearance).
pub const TRACE_SLOTS: usize = 1024;
/// Ids kept per trace for back references before the list starts over.
pub const MAX_TRACE_IDS: usize = 1 << 16;
/// Inline strings kept for back references before the list starts over.
pub const MAX_RECENT_STRINGS: usize = 1 << 12;
/// Value tag of an inline string coded like an id (see [`ids`]); tags 0..=8 are the
/// plain value encodings of [`value`].
pub const TAG_CODED_STRING: u8 = 9;
/// Largest power of ten used as time unit.
pub const MAX_TIME_EXPONENT: u32 = 18;

/// The rarely used span fields, sent only when a span has any of them.
pub(crate) mod extras {
    use trace_formats::Span;

    pub const TRACE_STATE: u32 = 1;
    pub const FLAGS: u32 = 1 << 1;
    pub const DROPPED_ATTRIBUTES: u32 = 1 << 2;
    pub const EVENTS: u32 = 1 << 3;
    pub const DROPPED_EVENTS: u32 = 1 << 4;
    pub const LINKS: u32 = 1 << 5;
    pub const DROPPED_LINKS: u32 = 1 << 6;
    pub const STATUS_MESSAGE: u32 = 1 << 7;
    pub const ALL: u32 = (1 << 8) - 1;

    /// Which rarely used fields `span` has.
    #[inline]
    pub fn mask(span: &Span) -> u32 {
        let mut mask = 0;
        for (present, bit) in [
            (!span.trace_state.is_empty(), TRACE_STATE),
            (span.flags != 0, FLAGS),
            (span.dropped_attributes_count != 0, DROPPED_ATTRIBUTES),
            (!span.events.is_empty(), EVENTS),
            (span.dropped_events_count != 0, DROPPED_EVENTS),
            (!span.links.is_empty(), LINKS),
            (span.dropped_links_count != 0, DROPPED_LINKS),
            (!span.status.message.is_empty(), STATUS_MESSAGE),
        ] {
            if present {
                mask |= bit;
            }
        }
        mask
    }
}
