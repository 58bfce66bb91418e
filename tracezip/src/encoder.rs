//! The encoding side: turns batches of spans into frames, keeping the dictionaries and
//! the Span Retrieval Tree in step with what the decoder has been sent.

use crate::error::EncodeError;
use crate::ids::{
    Hints, IdList, REF_PARENT, REF_PREVIOUS_IN_STREAM, REF_PREVIOUS_IN_TRACE, REF_TRACE, Refs,
    hashes_to, put_id,
};
use crate::tree::{EncoderTree, Label, ROOT};
use crate::value::{put_attributes, put_resource, put_scope, put_value};
use crate::wire::{put_bytes, put_signed, put_varint};
use crate::{
    FLAG_RESET, FLAG_ZSTD, FORMAT_VERSION, MAX_RECENT_STRINGS, MAX_TRACE_IDS, TAG_CODED_STRING,
    TRACE_SLOTS, extras,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use trace_formats::{AnyValue, KeyValue, Resource, Scope, Span, StatusCode};

/// Settings of an [`Encoder`].
#[derive(Debug, Clone)]
pub struct EncoderOptions {
    /// zstd level applied to each frame (1..=19), or `None` for no zstd.
    pub zstd_level: Option<i32>,
    /// Attribute keys with more distinct values than this (over recent spans) are
    /// sent inline instead of being held in the tree.
    pub high_cardinality_limit: usize,
    /// Number of spans over which distinct values are counted.
    pub cardinality_window: u64,
    /// Dictionary entries (strings, values, resources, scopes, tree nodes) past which
    /// the next frame resets all state.
    pub max_dictionary_entries: usize,
    /// Dictionary bytes sent past which the next frame resets all state.
    pub max_dictionary_bytes: usize,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self {
            zstd_level: Some(DEFAULT_ZSTD_LEVEL),
            high_cardinality_limit: 64,
            cardinality_window: 1 << 16,
            max_dictionary_entries: 1 << 20,
            max_dictionary_bytes: 64 << 20,
        }
    }
}

/// zstd level used unless the options say otherwise.
pub const DEFAULT_ZSTD_LEVEL: i32 = 9;

/// Counters of an encoder since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncoderStats {
    /// Spans encoded.
    pub spans: u64,
    /// Frames produced.
    pub frames: u64,
    /// Frames that reset the state.
    pub resets: u64,
    /// Bytes of frame payload before zstd.
    pub payload_bytes: u64,
    /// Bytes of frames produced.
    pub frame_bytes: u64,
    /// Nodes currently in the tree, including the root.
    pub tree_nodes: u64,
}

/// Encodes span batches of one stream into frames.
#[derive(Debug)]
pub struct Encoder {
    stream_id: u64,
    options: EncoderOptions,
    sequence: u64,
    needs_reset: bool,
    state: State,
    frame: FrameBuffers,
    stats: EncoderStats,
    zstd: ZstdCompressor,
}

/// A zstd context kept from frame to frame: creating one per frame costs more than
/// compressing a typical frame.
#[derive(Default)]
struct ZstdCompressor(Option<(i32, zstd::bulk::Compressor<'static>)>);

impl std::fmt::Debug for ZstdCompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZstdCompressor")
    }
}

impl ZstdCompressor {
    fn compress(&mut self, payload: &[u8], level: i32) -> Result<Vec<u8>, EncodeError> {
        let zstd_error = |e: std::io::Error| EncodeError::Zstd(e.to_string());
        if !matches!(&self.0, Some((current, _)) if *current == level) {
            self.0 = Some((
                level,
                zstd::bulk::Compressor::new(level).map_err(zstd_error)?,
            ));
        }
        let (_, compressor) = self.0.as_mut().expect("a compressor was just set");
        compressor.compress(payload).map_err(zstd_error)
    }
}

/// Hasher with fixed seeds, so that encoding is deterministic from run to run.
fn fixed_hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    )
}

