//! The decoding side: applies frames to per-stream state and rebuilds the spans.

use crate::error::DecodeError;
use crate::ids::{
    IdCoding, IdList, REF_PARENT, REF_PREVIOUS_IN_STREAM, REF_PREVIOUS_IN_TRACE, REF_TRACE, Refs,
    read_id_after_tag,
};
use crate::tree::{DecoderTree, Dictionaries, Slot};
use crate::value::{read_attributes, read_resource, read_scope, read_value};
use crate::wire::Reader;
use crate::{
    FLAG_RESET, FLAG_ZSTD, FORMAT_VERSION, MAX_RECENT_STRINGS, MAX_TIME_EXPONENT, MAX_TRACE_IDS,
    TAG_CODED_STRING, TRACE_SLOTS, extras,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use trace_formats::{AnyValue, Event, KeyValue, Link, Resource, Scope, Span, Status};

/// Limits of a [`Decoder`], which bound what garbage or hostile input can make it use.
#[derive(Debug, Clone)]
pub struct DecoderOptions {
    /// Largest frame payload accepted (after zstd), in bytes.
    pub max_frame_bytes: usize,
    /// Largest number of dictionary entries and tree nodes per stream.
    pub max_dictionary_entries: usize,
    /// Largest number of streams held at once.
    pub max_streams: usize,
    /// Most spans one frame may hold (checked on the header, before decoding).
    pub max_spans_per_frame: usize,
    /// Most bytes the spans (and definitions) of one frame may decode to, charged as
    /// decoding goes, before each allocation.
    pub max_decoded_frame_bytes: usize,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        Self {
            max_frame_bytes: crate::MAX_FRAME_BYTES,
            max_dictionary_entries: 1 << 23,
            max_streams: 4096,
            max_spans_per_frame: crate::MAX_FRAME_SPANS,
            max_decoded_frame_bytes: crate::MAX_DECODED_FRAME_BYTES,
        }
    }
}

/// Decodes frames of any number of streams, holding state per stream id.
#[derive(Debug, Default)]
pub struct Decoder {
    options: DecoderOptions,
    streams: HashMap<u64, Stream>,
    zstd: ZstdContext,
}

/// A zstd decompression context kept from frame to frame: creating one per frame
/// costs more than decompressing a typical frame.
#[derive(Default)]
struct ZstdContext(Option<zstd::zstd_safe::DCtx<'static>>);

impl std::fmt::Debug for ZstdContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZstdContext")
    }
}

#[derive(Debug)]
struct Stream {
    broken: bool,
    expected_sequence: u64,
    state: State,
}

#[derive(Debug)]
struct DecoderTrace {
    trace_id: Vec<u8>,
    ids: IdList,
    previous_span: Option<u32>,
    last_start: Option<u64>,
}

#[derive(Debug)]
struct State {
    strings: Vec<String>,
    values: Vec<AnyValue>,
    resources: Vec<Arc<Resource>>,
    scopes: Vec<Arc<Scope>>,
    tree: DecoderTree,
    traces: Vec<Option<DecoderTrace>>,
    traces_created: u64,
    previous_trace: Option<u64>,
    last_created_trace_id: Option<Vec<u8>>,
    previous_span_id: Option<Vec<u8>>,
    last_start: u64,
    recent_strings: IdList,
    last_string_by_key: Vec<Option<Vec<u8>>>,
    previous_string_in_span: Vec<u8>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            strings: Vec::new(),
            values: Vec::new(),
            resources: Vec::new(),
            scopes: Vec::new(),
            tree: DecoderTree::default(),
            traces: (0..TRACE_SLOTS).map(|_| None).collect(),
            traces_created: 0,
            previous_trace: None,
            last_created_trace_id: None,
            previous_span_id: None,
            last_start: 0,
            recent_strings: IdList::default(),
            last_string_by_key: Vec::new(),
            previous_string_in_span: Vec::new(),
        }
    }
}

/// The parts of a frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Stream id.
    pub stream_id: u64,
    /// Sequence number within the stream.
    pub sequence: u64,
    /// Whether the frame resets the stream's state.
    pub reset: bool,
    /// Whether the payload is zstd-compressed.
    pub zstd: bool,
    /// Number of spans.
    pub span_count: u64,
    /// Payload length before zstd.
    pub payload_len: u64,
}

