//! A trace file read into spans, and written back (whole or a subset with edits) in
//! its own format.

use crate::error::{ReadError, WriteError};
use crate::format::{Format, detect};
use crate::model::Span;
use crate::{csv, ids, jaeger, otlp, research, skywalking, zipkin};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

/// A trace file read into the span model, with what its writer needs to write the
/// same format back.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceDocument {
    /// The file's format.
    pub format: Format,
    /// Where it was read from (a path, `-`, or another label), for messages.
    pub origin: String,
    /// The spans, in input order. For the CSV formats, each span is one row: edit
    /// spans freely, but do not add or remove any (rows are copied byte for byte).
    pub spans: Vec<Span>,
    /// For the CSV formats: the input's bytes and where each row lies.
    pub(crate) csv: Option<csv::CsvTable>,
}

/// How a kept span's parent changes in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParentEdit {
    /// The span becomes a root.
    Root,
    /// The span's parent becomes the span at this index of the document.
    Span(usize),
    /// The span's parent becomes the input parent of the span at this index: a kept
    /// span whose dropped ancestors end at a parent the input does not contain points
    /// past them to that parent's id (`reparent` mode on a partial trace).
    ParentOf(usize),
}

/// A span to write, by index into [`TraceDocument::spans`], with its edits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeptSpan {
    /// Index into [`TraceDocument::spans`].
    pub index: usize,
    /// A new parent, or `None` to keep the span's own.
    pub new_parent: Option<ParentEdit>,
    /// How many spans this one stands for after sampling; JSON writers record it in
    /// the attribute [`ADJUSTED_COUNT`] (a double), CSV writers cannot.
    pub adjusted_count: Option<f64>,
}

impl KeptSpan {
    /// The span at `index`, unchanged.
    pub fn unchanged(index: usize) -> Self {
        Self {
            index,
            new_parent: None,
            adjusted_count: None,
        }
    }
}

/// The attribute JSON writers give a span that carries an adjusted count.
pub const ADJUSTED_COUNT: &str = "sampling.adjusted_count";

/// Reads `bytes` in the format [`detect`] finds. `origin` names the source in errors.
pub fn read(bytes: &[u8], origin: &str) -> Result<TraceDocument, ReadError> {
    check_not_empty(bytes, origin)?;
    match detect(bytes) {
        Some(format) => read_as(format, bytes, origin),
        None => Err(ReadError::UnknownFormat {
            origin: origin.to_string(),
        }),
    }
}

/// Reads `bytes` as `format`, whatever [`detect`] would say.
pub fn read_as(format: Format, bytes: &[u8], origin: &str) -> Result<TraceDocument, ReadError> {
    read_cow(format, Cow::Borrowed(bytes), origin)
}

/// Like [`read`], taking ownership of the bytes: CSV documents keep them without a
/// copy.
pub fn read_owned(bytes: Vec<u8>, origin: &str) -> Result<TraceDocument, ReadError> {
    check_not_empty(&bytes, origin)?;
    match detect(&bytes) {
        Some(format) => read_cow(format, Cow::Owned(bytes), origin),
        None => Err(ReadError::UnknownFormat {
            origin: origin.to_string(),
        }),
    }
}

/// Like [`read_as`], taking ownership of the bytes.
pub(crate) fn read_owned_as(
    format: Format,
    bytes: Vec<u8>,
    origin: &str,
) -> Result<TraceDocument, ReadError> {
    read_cow(format, Cow::Owned(bytes), origin)
}

/// An input of no bytes, or of only a byte-order mark and whitespace, is "empty"
/// rather than of an unknown format.
fn check_not_empty(bytes: &[u8], origin: &str) -> Result<(), ReadError> {
    let content = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if content.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty {
            origin: origin.to_string(),
        });
    }
    Ok(())
}

fn read_cow(
    format: Format,
    bytes: Cow<'_, [u8]>,
    origin: &str,
) -> Result<TraceDocument, ReadError> {
    match format {
        Format::OtlpJson => otlp::read(&bytes, origin),
        Format::JaegerJson => jaeger::read(&bytes, origin),
        Format::ZipkinJson => zipkin::read(&bytes, origin),
        Format::SkyWalkingCsv => skywalking::read(bytes, origin),
        Format::ResearchCsv => research::read(bytes, origin),
    }
}

/// Reads the file at `path` (its format detected from its content); `-` reads standard
/// input. A gzip or zstd file (told from its first bytes, never from its name) is
/// decompressed first.
pub fn read_path(path: &Path) -> Result<TraceDocument, ReadError> {
    if path.as_os_str() == STDIN_PATH {
        return read_from(std::io::stdin().lock(), "standard input", 0);
    }
    let origin = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| ReadError::Io {
        origin: origin.clone(),
        error,
    })?;
    let size_hint = file.metadata().map_or(0, |m| m.len() as usize);
    read_from(file, &origin, size_hint)
}

/// The path that names standard input.
pub const STDIN_PATH: &str = "-";

/// Reads all of `source`, decompressing gzip or zstd content (told from its magic
/// bytes), then the trace document in it. `origin` names the source in errors;
/// `size_hint` is its length if known (0 if not).
pub fn read_from(
    source: impl std::io::Read,
    origin: &str,
    size_hint: usize,
) -> Result<TraceDocument, ReadError> {
    let io_error = |error| ReadError::Io {
        origin: origin.to_string(),
        error,
    };
    let bytes = crate::compression::read_decompressed(source, size_hint).map_err(io_error)?;
    read_owned(bytes, origin)
}