type FixedMap<K, V> = HashMap<K, V, ahash::RandomState>;

#[derive(Debug, Default)]
struct KeyStats {
    current: HashSet<u64, ahash::RandomState>,
    previous: usize,
}

#[derive(Debug)]
struct EncoderTrace {
    trace_id: Vec<u8>,
    /// Span and parent ids seen in this trace, for back references.
    ids: IdList,
    previous_span: Option<u32>,
    /// Start of the trace's latest span; `None` before its first.
    last_start: Option<u64>,
}

/// Which attribute an id was last found to be the hash of, per id role.
#[derive(Debug, Default, Clone, Copy)]
struct HashHint {
    index: Option<usize>,
    misses: u32,
}

const ROLE_TRACE: usize = 0;
const ROLE_PARENT: usize = 1;
const ROLE_SPAN: usize = 2;

#[derive(Debug)]
struct State {
    hasher: ahash::RandomState,
    strings: FixedMap<String, u32>,
    values: FixedMap<Vec<u8>, u32>,
    resources_by_pointer: FixedMap<usize, u32>,
    resources_alive: Vec<Arc<Resource>>,
    resources: FixedMap<Vec<u8>, u32>,
    scopes_by_pointer: FixedMap<usize, u32>,
    scopes_alive: Vec<Arc<Scope>>,
    scopes: FixedMap<Vec<u8>, u32>,
    tree: EncoderTree,
    key_stats: Vec<KeyStats>,
    spans_in_window: u64,
    traces: Vec<Option<EncoderTrace>>,
    traces_created: u64,
    trace_by_id: FixedMap<Vec<u8>, u64>,
    previous_trace: Option<u64>,
    last_created_trace_id: Option<Vec<u8>>,
    previous_span_id: Option<Vec<u8>>,
    last_start: u64,
    hash_hints: [HashHint; 3],
    /// Inline strings of recent spans, for back references.
    recent_strings: IdList,
    /// Latest inline string per attribute key id.
    last_string_by_key: Vec<Option<Vec<u8>>>,
    /// The current span's latest inline string.
    previous_string_in_span: Vec<u8>,
    dictionary_entries: usize,
    dictionary_bytes: usize,
}

impl Default for State {
    fn default() -> Self {
        Self {
            hasher: fixed_hasher(),
            strings: FixedMap::with_hasher(fixed_hasher()),
            values: FixedMap::with_hasher(fixed_hasher()),
            resources_by_pointer: FixedMap::with_hasher(fixed_hasher()),
            resources_alive: Vec::new(),
            resources: FixedMap::with_hasher(fixed_hasher()),
            scopes_by_pointer: FixedMap::with_hasher(fixed_hasher()),
            scopes_alive: Vec::new(),
            scopes: FixedMap::with_hasher(fixed_hasher()),
            tree: EncoderTree::default(),
            key_stats: Vec::new(),
            spans_in_window: 0,
            traces: (0..TRACE_SLOTS).map(|_| None).collect(),
            traces_created: 0,
            trace_by_id: FixedMap::with_hasher(fixed_hasher()),
            previous_trace: None,
            last_created_trace_id: None,
            previous_span_id: None,
            last_start: 0,
            hash_hints: [HashHint::default(); 3],
            recent_strings: IdList::default(),
            last_string_by_key: Vec::new(),
            previous_string_in_span: Vec::new(),
            dictionary_entries: 0,
            dictionary_bytes: 0,
        }
    }
}

/// Pointer-keyed caches hold at most this many entries, so that readers which give
/// every span its own `Arc` cannot make them grow without bound.
const POINTER_CACHE_LIMIT: usize = 4096;

