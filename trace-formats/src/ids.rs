//! Turning any format's ids into valid OTLP ids (16-byte trace ids, 8-byte span ids).
//!
//! - Binary ids (OTLP, Jaeger, Zipkin: hex in the file) of the right length are kept;
//!   shorter ones are left-padded with zero bytes, as the OpenTelemetry Collector does
//!   with 64-bit Jaeger and Zipkin trace ids; longer (or empty) ones are hashed.
//! - Textual ids (SkyWalking, research CSV) that are hex of exactly the right length
//!   (32 digits for a trace, 16 for a span) are decoded; any other text is hashed.
//! - Hashing is XXH3 (128 bits for trace ids, 64 for span ids) of the id's text (for
//!   binary ids, its lowercase hex), a stable, specified function: the same text gives
//!   the same id on every machine and in every file, so parents still match children.
//!   An all-zero result (invalid in OTLP) becomes 1.
//! - Whenever an id is hashed, its original text is kept in an attribute:
//!   [`ORIGINAL_TRACE_ID`], [`ORIGINAL_SPAN_ID`], [`ORIGINAL_PARENT_SPAN_ID`] on the span
//!   (the first two also on links whose ids were hashed).

use crate::json_util::{decode_hex, hex};
use crate::model::{KeyValue, Span};

/// Span (or link) attribute holding the original trace id text when it was hashed.
pub const ORIGINAL_TRACE_ID: &str = "autoscope.original_trace_id";
/// Span (or link) attribute holding the original span id text when it was hashed.
pub const ORIGINAL_SPAN_ID: &str = "autoscope.original_span_id";
/// Span attribute holding the original parent span id text when it was hashed.
pub const ORIGINAL_PARENT_SPAN_ID: &str = "autoscope.original_parent_span_id";

/// An id converted for OTLP: the bytes, and the original text when it had to be hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpId {
    /// Valid OTLP id bytes.
    pub bytes: Vec<u8>,
    /// The original text, when the bytes are a hash of it.
    pub hashed_from: Option<String>,
}

fn convert(id: &[u8], textual: bool, width: usize) -> OtlpId {
    let text = if textual {
        if id.len() == width * 2
            && let Some(bytes) = std::str::from_utf8(id).ok().and_then(decode_hex)
        {
            return OtlpId {
                bytes,
                hashed_from: None,
            };
        }
        String::from_utf8_lossy(id).into_owned()
    } else {
        if id.len() == width {
            return OtlpId {
                bytes: id.to_vec(),
                hashed_from: None,
            };
        }
        if !id.is_empty() && id.len() < width {
            let mut bytes = vec![0; width - id.len()];
            bytes.extend_from_slice(id);
            return OtlpId {
                bytes,
                hashed_from: None,
            };
        }
        hex(id)
    };
    let mut bytes = if width == 16 {
        xxhash_rust::xxh3::xxh3_128(text.as_bytes())
            .to_be_bytes()
            .to_vec()
    } else {
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
            .to_be_bytes()
            .to_vec()
    };
    if bytes.iter().all(|&b| b == 0) {
        bytes[width - 1] = 1;
    }
    OtlpId {
        bytes,
        hashed_from: Some(text),
    }
}

/// Converts a trace id as read from a format with `textual` ids (see the module docs).
pub fn otlp_trace_id(id: &[u8], textual: bool) -> OtlpId {
    convert(id, textual, 16)
}

/// Converts a span id as read from a format with `textual` ids (see the module docs).
pub fn otlp_span_id(id: &[u8], textual: bool) -> OtlpId {
    convert(id, textual, 8)
}

/// Rewrites the ids of `span` (and of its links) into valid OTLP ids, adding the
/// original-text attributes where an id was hashed. An empty parent stays empty.
pub fn make_otlp_ids(span: &mut Span, textual: bool) {
    let trace = otlp_trace_id(&span.trace_id, textual);
    let own = otlp_span_id(&span.span_id, textual);
    span.trace_id = trace.bytes;
    span.span_id = own.bytes;
    push_original(&mut span.attributes, ORIGINAL_TRACE_ID, trace.hashed_from);
    push_original(&mut span.attributes, ORIGINAL_SPAN_ID, own.hashed_from);
    if !span.parent_span_id.is_empty() {
        let parent = otlp_span_id(&span.parent_span_id, textual);
        span.parent_span_id = parent.bytes;
        push_original(
            &mut span.attributes,
            ORIGINAL_PARENT_SPAN_ID,
            parent.hashed_from,
        );
    }
    for link in &mut span.links {
        let trace = otlp_trace_id(&link.trace_id, textual);
        let linked = otlp_span_id(&link.span_id, textual);
        link.trace_id = trace.bytes;
        link.span_id = linked.bytes;
        push_original(&mut link.attributes, ORIGINAL_TRACE_ID, trace.hashed_from);
        push_original(&mut link.attributes, ORIGINAL_SPAN_ID, linked.hashed_from);
    }
}

fn push_original(attributes: &mut Vec<KeyValue>, key: &str, original: Option<String>) {
    if let Some(text) = original
        && !attributes.iter().any(|kv| kv.key == key)
    {
        attributes.push(KeyValue::string(key, text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_the_documented_rules() {
        let id = otlp_trace_id(&[0xab; 16], false);
        assert_eq!(
            id,
            OtlpId {
                bytes: vec![0xab; 16],
                hashed_from: None
            }
        );
        let padded = otlp_trace_id(&[1, 2, 3, 4, 5, 6, 7, 8], false);
        assert_eq!(&padded.bytes[..8], &[0; 8]);
        assert_eq!(&padded.bytes[8..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        let text = otlp_span_id(b"abc.1.2", true);
        assert_eq!(text.bytes.len(), 8);
        assert_eq!(text.hashed_from.as_deref(), Some("abc.1.2"));
        assert_eq!(otlp_span_id(b"abc.1.2", true), text, "stable");
        let hex_text = otlp_span_id(b"00f067aa0ba902b7", true);
        assert_eq!(
            hex_text.bytes,
            vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        );
        let long = otlp_span_id(&[7; 9], false);
        assert_eq!(long.hashed_from.as_deref(), Some("070707070707070707"));
    }
}
