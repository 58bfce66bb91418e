//! Trace files in the formats users have, read into one span model ([`model::Span`],
//! shaped like OTLP) and written back in the same format.
//!
//! ```no_run
//! use trace_formats::{KeptSpan, ParentEdit, read_path, write};
//! let doc = read_path("traces.csv".as_ref())?;
//! // Keep the first span, and the second as a new root standing for 10 spans.
//! let kept = [
//!     KeptSpan::unchanged(0),
//!     KeptSpan { index: 1, new_parent: Some(ParentEdit::Root), adjusted_count: Some(10.0) },
//! ];
//! write(&doc, &kept, &mut std::io::stdout().lock())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Formats
//!
//! The format is told from the content ([`detect`]), never from the file name.
//!
//! | [`Format`] | content | ids in the model | times |
//! |---|---|---|---|
//! | `OtlpJson` | `ExportTraceServiceRequest` (one, or one per line) | hex decoded | ns |
//! | `JaegerJson` | `{"data": [{traceID, spans, processes}]}` | hex decoded | µs |
//! | `ZipkinJson` | `[span, ...]` (v2) | hex decoded | µs |
//! | `SkyWalkingCsv` | [`SKYWALKING_HEADER`] | the text's bytes | ms |
//! | `ResearchCsv` | [`RESEARCH_HEADER`] | the text's bytes | ns |
//!
//! Mapping decisions, in short (each module's docs give the details):
//! - **OTLP/JSON** ([`otlp`]) maps field for field; unknown keys are ignored; numbers
//!   and enum names are accepted where the spec writes strings and integers.
//! - **Jaeger** ([`jaeger`]): process → resource; typed tags → typed attributes (kept,
//!   including `span.kind` and `error`, so writing back loses nothing); kind from
//!   `span.kind`; error from `error=true` or `otel.status_code=ERROR`; first same-trace
//!   `CHILD_OF` reference → parent, other references → links; logs → events;
//!   Jaeger-only data in attributes prefixed `jaeger.`.
//! - **Zipkin** ([`zipkin`]): local endpoint → resource; tags → string attributes;
//!   error from tag `error`; remote endpoint, `shared`, `debug` → attributes prefixed
//!   `zipkin.`; annotations → events.
//! - **SkyWalking CSV** ([`skywalking`]): URL → name, Service → resource, Component →
//!   scope; Entry → Server (Consumer for consumers), Exit → Client (Producer for
//!   producers), Local → Internal; parent `-1` → root; IsError → status.
//! - **Research CSV** ([`research`]): pod → resource whose service is the pod name
//!   without Kubernetes suffixes; parent `root` → root.
//!
//! Writing ([`write()`]) keeps the input's format. CSV writers copy each kept row byte
//! for byte, changing only the parent column when a [`ParentEdit`] says so; JSON
//! writers write from the model and record [`ADJUSTED_COUNT`]. [`write_otlp_json`]
//! writes any spans as OTLP/JSON; [`TraceDocument::otlp_spans`] first turns textual or
//! odd-length ids into valid OTLP ids, keeping hashed originals in attributes
//! ([`ids`]).

mod compression;
mod csv;
mod document;
mod error;
mod format;
pub mod ids;
pub mod jaeger;
mod json_util;
pub mod model;
pub mod otlp;
pub mod research;
pub mod skywalking;
pub mod stream;
pub mod zipkin;

pub use compression::{Compression, detect_compression, read_decompressed};
pub use document::{
    ADJUSTED_COUNT, KeptSpan, ParentEdit, STDIN_PATH, TraceDocument, read, read_as, read_from,
    read_owned, read_path, write, write_all, write_continuation, write_otlp_json,
};
pub use error::{ReadError, WriteError, describe_io};
pub use format::{Format, RESEARCH_HEADER, SKYWALKING_HEADER, detect};
pub use model::*;
pub use stream::{BlockReader, DocumentShape, Record, StreamWriter};