/// The sections of the frame being built.
#[derive(Debug, Default)]
struct FrameBuffers {
    strings: Vec<u8>,
    string_count: u64,
    values: Vec<u8>,
    value_count: u64,
    resources: Vec<u8>,
    resource_count: u64,
    scopes: Vec<u8>,
    scope_count: u64,
    nodes: Vec<u8>,
    node_count: u64,
    shapes: Vec<u8>,
    ids: Vec<u8>,
    times: Vec<i64>,
    inline: Vec<u8>,
    /// Scratch space for one value's bytes.
    scratch: Vec<u8>,
    /// Scratch space for one span's attribute entries.
    entries: Vec<Entry>,
    layout: Vec<u32>,
}

impl FrameBuffers {
    fn clear(&mut self) {
        for buffer in [
            &mut self.strings,
            &mut self.values,
            &mut self.resources,
            &mut self.scopes,
            &mut self.nodes,
            &mut self.shapes,
            &mut self.ids,
            &mut self.inline,
        ] {
            buffer.clear();
        }
        self.string_count = 0;
        self.value_count = 0;
        self.resource_count = 0;
        self.scope_count = 0;
        self.node_count = 0;
        self.times.clear();
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Cardinality bucket of the key: the tree's level order.
    bucket: u32,
    key: u32,
    position: u32,
    label: Label,
}

impl Encoder {
    /// An encoder for stream `stream_id`. Its first frame resets the decoder's state.
    pub fn new(stream_id: u64, options: EncoderOptions) -> Self {
        Self {
            stream_id,
            options,
            sequence: 0,
            needs_reset: true,
            state: State::default(),
            frame: FrameBuffers::default(),
            stats: EncoderStats::default(),
            zstd: ZstdCompressor::default(),
        }
    }

    /// Makes the next frame reset all state (for a decoder that lost its state).
    pub fn reset(&mut self) {
        self.needs_reset = true;
    }

    /// Counters since creation.
    pub fn stats(&self) -> EncoderStats {
        EncoderStats {
            tree_nodes: self.state.tree.len() as u64,
            ..self.stats
        }
    }

    /// Encodes `spans` as one frame. On error no frame is produced and the next frame
    /// resets the state, so encoder and decoder stay in step.
    pub fn encode_batch(&mut self, spans: &[Span]) -> Result<Vec<u8>, EncodeError> {
        let result = self.try_encode_batch(spans);
        if result.is_err() {
            self.needs_reset = true;
        }
        result
    }