impl TraceDocument {
    /// A document of `format` holding `spans`, built by hand rather than read. Its
    /// JSON formats write from the spans; a CSV format has no rows to copy, so only an
    /// empty one can be written.
    pub fn new(format: Format, origin: impl Into<String>, spans: Vec<Span>) -> Self {
        Self {
            format,
            origin: origin.into(),
            spans,
            csv: None,
        }
    }

    /// The spans with valid OTLP ids (see [`crate::ids`]), ready for
    /// [`write_otlp_json`].
    pub fn otlp_spans(&self) -> Vec<Span> {
        let textual = self.format.has_textual_ids();
        self.spans
            .iter()
            .map(|span| {
                let mut span = span.clone();
                ids::make_otlp_ids(&mut span, textual);
                span
            })
            .collect()
    }
}

/// Writes the `kept` spans of `doc` in the document's own format, in input order
/// (`kept` may come in any order; an index may appear once).
///
/// CSV formats copy each kept row byte for byte (after the header line), changing only
/// the parent column when [`KeptSpan::new_parent`] says so; they ignore edits made to
/// [`TraceDocument::spans`] and adjusted counts. JSON formats write the spans from the
/// model, adding [`ADJUSTED_COUNT`] where given.
pub fn write(
    doc: &TraceDocument,
    kept: &[KeptSpan],
    out: &mut dyn Write,
) -> Result<(), WriteError> {
    write_part(doc, kept, out, true)
}

/// Like [`write`], for a document that continues one already written to `out` (the
/// next batch of a streamed input): CSV formats write no header line. OTLP/JSON
/// writes one more request line, as [`write`] does.
pub fn write_continuation(
    doc: &TraceDocument,
    kept: &[KeptSpan],
    out: &mut dyn Write,
) -> Result<(), WriteError> {
    write_part(doc, kept, out, false)
}

fn write_part(
    doc: &TraceDocument,
    kept: &[KeptSpan],
    out: &mut dyn Write,
    with_header: bool,
) -> Result<(), WriteError> {
    let len = doc.spans.len();
    let check = |index: usize| {
        if index < len {
            Ok(())
        } else {
            Err(WriteError::IndexOutOfRange { index, len })
        }
    };
    for kept_span in kept {
        check(kept_span.index)?;
        if let Some(ParentEdit::Span(other) | ParentEdit::ParentOf(other)) = kept_span.new_parent {
            check(other)?;
        }
    }
    let mut sorted;
    let kept = if kept.windows(2).all(|w| w[0].index < w[1].index) {
        kept
    } else {
        sorted = kept.to_vec();
        sorted.sort_by_key(|k| k.index);
        if let Some(w) = sorted.windows(2).find(|w| w[0].index == w[1].index) {
            return Err(WriteError::DuplicateIndex(w[0].index));
        }
        &sorted
    };
    match doc.format {
        Format::SkyWalkingCsv | Format::ResearchCsv => match &doc.csv {
            Some(table) if table.rows.len() == len => csv::write_csv(table, kept, out, with_header),
            Some(table) => Err(WriteError::RowsMismatch {
                spans: len,
                rows: table.rows.len(),
            }),
            None if len == 0 => Ok(()),
            None => Err(WriteError::RowsMismatch {
                spans: len,
                rows: 0,
            }),
        },
        Format::OtlpJson => otlp::write(&edited(doc, kept), out),
        Format::JaegerJson => jaeger::write(&edited(doc, kept), out),
        Format::ZipkinJson => zipkin::write(&edited(doc, kept), out),
    }
}

/// Writes every span of `doc`, unchanged, in its own format.
pub fn write_all(doc: &TraceDocument, out: &mut dyn Write) -> Result<(), WriteError> {
    let kept: Vec<KeptSpan> = (0..doc.spans.len()).map(KeptSpan::unchanged).collect();
    write(doc, &kept, out)
}

/// Writes `spans` as one OTLP/JSON `ExportTraceServiceRequest`, grouped by resource
/// and scope in first-seen order. Ids are written as they are: convert spans read
/// from other formats first ([`TraceDocument::otlp_spans`]).
pub fn write_otlp_json(spans: &[Span], out: &mut dyn Write) -> Result<(), WriteError> {
    let views: Vec<SpanView<'_>> = spans
        .iter()
        .map(|span| SpanView {
            span,
            parent: &span.parent_span_id,
            adjusted_count: None,
        })
        .collect();
    otlp::write(&views, out)
}

/// A span as a JSON writer sees it: the model span with the edits of its [`KeptSpan`].
pub(crate) struct SpanView<'a> {
    pub span: &'a Span,
    /// The parent span id to write (empty for a root).
    pub parent: &'a [u8],
    pub adjusted_count: Option<f64>,
}

fn edited<'a>(doc: &'a TraceDocument, kept: &[KeptSpan]) -> Vec<SpanView<'a>> {
    kept.iter()
        .map(|k| {
            let span = &doc.spans[k.index];
            let parent: &[u8] = match k.new_parent {
                None => &span.parent_span_id,
                Some(ParentEdit::Root) => &[],
                Some(ParentEdit::Span(index)) => &doc.spans[index].span_id,
                Some(ParentEdit::ParentOf(index)) => &doc.spans[index].parent_span_id,
            };
            SpanView {
                span,
                parent,
                adjusted_count: k.adjusted_count,
            }
        })
        .collect()
}