/// Reads a frame's header; returns it and the offset of the body.
pub fn read_frame_header(frame: &[u8]) -> Result<(FrameHeader, usize), DecodeError> {
    let mut reader = Reader::new(frame, "frame header");
    let version = reader.byte()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let flags = reader.byte()?;
    if flags & !(FLAG_RESET | FLAG_ZSTD) != 0 {
        return Err(reader.invalid("unknown frame flags"));
    }
    let header = FrameHeader {
        stream_id: reader.varint()?,
        sequence: reader.varint()?,
        reset: flags & FLAG_RESET != 0,
        zstd: flags & FLAG_ZSTD != 0,
        span_count: reader.varint()?,
        payload_len: reader.varint()?,
    };
    Ok((header, frame.len() - reader.remaining()))
}

impl Decoder {
    /// A decoder with the given limits.
    pub fn new(options: DecoderOptions) -> Self {
        Self {
            options,
            streams: HashMap::new(),
            zstd: ZstdContext::default(),
        }
    }

    /// Forgets stream `stream_id` (its encoder went away).
    pub fn drop_stream(&mut self, stream_id: u64) {
        self.streams.remove(&stream_id);
    }

    /// Decodes one frame into its spans, in their original order. After an error the
    /// frame's stream accepts only a reset frame.
    pub fn decode_frame(&mut self, frame: &[u8]) -> Result<Vec<Span>, DecodeError> {
        let (header, body_offset) = read_frame_header(frame)?;
        let body = &frame[body_offset..];
        if header.span_count > self.options.max_spans_per_frame as u64 {
            return Err(DecodeError::LimitExceeded(
                "frame holds more spans than max_spans_per_frame",
            ));
        }
        if header.payload_len > self.options.max_frame_bytes as u64 {
            return Err(DecodeError::LimitExceeded(
                "frame payload larger than max_frame_bytes",
            ));
        }
        let payload_len = header.payload_len as usize;
        let decompressed;
        let payload = if header.zstd {
            decompressed = decompress_bounded(&mut self.zstd, body, payload_len)?;
            decompressed.as_slice()
        } else {
            if body.len() != payload_len {
                return Err(DecodeError::Invalid {
                    section: "frame header",
                    offset: body_offset,
                    reason: "payload length differs from the frame's remaining bytes",
                });
            }
            body
        };
        if header.reset {
            if !self.streams.contains_key(&header.stream_id)
                && self.streams.len() >= self.options.max_streams
            {
                return Err(DecodeError::LimitExceeded("too many streams"));
            }
            self.streams.insert(
                header.stream_id,
                Stream {
                    broken: false,
                    expected_sequence: header.sequence,
                    state: State::default(),
                },
            );
        }
        let stream = self
            .streams
            .get_mut(&header.stream_id)
            .ok_or(DecodeError::StreamBroken(header.stream_id))?;
        if stream.broken {
            return Err(DecodeError::StreamBroken(header.stream_id));
        }
        if stream.expected_sequence != header.sequence {
            return Err(DecodeError::OutOfSequence {
                stream_id: header.stream_id,
                expected: stream.expected_sequence,
                got: header.sequence,
            });
        }
        match stream
            .state
            .decode_payload(payload, header.span_count, &self.options)
        {
            Ok(spans) => {
                stream.expected_sequence = header.sequence.wrapping_add(1);
                Ok(spans)
            }
            Err(error) => {
                stream.broken = true;
                Err(error)
            }
        }
    }
}