    fn try_encode_batch(&mut self, spans: &[Span]) -> Result<Vec<u8>, EncodeError> {
        if spans.len() > crate::MAX_FRAME_SPANS {
            return Err(EncodeError::TooManySpans(spans.len()));
        }
        let over_limit = self.state.dictionary_entries + self.state.tree.len()
            > self.options.max_dictionary_entries
            || self.state.dictionary_bytes > self.options.max_dictionary_bytes;
        let reset = self.needs_reset || over_limit;
        if reset {
            self.state = State::default();
            self.stats.resets += 1;
        }
        self.frame.clear();
        for span in spans {
            self.state
                .encode_span(span, &mut self.frame, &self.options)?;
        }
        let payload = self.frame.payload();
        if payload.len() > crate::MAX_FRAME_BYTES {
            return Err(EncodeError::BatchTooLarge(payload.len()));
        }
        let mut flags = 0u8;
        if reset {
            flags |= FLAG_RESET;
        }
        let body = match self.options.zstd_level {
            Some(level) => {
                flags |= FLAG_ZSTD;
                self.zstd
                    .compress(&payload, level.clamp(1, crate::MAX_ZSTD_LEVEL))?
            }
            None => Vec::new(),
        };
        let mut frame = Vec::with_capacity(32 + body.len().max(payload.len()));
        frame.push(FORMAT_VERSION);
        frame.push(flags);
        put_varint(&mut frame, self.stream_id);
        put_varint(&mut frame, self.sequence);
        put_varint(&mut frame, spans.len() as u64);
        put_varint(&mut frame, payload.len() as u64);
        if flags & FLAG_ZSTD != 0 {
            frame.extend_from_slice(&body);
        } else {
            frame.extend_from_slice(&payload);
        }
        self.needs_reset = false;
        self.sequence += 1;
        self.stats.spans += spans.len() as u64;
        self.stats.frames += 1;
        self.stats.payload_bytes += payload.len() as u64;
        self.stats.frame_bytes += frame.len() as u64;
        Ok(frame)
    }
}

impl FrameBuffers {
    /// The uncompressed payload: five length-prefixed sections.
    fn payload(&self) -> Vec<u8> {
        let mut definitions = Vec::with_capacity(
            self.strings.len()
                + self.values.len()
                + self.resources.len()
                + self.scopes.len()
                + self.nodes.len()
                + 32,
        );
        for (count, bytes) in [
            (self.string_count, &self.strings),
            (self.value_count, &self.values),
            (self.resource_count, &self.resources),
            (self.scope_count, &self.scopes),
            (self.node_count, &self.nodes),
        ] {
            put_varint(&mut definitions, count);
            definitions.extend_from_slice(bytes);
        }
        let exponent = time_exponent(&self.times);
        let unit = 10i64.pow(exponent);
        let mut times = Vec::with_capacity(self.times.len() * 3 + 1);
        times.push(exponent as u8);
        for &time in &self.times {
            put_signed(&mut times, time / unit);
        }
        let mut payload = Vec::with_capacity(
            definitions.len()
                + self.shapes.len()
                + self.ids.len()
                + times.len()
                + self.inline.len()
                + 32,
        );
        for section in [&definitions, &self.shapes, &self.ids, &times, &self.inline] {
            put_bytes(&mut payload, section);
        }
        payload
    }
}

/// The largest power of ten (exponent up to 18) dividing every value: times recorded
/// in milliseconds or microseconds then cost no more than their resolution needs.
fn time_exponent(times: &[i64]) -> u32 {
    let mut exponent = crate::MAX_TIME_EXPONENT;
    for &time in times {
        while exponent > 0 && time % 10i64.pow(exponent) != 0 {
            exponent -= 1;
        }
        if exponent == 0 {
            break;
        }
    }
    exponent
}

/// Cardinality bucket: power-of-two classes, so the level order changes rarely.
fn bucket(cardinality: usize) -> u32 {
    usize::BITS - cardinality.leading_zeros()
}

impl State {
    fn intern_string(&mut self, text: &str, frame: &mut FrameBuffers) -> u32 {
        if let Some(&id) = self.strings.get(text) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.insert(text.to_owned(), id);
        put_bytes(&mut frame.strings, text.as_bytes());
        frame.string_count += 1;
        self.dictionary_entries += 1;
        self.dictionary_bytes += text.len() + 1;
        id
    }

    /// The id of the value whose encoding is in `frame.scratch`.
    fn intern_value(&mut self, frame: &mut FrameBuffers) -> u32 {
        if let Some(&id) = self.values.get(frame.scratch.as_slice()) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.insert(frame.scratch.clone(), id);
        frame.values.extend_from_slice(&frame.scratch);
        frame.value_count += 1;
        self.dictionary_entries += 1;
        self.dictionary_bytes += frame.scratch.len();
        id
    }

    fn resource_id(
        &mut self,
        resource: &Arc<Resource>,
        frame: &mut FrameBuffers,
    ) -> Result<u32, EncodeError> {
        let pointer = Arc::as_ptr(resource) as usize;
        if let Some(&id) = self.resources_by_pointer.get(&pointer) {
            return Ok(id);
        }
        frame.scratch.clear();
        put_resource(&mut frame.scratch, resource)?;
        let id = match self.resources.get(frame.scratch.as_slice()) {
            Some(&id) => id,
            None => {
                let id = self.resources.len() as u32;
                self.resources.insert(frame.scratch.clone(), id);
                frame.resources.extend_from_slice(&frame.scratch);
                frame.resource_count += 1;
                self.dictionary_entries += 1;
                self.dictionary_bytes += frame.scratch.len();
                id
            }
        };
        if self.resources_by_pointer.len() >= POINTER_CACHE_LIMIT {
            self.resources_by_pointer.clear();
            self.resources_alive.clear();
        }
        // Keeping the Arc alive keeps its address from being reused by another value.
        self.resources_alive.push(Arc::clone(resource));
        self.resources_by_pointer.insert(pointer, id);
        Ok(id)
    }

    fn scope_id(
        &mut self,
        scope: &Arc<Scope>,
        frame: &mut FrameBuffers,
    ) -> Result<u32, EncodeError> {
        let pointer = Arc::as_ptr(scope) as usize;
        if let Some(&id) = self.scopes_by_pointer.get(&pointer) {
            return Ok(id);
        }
        frame.scratch.clear();
        put_scope(&mut frame.scratch, scope)?;
        let id = match self.scopes.get(frame.scratch.as_slice()) {
            Some(&id) => id,
            None => {
                let id = self.scopes.len() as u32;
                self.scopes.insert(frame.scratch.clone(), id);
                frame.scopes.extend_from_slice(&frame.scratch);
                frame.scope_count += 1;
                self.dictionary_entries += 1;
                self.dictionary_bytes += frame.scratch.len();
                id
            }
        };
        if self.scopes_by_pointer.len() >= POINTER_CACHE_LIMIT {
            self.scopes_by_pointer.clear();
            self.scopes_alive.clear();
        }
        self.scopes_alive.push(Arc::clone(scope));
        self.scopes_by_pointer.insert(pointer, id);
        Ok(id)
    }

    fn encode_span(
        &mut self,
        span: &Span,
        frame: &mut FrameBuffers,
        options: &EncoderOptions,
    ) -> Result<(), EncodeError> {
        self.spans_in_window += 1;
        if self.spans_in_window > options.cardinality_window {
            self.spans_in_window = 1;
            for stats in &mut self.key_stats {
                stats.previous = stats.current.len();
                stats.current.clear();
            }
        }
        let path = self.path_of(span, frame, options)?;
        let has_extras = extras::mask(span) != 0;
        put_varint(
            &mut frame.shapes,
            (u64::from(path) << 1) | u64::from(has_extras),
        );
        self.encode_ids_and_times(span, frame);
        if has_extras {
            self.encode_extras(span, frame)?;
        }
        Ok(())
    }