/// Decompresses a zstd body that must hold exactly `expected` bytes, growing the output
/// only as data arrives, so a lying header cannot force a large allocation.
fn decompress_bounded(
    context: &mut ZstdContext,
    body: &[u8],
    expected: usize,
) -> Result<Vec<u8>, DecodeError> {
    use zstd::zstd_safe::{DCtx, DParameter, ResetDirective};
    let zstd_error = |e: std::io::Error| DecodeError::Zstd(e.to_string());
    let code_error =
        |code: usize| DecodeError::Zstd(zstd::zstd_safe::get_error_name(code).to_owned());
    let context = match &mut context.0 {
        Some(context) => {
            // Drops whatever a failed frame left behind; parameters stay.
            context
                .reset(ResetDirective::SessionOnly)
                .map_err(code_error)?;
            context
        }
        empty => {
            let mut created = DCtx::try_create()
                .ok_or_else(|| DecodeError::Zstd("cannot create a zstd context".into()))?;
            // Frames are written with levels up to 19, whose windows are at most 8 MiB.
            created
                .set_parameter(DParameter::WindowLogMax(23))
                .map_err(code_error)?;
            empty.insert(created)
        }
    };
    let decoder = zstd::stream::read::Decoder::with_context(body, context).single_frame();
    let mut out = Vec::with_capacity(expected.min(body.len().saturating_mul(16) + 4096));
    decoder
        .take(expected as u64 + 1)
        .read_to_end(&mut out)
        .map_err(zstd_error)?;
    if out.len() != expected {
        return Err(DecodeError::Zstd(format!(
            "payload is {} bytes, header says {expected}",
            out.len()
        )));
    }
    Ok(out)
}

impl State {
    fn entries(&self) -> usize {
        self.strings.len()
            + self.values.len()
            + self.resources.len()
            + self.scopes.len()
            + self.tree.len()
    }

    fn decode_payload(
        &mut self,
        payload: &[u8],
        span_count: u64,
        options: &DecoderOptions,
    ) -> Result<Vec<Span>, DecodeError> {
        let budget = Cell::new(options.max_decoded_frame_bytes);
        let mut reader = Reader::new(payload, "frame payload");
        let definitions = reader.bytes()?;
        let shapes = reader.bytes()?;
        let ids = reader.bytes()?;
        let times = reader.bytes()?;
        let inline = reader.bytes()?;
        if !reader.is_empty() {
            return Err(reader.invalid("bytes after the last section"));
        }
        self.apply_definitions(definitions, options, &budget)?;
        // Every span takes at least one byte of the shapes section.
        if span_count > shapes.len() as u64 {
            return Err(DecodeError::Invalid {
                section: "frame header",
                offset: 0,
                reason: "span count larger than the shapes section",
            });
        }
        let mut columns = Columns {
            shapes: Reader::new(shapes, "shapes section").with_budget(&budget),
            ids: Reader::new(ids, "ids section").with_budget(&budget),
            times: Reader::new(times, "times section").with_budget(&budget),
            inline: Reader::new(inline, "inline section").with_budget(&budget),
            unit: 1,
        };
        let exponent = columns.times.byte()?;
        if u32::from(exponent) > MAX_TIME_EXPONENT {
            return Err(columns.times.invalid("time unit exponent out of range"));
        }
        columns.unit = 10u64.pow(u32::from(exponent));
        // Capacity grows with spans actually decoded, not with what the header claims.
        let mut spans = Vec::with_capacity((span_count as usize).min(8192));
        for _ in 0..span_count {
            spans.push(self.decode_span(&mut columns)?);
        }
        for (name, column) in [
            ("shapes", &columns.shapes),
            ("ids", &columns.ids),
            ("times", &columns.times),
            ("inline", &columns.inline),
        ] {
            if !column.is_empty() {
                let _ = name;
                return Err(column.invalid("bytes left after the last span"));
            }
        }
        Ok(spans)
    }