    /// Walks (and grows) the tree for `span`; stages inline values in `frame.scratch`.
    fn path_of(
        &mut self,
        span: &Span,
        frame: &mut FrameBuffers,
        options: &EncoderOptions,
    ) -> Result<u32, EncodeError> {
        let name = self.intern_string(&span.name, frame);
        let resource = self.resource_id(&span.resource, frame)?;
        let scope = self.scope_id(&span.scope, frame)?;
        let mut entries = std::mem::take(&mut frame.entries);
        entries.clear();
        let mut strings_in_span = 0;
        for (position, attribute) in span.attributes.iter().enumerate() {
            let key = self.intern_string(&attribute.key, frame);
            frame.scratch.clear();
            put_value(&mut frame.scratch, &attribute.value)?;
            let hash = self.hasher.hash_one(frame.scratch.as_slice());
            if self.key_stats.len() <= key as usize {
                self.key_stats
                    .resize_with(key as usize + 1, KeyStats::default);
            }
            let stats = &mut self.key_stats[key as usize];
            if stats.current.len() <= options.high_cardinality_limit {
                stats.current.insert(hash);
            }
            let cardinality = stats.current.len().max(stats.previous);
            // Inline values open the span's part of the inline section, in original order.
            let label = if cardinality > options.high_cardinality_limit {
                match &attribute.value {
                    AnyValue::String(text) => {
                        self.put_inline_string(key, text.as_bytes(), strings_in_span > 0, frame);
                        strings_in_span += 1;
                    }
                    _ => frame.inline.extend_from_slice(&frame.scratch),
                }
                Label::Inline { key }
            } else {
                let value = self.intern_value(frame);
                Label::Attribute { key, value }
            };
            entries.push(Entry {
                bucket: bucket(cardinality),
                key,
                position: position as u32,
                label,
            });
        }
        let definitions = &mut frame.nodes;
        let count = &mut frame.node_count;
        let before = self.tree.len();
        let mut node = self
            .tree
            .child(ROOT, Label::Name(name), &[], definitions, count);
        node = self.tree.child(
            node,
            Label::Meta {
                kind: span.kind.as_i32() as u8,
                status: match span.status.code {
                    StatusCode::Unset => 0,
                    StatusCode::Ok => 1,
                    StatusCode::Error => 2,
                },
                resource,
                scope,
            },
            &[],
            definitions,
            count,
        );
        let mut order: Vec<u32> = (0..entries.len() as u32).collect();
        order.sort_unstable_by_key(|&i| {
            let entry = &entries[i as usize];
            (entry.bucket, entry.key, entry.position)
        });
        let mut layout = std::mem::take(&mut frame.layout);
        layout.clear();
        layout.resize(entries.len(), 0);
        for (tree_index, &entry_index) in order.iter().enumerate() {
            node = self.tree.child(
                node,
                entries[entry_index as usize].label,
                &[],
                definitions,
                count,
            );
            layout[entry_index as usize] = tree_index as u32;
        }
        let layout_id = self.tree.layout_id(&layout);
        let path = self
            .tree
            .child(node, Label::Layout(layout_id), &layout, definitions, count);
        self.dictionary_bytes += (self.tree.len() - before) * 4;
        frame.layout = layout;
        frame.entries = entries;
        Ok(path)
    }

    /// Codes an inline string like an id: against the key's previous string, the
    /// span's previous inline string, or recent inline strings.
    fn put_inline_string(
        &mut self,
        key: u32,
        text: &[u8],
        has_previous_in_span: bool,
        frame: &mut FrameBuffers,
    ) {
        if self.recent_strings.len() >= MAX_RECENT_STRINGS {
            self.recent_strings.clear();
        }
        if self.last_string_by_key.len() <= key as usize {
            self.last_string_by_key.resize(key as usize + 1, None);
        }
        let hash = self.hasher.hash_one(text);
        let found = self.recent_strings.find(text, hash);
        let refs: Refs<'_> = [
            self.last_string_by_key[key as usize].as_deref(),
            has_previous_in_span.then_some(self.previous_string_in_span.as_slice()),
            None,
            None,
        ];
        let hints = Hints {
            back_reference: found.map(|index| self.recent_strings.distance(index)),
            hashed_attribute: None,
        };
        frame.inline.push(TAG_CODED_STRING);
        if !put_id(&mut frame.inline, text, &refs, hints, 0) {
            self.recent_strings.push_indexed(text, hash);
        }
        let last = self.last_string_by_key[key as usize].get_or_insert_with(Vec::new);
        last.clear();
        last.extend_from_slice(text);
        self.previous_string_in_span.clear();
        self.previous_string_in_span.extend_from_slice(text);
    }

    /// The index of a string attribute whose hash is `id`, trying the attribute that
    /// matched last time first, and giving up scanning on data where nothing matches.
    fn hashed_attribute(
        &mut self,
        role: usize,
        id: &[u8],
        attributes: &[KeyValue],
    ) -> Option<usize> {
        if id.len() != 8 && id.len() != 16 {
            return None;
        }
        let is_hash_of = |index: usize| matches!(attributes.get(index), Some(KeyValue { value: AnyValue::String(text), .. }) if hashes_to(id, text));
        let hint = &mut self.hash_hints[role];
        if let Some(index) = hint.index
            && is_hash_of(index)
        {
            return Some(index);
        }
        hint.misses = hint.misses.saturating_add(1);
        if hint.misses > 16 && !hint.misses.is_multiple_of(256) {
            return None;
        }
        let found = (0..attributes.len()).find(|&index| is_hash_of(index));
        if found.is_some() {
            *hint = HashHint {
                index: found,
                misses: 0,
            };
        }
        found
    }

    fn encode_ids_and_times(&mut self, span: &Span, frame: &mut FrameBuffers) {
        // Which trace: the previous span's, one created before, or a new one.
        let creation = match self.trace_by_id.get(span.trace_id.as_slice()) {
            Some(&creation) => {
                if Some(creation) == self.previous_trace {
                    put_varint(&mut frame.ids, 1);
                } else {
                    put_varint(&mut frame.ids, 2 + (self.traces_created - 1 - creation));
                }
                creation
            }
            None => {
                put_varint(&mut frame.ids, 0);
                let hints = Hints {
                    back_reference: None,
                    hashed_attribute: self.hashed_attribute(
                        ROLE_TRACE,
                        &span.trace_id,
                        &span.attributes,
                    ),
                };
                let refs: Refs<'_> = [self.last_created_trace_id.as_deref(), None, None, None];
                put_id(&mut frame.ids, &span.trace_id, &refs, hints, 0);
                self.create_trace(&span.trace_id)
            }
        };
        self.previous_trace = Some(creation);
        let parent_hash_hint = if span.parent_span_id.is_empty() {
            None
        } else {
            self.hashed_attribute(ROLE_PARENT, &span.parent_span_id, &span.attributes)
        };
        let span_hash_hint = self.hashed_attribute(ROLE_SPAN, &span.span_id, &span.attributes);
        let slot = (creation % TRACE_SLOTS as u64) as usize;
        let trace = self.traces[slot]
            .as_mut()
            .expect("a live trace has its slot");
        if trace.ids.len() + 2 > MAX_TRACE_IDS {
            trace.ids.clear();
            trace.previous_span = None;
        }
        let previous_in_stream = self.previous_span_id.as_deref();
        let ids = &mut frame.ids;

        // Parent: empty, or an id coded against references.
        if span.parent_span_id.is_empty() {
            put_varint(ids, 0);
        } else {
            let hash = self.hasher.hash_one(span.parent_span_id.as_slice());
            let found = trace.ids.find(&span.parent_span_id, hash);
            let mut refs: Refs<'_> = [None; 4];
            refs[REF_PREVIOUS_IN_TRACE] = trace.previous_span.map(|index| trace.ids.get(index));
            refs[REF_TRACE] = Some(trace.trace_id.as_slice());
            refs[REF_PREVIOUS_IN_STREAM] = previous_in_stream;
            let hints = Hints {
                back_reference: found.map(|index| trace.ids.distance(index)),
                hashed_attribute: parent_hash_hint,
            };
            if !put_id(ids, &span.parent_span_id, &refs, hints, 1) {
                trace.ids.push_indexed(&span.parent_span_id, hash);
            }
        }
        let hash = self.hasher.hash_one(span.span_id.as_slice());
        let found = trace.ids.find(&span.span_id, hash);
        let mut refs: Refs<'_> = [None; 4];
        refs[REF_PREVIOUS_IN_TRACE] = trace.previous_span.map(|index| trace.ids.get(index));
        refs[REF_TRACE] = Some(trace.trace_id.as_slice());
        if !span.parent_span_id.is_empty() {
            refs[REF_PARENT] = Some(span.parent_span_id.as_slice());
        }
        refs[REF_PREVIOUS_IN_STREAM] = previous_in_stream;
        let hints = Hints {
            back_reference: found.map(|index| trace.ids.distance(index)),
            hashed_attribute: span_hash_hint,
        };
        let index = if put_id(ids, &span.span_id, &refs, hints, 0) {
            found.expect("a back reference was found")
        } else {
            trace.ids.push_indexed(&span.span_id, hash)
        };
        trace.previous_span = Some(index);

        // Times: start against the trace's previous start (or the stream's for a new
        // trace), end as a duration; both wrapping, so any u64 pair round-trips.
        let base = trace.last_start.unwrap_or(self.last_start);
        frame
            .times
            .push(span.start_time_unix_nano.wrapping_sub(base) as i64);
        frame.times.push(
            span.end_time_unix_nano
                .wrapping_sub(span.start_time_unix_nano) as i64,
        );
        trace.last_start = Some(span.start_time_unix_nano);
        self.last_start = span.start_time_unix_nano;
        match &mut self.previous_span_id {
            Some(previous) => {
                previous.clear();
                previous.extend_from_slice(&span.span_id);
            }
            None => self.previous_span_id = Some(span.span_id.clone()),
        }
    }