    fn apply_definitions(
        &mut self,
        definitions: &[u8],
        options: &DecoderOptions,
        budget: &Cell<usize>,
    ) -> Result<(), DecodeError> {
        let mut reader = Reader::new(definitions, "definitions section").with_budget(budget);
        let too_many = DecodeError::LimitExceeded("dictionary larger than max_dictionary_entries");
        // Strings (at least one byte each: their length).
        let count = reader.count(1)?;
        if self.entries() + count > options.max_dictionary_entries {
            return Err(too_many);
        }
        self.strings.reserve(count);
        for _ in 0..count {
            self.strings.push(reader.owned_string()?);
        }
        let count = reader.count(1)?;
        if self.entries() + count > options.max_dictionary_entries {
            return Err(too_many);
        }
        self.values.reserve(count);
        for _ in 0..count {
            self.values.push(read_value(&mut reader)?);
        }
        let count = reader.count(3)?;
        if self.entries() + count > options.max_dictionary_entries {
            return Err(too_many);
        }
        for _ in 0..count {
            self.resources.push(Arc::new(read_resource(&mut reader)?));
        }
        let count = reader.count(5)?;
        if self.entries() + count > options.max_dictionary_entries {
            return Err(too_many);
        }
        for _ in 0..count {
            self.scopes.push(Arc::new(read_scope(&mut reader)?));
        }
        let count = reader.count(2)?;
        if self.entries() + count > options.max_dictionary_entries {
            return Err(too_many);
        }
        let dictionaries = Dictionaries {
            strings: &self.strings,
            values: &self.values,
            resources: &self.resources,
            scopes: &self.scopes,
        };
        for _ in 0..count {
            self.tree.define(&mut reader, &dictionaries)?;
        }
        if !reader.is_empty() {
            return Err(reader.invalid("bytes after the last definition"));
        }
        Ok(())
    }

    fn decode_span(&mut self, columns: &mut Columns<'_>) -> Result<Span, DecodeError> {
        let shape = columns.shapes.varint()?;
        let path = u32::try_from(shape >> 1)
            .map_err(|_| columns.shapes.invalid("path id out of range"))?;
        let has_extras = shape & 1 != 0;
        let template = Arc::clone(self.tree.path(path)?);
        let template = &*template;
        columns.shapes.charge(template.decoded_bytes)?;
        let mut attributes = Vec::with_capacity(template.slots.len());
        let mut strings_in_span = 0;
        for slot in &template.slots {
            attributes.push(match slot {
                Slot::Fixed(pair) => pair.clone(),
                Slot::Inline(key, key_id) => {
                    let value = if columns.inline.peek() == Some(TAG_CODED_STRING) {
                        columns.inline.byte()?;
                        let text = self.read_inline_string(
                            *key_id,
                            strings_in_span > 0,
                            &mut columns.inline,
                        )?;
                        strings_in_span += 1;
                        columns.inline.charge(text.len())?;
                        AnyValue::String(text)
                    } else {
                        read_value(&mut columns.inline)?
                    };
                    KeyValue {
                        key: key.clone(),
                        value,
                    }
                }
            });
        }
        let (trace_id, parent_span_id, span_id, start, end) =
            self.decode_ids_and_times(columns, &attributes)?;
        // Every field is set here: `..Span::default()` would allocate (and free) a
        // resource and a scope per span.
        let mut span = Span {
            trace_id,
            span_id,
            parent_span_id,
            trace_state: String::new(),
            name: template.name.clone(),
            kind: template.kind,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            attributes,
            dropped_attributes_count: 0,
            events: Vec::new(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status: Status {
                message: String::new(),
                code: template.status,
            },
            flags: 0,
            resource: Arc::clone(&template.resource),
            scope: Arc::clone(&template.scope),
        };
        if has_extras {
            self.decode_extras(&mut span, columns)?;
        }
        Ok(span)
    }

    /// Reads an inline string coded like an id (see the encoder's `put_inline_string`).
    fn read_inline_string(
        &mut self,
        key: u32,
        has_previous_in_span: bool,
        reader: &mut Reader<'_>,
    ) -> Result<String, DecodeError> {
        if self.recent_strings.len() >= MAX_RECENT_STRINGS {
            self.recent_strings.clear();
        }
        if self.last_string_by_key.len() <= key as usize {
            self.last_string_by_key.resize(key as usize + 1, None);
        }
        let refs: Refs<'_> = [
            self.last_string_by_key[key as usize].as_deref(),
            has_previous_in_span.then_some(self.previous_string_in_span.as_slice()),
            None,
            None,
        ];
        let tag = reader.varint()?;
        let mut text = Vec::new();
        match read_id_after_tag(reader, tag, &refs, &[], &mut text)? {
            IdCoding::Bytes => {
                self.recent_strings.push(&text);
            }
            IdCoding::BackReference(distance) => {
                let index = self
                    .recent_strings
                    .at_distance(distance)
                    .ok_or_else(|| reader.invalid("back reference before the first string"))?;
                text.extend_from_slice(self.recent_strings.get(index));
            }
        }
        let last = self.last_string_by_key[key as usize].get_or_insert_with(Vec::new);
        last.clear();
        last.extend_from_slice(&text);
        self.previous_string_in_span.clear();
        self.previous_string_in_span.extend_from_slice(&text);
        String::from_utf8(text).map_err(|_| reader.invalid("inline string is not UTF-8"))
    }