    fn create_trace(&mut self, trace_id: &[u8]) -> u64 {
        let creation = self.traces_created;
        let slot = (creation % TRACE_SLOTS as u64) as usize;
        let trace = match self.traces[slot].take() {
            Some(mut old) => {
                self.trace_by_id.remove(old.trace_id.as_slice());
                old.trace_id.clear();
                old.trace_id.extend_from_slice(trace_id);
                old.ids.clear();
                old.previous_span = None;
                old.last_start = None;
                old
            }
            None => EncoderTrace {
                trace_id: trace_id.to_vec(),
                ids: IdList::default(),
                previous_span: None,
                last_start: None,
            },
        };
        self.traces[slot] = Some(trace);
        self.trace_by_id.insert(trace_id.to_vec(), creation);
        self.traces_created += 1;
        match &mut self.last_created_trace_id {
            Some(last) => {
                last.clear();
                last.extend_from_slice(trace_id);
            }
            None => self.last_created_trace_id = Some(trace_id.to_vec()),
        }
        creation
    }

    fn encode_extras(&mut self, span: &Span, frame: &mut FrameBuffers) -> Result<(), EncodeError> {
        let mask = extras::mask(span);
        put_varint(&mut frame.inline, u64::from(mask));
        if mask & extras::TRACE_STATE != 0 {
            put_bytes(&mut frame.inline, span.trace_state.as_bytes());
        }
        if mask & extras::FLAGS != 0 {
            put_varint(&mut frame.inline, u64::from(span.flags));
        }
        if mask & extras::DROPPED_ATTRIBUTES != 0 {
            put_varint(&mut frame.inline, u64::from(span.dropped_attributes_count));
        }
        if mask & extras::EVENTS != 0 {
            put_varint(&mut frame.inline, span.events.len() as u64);
            for event in &span.events {
                let name = self.intern_string(&event.name, frame);
                put_varint(&mut frame.inline, u64::from(name));
                put_attributes(&mut frame.inline, &event.attributes)?;
                put_varint(&mut frame.inline, u64::from(event.dropped_attributes_count));
                frame
                    .times
                    .push(event.time_unix_nano.wrapping_sub(span.start_time_unix_nano) as i64);
            }
        }
        if mask & extras::DROPPED_EVENTS != 0 {
            put_varint(&mut frame.inline, u64::from(span.dropped_events_count));
        }
        if mask & extras::LINKS != 0 {
            put_varint(&mut frame.inline, span.links.len() as u64);
            for link in &span.links {
                put_bytes(&mut frame.inline, &link.trace_id);
                put_bytes(&mut frame.inline, &link.span_id);
                put_bytes(&mut frame.inline, link.trace_state.as_bytes());
                put_attributes(&mut frame.inline, &link.attributes)?;
                put_varint(&mut frame.inline, u64::from(link.dropped_attributes_count));
                put_varint(&mut frame.inline, u64::from(link.flags));
            }
        }
        if mask & extras::DROPPED_LINKS != 0 {
            put_varint(&mut frame.inline, u64::from(span.dropped_links_count));
        }
        if mask & extras::STATUS_MESSAGE != 0 {
            put_bytes(&mut frame.inline, span.status.message.as_bytes());
        }
        Ok(())
    }
}