    #[allow(clippy::type_complexity)]
    fn decode_ids_and_times(
        &mut self,
        columns: &mut Columns<'_>,
        attributes: &[KeyValue],
    ) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>, u64, u64), DecodeError> {
        let reader = &mut columns.ids;
        let trace_reference = reader.varint()?;
        let creation = match trace_reference {
            0 => {
                let tag = reader.varint()?;
                let refs: Refs<'_> = [self.last_created_trace_id.as_deref(), None, None, None];
                let mut trace_id = Vec::new();
                match read_id_after_tag(reader, tag, &refs, attributes, &mut trace_id)? {
                    IdCoding::Bytes => {}
                    IdCoding::BackReference(_) => {
                        return Err(reader.invalid("trace id coded as a back reference"));
                    }
                }
                self.create_trace(trace_id)
            }
            1 => self
                .previous_trace
                .ok_or_else(|| reader.invalid("no previous trace"))?,
            _ => {
                let distance = trace_reference - 2;
                if distance >= self.traces_created || distance >= TRACE_SLOTS as u64 {
                    return Err(reader.invalid("trace reference out of range"));
                }
                self.traces_created - 1 - distance
            }
        };
        self.previous_trace = Some(creation);
        let slot = (creation % TRACE_SLOTS as u64) as usize;
        let trace = self.traces[slot]
            .as_mut()
            .ok_or_else(|| reader.invalid("trace reference to an empty slot"))?;
        if trace.ids.len() + 2 > MAX_TRACE_IDS {
            trace.ids.clear();
            trace.previous_span = None;
        }
        let previous_in_stream = self.previous_span_id.as_deref();

        let parent_tag = reader.varint()?;
        let parent = if parent_tag == 0 {
            Vec::new()
        } else {
            let mut refs: Refs<'_> = [None; 4];
            refs[REF_PREVIOUS_IN_TRACE] = trace.previous_span.map(|index| trace.ids.get(index));
            refs[REF_TRACE] = Some(trace.trace_id.as_slice());
            refs[REF_PREVIOUS_IN_STREAM] = previous_in_stream;
            let mut parent = Vec::new();
            match read_id_after_tag(reader, parent_tag - 1, &refs, attributes, &mut parent)? {
                IdCoding::Bytes => {
                    trace.ids.push(&parent);
                }
                IdCoding::BackReference(distance) => {
                    let index = trace.ids.at_distance(distance).ok_or_else(|| {
                        reader.invalid("back reference before the trace's first id")
                    })?;
                    parent.extend_from_slice(trace.ids.get(index));
                }
            }
            parent
        };
        let span_tag = reader.varint()?;
        let mut refs: Refs<'_> = [None; 4];
        refs[REF_PREVIOUS_IN_TRACE] = trace.previous_span.map(|index| trace.ids.get(index));
        refs[REF_TRACE] = Some(trace.trace_id.as_slice());
        if !parent.is_empty() {
            refs[REF_PARENT] = Some(parent.as_slice());
        }
        refs[REF_PREVIOUS_IN_STREAM] = previous_in_stream;
        let mut span_id = Vec::new();
        let index = match read_id_after_tag(reader, span_tag, &refs, attributes, &mut span_id)? {
            IdCoding::Bytes => trace.ids.push(&span_id),
            IdCoding::BackReference(distance) => {
                let index = trace
                    .ids
                    .at_distance(distance)
                    .ok_or_else(|| reader.invalid("back reference before the trace's first id"))?;
                span_id.extend_from_slice(trace.ids.get(index));
                index
            }
        };
        trace.previous_span = Some(index);

        let unit = columns.unit;
        let base = trace.last_start.unwrap_or(self.last_start);
        let start = base.wrapping_add((columns.times.signed()? as u64).wrapping_mul(unit));
        let end = start.wrapping_add((columns.times.signed()? as u64).wrapping_mul(unit));
        trace.last_start = Some(start);
        self.last_start = start;
        // The ids are copies of earlier ones as often as not: a one-byte reference may
        // stand for a long id.
        columns
            .ids
            .charge(trace.trace_id.len() + parent.len() + span_id.len())?;
        let trace_id = trace.trace_id.clone();
        match &mut self.previous_span_id {
            Some(previous) => {
                previous.clear();
                previous.extend_from_slice(&span_id);
            }
            None => self.previous_span_id = Some(span_id.clone()),
        }
        Ok((trace_id, parent, span_id, start, end))
    }

    fn create_trace(&mut self, trace_id: Vec<u8>) -> u64 {
        let creation = self.traces_created;
        let slot = (creation % TRACE_SLOTS as u64) as usize;
        let trace = match self.traces[slot].take() {
            Some(mut old) => {
                old.trace_id.clear();
                old.trace_id.extend_from_slice(&trace_id);
                old.ids.clear();
                old.previous_span = None;
                old.last_start = None;
                old
            }
            None => DecoderTrace {
                trace_id: trace_id.clone(),
                ids: IdList::default(),
                previous_span: None,
                last_start: None,
            },
        };
        self.traces[slot] = Some(trace);
        self.traces_created += 1;
        self.last_created_trace_id = Some(trace_id);
        creation
    }

    fn decode_extras(
        &mut self,
        span: &mut Span,
        columns: &mut Columns<'_>,
    ) -> Result<(), DecodeError> {
        let reader = &mut columns.inline;
        let mask = reader.varint()?;
        if mask == 0 || mask > u64::from(extras::ALL) {
            return Err(reader.invalid("extras mask out of range"));
        }
        let mask = mask as u32;
        if mask & extras::TRACE_STATE != 0 {
            span.trace_state = reader.owned_string()?;
        }
        if mask & extras::FLAGS != 0 {
            span.flags = reader.varint_u32()?;
        }
        if mask & extras::DROPPED_ATTRIBUTES != 0 {
            span.dropped_attributes_count = reader.varint_u32()?;
        }
        if mask & extras::EVENTS != 0 {
            // An event takes at least four bytes: name, attribute count, dropped count
            // and its time.
            let count = reader.count(3)?;
            reader.charge(count * std::mem::size_of::<Event>())?;
            span.events.reserve(count);
            for _ in 0..count {
                let name = reader.varint()?;
                let name = self
                    .strings
                    .get(usize::try_from(name).unwrap_or(usize::MAX))
                    .ok_or(DecodeError::UnknownId {
                        kind: "string",
                        id: name,
                    })?;
                reader.charge(name.len())?;
                let name = name.clone();
                let attributes = read_attributes(reader)?;
                let dropped_attributes_count = reader.varint_u32()?;
                let offset = columns.times.signed()? as u64;
                span.events.push(Event {
                    time_unix_nano: span
                        .start_time_unix_nano
                        .wrapping_add(offset.wrapping_mul(columns.unit)),
                    name,
                    attributes,
                    dropped_attributes_count,
                });
            }
        }
        if mask & extras::DROPPED_EVENTS != 0 {
            span.dropped_events_count = reader.varint_u32()?;
        }
        if mask & extras::LINKS != 0 {
            let count = reader.count(6)?;
            reader.charge(count * std::mem::size_of::<Link>())?;
            span.links.reserve(count);
            for _ in 0..count {
                span.links.push(Link {
                    trace_id: reader.owned_bytes()?,
                    span_id: reader.owned_bytes()?,
                    trace_state: reader.owned_string()?,
                    attributes: read_attributes(reader)?,
                    dropped_attributes_count: reader.varint_u32()?,
                    flags: reader.varint_u32()?,
                });
            }
        }
        if mask & extras::DROPPED_LINKS != 0 {
            span.dropped_links_count = reader.varint_u32()?;
        }
        if mask & extras::STATUS_MESSAGE != 0 {
            span.status.message = reader.owned_string()?;
        }
        Ok(())
    }
}

struct Columns<'a> {
    shapes: Reader<'a>,
    ids: Reader<'a>,
    times: Reader<'a>,
    inline: Reader<'a>,
    unit: u64,
}
