//! Trace files read piece by piece, so that a command's memory does not grow with the
//! input: blocks of whole records, each one a [`TraceDocument`] of the file's format,
//! and records (a span with its CSV row) that can be regrouped into documents.
//!
//! - The CSV formats and OTLP/JSON written one request per line (the Collector's file
//!   exporter) are read in blocks of about [`BLOCK_BYTES`]: a block ends at a line end
//!   outside quotes (a quoted CSV field may hold line ends), so each block parses on
//!   its own (a CSV block after the file's header line). Errors name the file's line,
//!   not the block's.
//! - A JSON document that is one value over many lines (Jaeger's and Zipkin's exports,
//!   pretty-printed OTLP) is one block: the whole file, as [`crate::read_path`] reads it.
//!
//! Compressed input (gzip, zstd) is decompressed as it is read.

use crate::compression::{Compression, detect_compression};
use crate::csv::CsvTable;
use crate::document::{STDIN_PATH, TraceDocument, read_as};
use crate::error::{ReadError, WriteError};
use crate::format::{Format, detect};
use crate::model::Span;
use std::io::{self, Read, Write};
use std::ops::Range;
use std::path::Path;

/// The size a block aims at. Larger blocks cost memory, smaller ones a little speed.
pub const BLOCK_BYTES: usize = 1 << 20;
/// Bytes read before the format is told.
const HEAD_BYTES: usize = 64 << 10;

/// Reads a trace file in blocks of whole records; see the [module docs](self).
pub struct BlockReader {
    source: Box<dyn Read>,
    origin: String,
    format: Format,
    /// Whether the input is read in blocks (false: one block, the whole input).
    blocked: bool,
    /// For CSV: the header line (with its line end) that starts every block.
    header: Vec<u8>,
    /// Bytes read and not yet handed out.
    pending: Vec<u8>,
    /// Line ends before `pending` in the input.
    lines_before: usize,
    /// The source is at its end.
    at_end: bool,
    /// Bytes of input handed out in blocks (after decompression).
    bytes_read: u64,
    /// A block's buffer given back ([`BlockReader::recycle`]), to read the next into.
    spare: Vec<u8>,
}

impl std::fmt::Debug for BlockReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockReader")
            .field("origin", &self.origin)
            .field("format", &self.format)
            .field("blocked", &self.blocked)
            .finish_non_exhaustive()
    }
}

impl BlockReader {
    /// Opens the file at `path` (`-`: standard input), decompressing gzip or zstd
    /// content, and tells its format from its first bytes.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        if path.as_os_str() == STDIN_PATH {
            return Self::new(Box::new(io::stdin()), "standard input");
        }
        let origin = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|error| ReadError::Io {
            origin: origin.clone(),
            error,
        })?;
        Self::new(Box::new(file), &origin)
    }

    /// Reads from `source`; `origin` names it in errors.
    pub fn new(source: Box<dyn Read>, origin: &str) -> Result<Self, ReadError> {
        let io_error = |error| ReadError::Io {
            origin: origin.to_string(),
            error,
        };
        let mut source = decompressing(source).map_err(io_error)?;
        let mut pending = Vec::with_capacity(HEAD_BYTES);
        let mut at_end = fill(&mut source, &mut pending, HEAD_BYTES).map_err(io_error)?;
        let content = pending.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&pending);
        if at_end && content.iter().all(u8::is_ascii_whitespace) {
            return Err(ReadError::Empty {
                origin: origin.to_string(),
            });
        }
        let detected = detect(&pending);
        let blocked = match detected {
            Some(format) if format.is_csv() => true,
            Some(Format::OtlpJson) => first_line_is_a_value(&pending),
            _ => false,
        };
        if !blocked && !at_end {
            // One JSON value over many lines (or a format told only from more bytes):
            // the whole input is one block.
            source.read_to_end(&mut pending).map_err(io_error)?;
            at_end = true;
        }
        let format = match detected.or_else(|| detect(&pending)) {
            Some(format) => format,
            None => {
                return Err(ReadError::UnknownFormat {
                    origin: origin.to_string(),
                });
            }
        };
        let mut reader = Self {
            source,
            origin: origin.to_string(),
            format,
            blocked,
            header: Vec::new(),
            pending,
            lines_before: 0,
            at_end,
            bytes_read: 0,
            spare: Vec::new(),
        };
        if blocked && format.is_csv() {
            reader.take_header()?;
        }
        Ok(reader)
    }

    /// The input's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The input's name in messages.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Whether the input is read in blocks; false when it is one JSON value read whole.
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Input bytes handed out so far (decompressed).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The shape every document of this input has, to regroup records into.
    pub fn shape(&self) -> DocumentShape {
        DocumentShape {
            format: self.format,
            origin: self.origin.clone(),
            csv_header: self.header.clone(),
        }
    }

    /// Gives back a block's buffer (from [`TraceDocument::into_records_and_buffer`]) so
    /// that the next block is read into it: memory the allocator already has, rather
    /// than fresh pages the system must zero.
    pub fn recycle(&mut self, buffer: Vec<u8>) {
        if buffer.capacity() > self.spare.capacity() {
            self.spare = buffer;
        }
    }

    /// Moves the CSV header line (quote-aware) from `pending` into `header`.
    fn take_header(&mut self) -> Result<(), ReadError> {
        loop {
            if let Some(end) = first_record_end(&self.pending) {
                self.header = self.pending.drain(..end).collect();
                self.lines_before = 1;
                return Ok(());
            }
            if self.at_end {
                // A header without a line end: the whole input is the header.
                self.header = std::mem::take(&mut self.pending);
                self.header.push(b'\n');
                return Ok(());
            }
            self.read_more(HEAD_BYTES)?;
        }
    }

    fn read_more(&mut self, want: usize) -> Result<(), ReadError> {
        let mut pending = std::mem::take(&mut self.pending);
        let read = self.read_into(&mut pending, want);
        self.pending = pending;
        read
    }

    /// Appends up to `want` bytes of the source to `buffer`, noting its end.
    fn read_into(&mut self, buffer: &mut Vec<u8>, want: usize) -> Result<(), ReadError> {
        self.at_end = fill(&mut self.source, buffer, want).map_err(|error| ReadError::Io {
            origin: self.origin.clone(),
            error,
        })?;
        Ok(())
    }

    /// The next block of whole records, or `None` at the end of the input.
    pub fn next_block(&mut self) -> Result<Option<TraceDocument>, ReadError> {
        if !self.blocked {
            if self.pending.is_empty() && self.at_end && self.bytes_read > 0 {
                return Ok(None);
            }
            let whole = std::mem::take(&mut self.pending);
            self.bytes_read = whole.len().max(1) as u64;
            self.at_end = true;
            return crate::document::read_owned(whole, &self.origin).map(Some);
        }
        // The block's text is the header, the bytes left over from the last block, then
        // input read straight in behind them: one buffer, sized once.
        let header_len = self.header.len();
        let mut text = std::mem::take(&mut self.spare);
        text.clear();
        text.reserve(header_len + self.pending.len().max(BLOCK_BYTES) + HEAD_BYTES);
        text.extend_from_slice(&self.header);
        text.append(&mut self.pending);
        while !self.at_end && text.len() < header_len + BLOCK_BYTES {
            let want = header_len + BLOCK_BYTES - text.len();
            self.read_into(&mut text, want)?;
        }
        let csv = self.format.is_csv();
        let cut = loop {
            if self.at_end {
                break text.len();
            }
            if let Some(cut) = last_record_end(&text[header_len..], csv) {
                break header_len + cut;
            }
            // One record longer than a block: read on until it ends.
            text.reserve(BLOCK_BYTES);
            self.read_into(&mut text, BLOCK_BYTES)?;
        };
        self.pending.extend_from_slice(&text[cut..]);
        text.truncate(cut);
        let block = &text[header_len..];
        if block.is_empty() {
            self.spare = text;
            return Ok(None);
        }
        self.bytes_read += block.len() as u64;
        let lines_in_block = memchr::memchr_iter(b'\n', block).count();
        let header_lines = memchr::memchr_iter(b'\n', &self.header).count();
        if block.iter().all(u8::is_ascii_whitespace) {
            self.lines_before += lines_in_block;
            self.spare = text;
            return self.next_block();
        }
        let read = if csv {
            // The document keeps the text (its rows are copied from it).
            crate::document::read_owned_as(self.format, text, &self.origin)
        } else {
            let read = read_as(self.format, &text, &self.origin);
            self.spare = text;
            read
        };
        let lines_before = self.lines_before;
        self.lines_before += lines_in_block;
        read.map(Some).map_err(|error| match error {
            ReadError::Invalid {
                origin,
                format,
                line,
                column,
                message,
            } => ReadError::Invalid {
                origin,
                format,
                // The block's text starts with the header's lines; the file has
                // `lines_before` lines (the header's among them) before the block.
                line: line.saturating_sub(header_lines) + lines_before,
                column,
                message,
            },
            other => other,
        })
    }
}

/// Wraps `source` in a decompressor when its first bytes say it is compressed.
fn decompressing(mut source: Box<dyn Read>) -> io::Result<Box<dyn Read>> {
    let mut head = Vec::with_capacity(4);
    source.by_ref().take(4).read_to_end(&mut head)?;
    let compression = detect_compression(&head);
    let whole: Box<dyn Read> = Box::new(io::Cursor::new(head).chain(source));
    Ok(match compression {
        Compression::None => whole,
        Compression::Gzip => Box::new(Damaged {
            what: "gzip",
            inner: flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(
                256 << 10,
                whole,
            )),
        }),
        Compression::Zstd => Box::new(Damaged {
            what: "zstd",
            inner: zstd::stream::read::Decoder::new(whole)?,
        }),
    })
}

/// A decompressor whose errors say the data is damaged.
struct Damaged<R> {
    what: &'static str,
    inner: R,
}

impl<R: Read> Read for Damaged<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("damaged {} data: {error}", self.what),
            )
        })
    }
}

/// Appends up to `want` bytes from `source` to `buffer`; true at the end of the source.
fn fill(source: &mut dyn Read, buffer: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let before = buffer.len();
    source.take(want as u64).read_to_end(buffer)?;
    Ok(buffer.len() - before < want)
}

/// Whether the first non-blank line of `bytes` is one whole JSON value (a file of one
/// request per line), rather than the start of a value spread over lines.
fn first_line_is_a_value(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(start) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let Some(end) = memchr::memchr(b'\n', &bytes[start..]) else {
        return false;
    };
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes[start..start + end]).is_ok()
}

/// The ends (after their line ends) of the whole CSV records of `bytes`, which starts
/// at a record boundary. A line end inside quotes is part of a field: RFC 4180 escapes
/// a quote as two, so the quotes before a line end outside a field are even.
fn csv_record_ends(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut in_quotes = false;
    memchr::memchr2_iter(b'"', b'\n', bytes).filter_map(move |at| {
        if bytes[at] == b'"' {
            in_quotes = !in_quotes;
            None
        } else {
            (!in_quotes).then_some(at + 1)
        }
    })
}

/// The end of the first CSV record of `bytes`, if it is whole.
fn first_record_end(bytes: &[u8]) -> Option<usize> {
    csv_record_ends(bytes).next()
}

/// The end of the last whole record of `bytes` (a CSV record, or a line).
fn last_record_end(bytes: &[u8], csv: bool) -> Option<usize> {
    if !csv {
        return memchr::memrchr(b'\n', bytes).map(|at| at + 1);
    }
    csv_record_ends(bytes).last()
}

/// A span with what its writer needs: for the CSV formats, its row's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The span.
    pub span: Span,
    row: Option<RowBytes>,
}

#[derive(Debug, Clone, PartialEq)]
struct RowBytes {
    bytes: Box<[u8]>,
    span_id: Range<u32>,
    parent: Range<u32>,
}

impl Record {
    /// A record of a JSON format (no row).
    pub fn of_span(span: Span) -> Self {
        Self { span, row: None }
    }

    /// About how many bytes of memory the record holds: the fixed parts, the heap
    /// parts of the span that grow with the input, and the row.
    pub fn memory_bytes(&self) -> usize {
        let span = &self.span;
        let attributes: usize = span.attributes.iter().map(|kv| kv.key.len() + 48).sum();
        std::mem::size_of::<Self>()
            + span.trace_id.len()
            + span.span_id.len()
            + span.parent_span_id.len()
            + span.name.len()
            + span.trace_state.len()
            + span.status.message.len()
            + attributes
            + 64 * (span.events.len() + span.links.len())
            + self.row.as_ref().map_or(0, |row| row.bytes.len())
    }
}

/// What the documents of one input share, to regroup [`Record`]s into a document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentShape {
    /// The format.
    pub format: Format,
    /// The input's name in messages.
    pub origin: String,
    csv_header: Vec<u8>,
}

impl DocumentShape {
    /// The shape of `doc`'s input.
    pub fn of(doc: &TraceDocument) -> Self {
        Self {
            format: doc.format,
            origin: doc.origin.clone(),
            csv_header: doc
                .csv
                .as_ref()
                .map(|table| table.raw[..table.header_end].to_vec())
                .unwrap_or_default(),
        }
    }

    /// A document of this shape holding `records`, in order.
    pub fn document(&self, records: Vec<Record>) -> TraceDocument {
        if !self.format.is_csv() {
            let spans = records.into_iter().map(|r| r.span).collect();
            return TraceDocument::new(self.format, self.origin.clone(), spans);
        }
        let row_bytes: usize = records
            .iter()
            .map(|r| r.row.as_ref().map_or(0, |row| row.bytes.len()))
            .sum();
        let mut raw = Vec::with_capacity(self.csv_header.len() + row_bytes);
        raw.extend_from_slice(&self.csv_header);
        let mut rows = Vec::with_capacity(records.len());
        let mut spans = Vec::with_capacity(records.len());
        for record in records {
            let start = raw.len();
            let shift = |r: &Range<u32>| start + r.start as usize..start + r.end as usize;
            match &record.row {
                Some(row) => {
                    raw.extend_from_slice(&row.bytes);
                    rows.push(crate::csv::CsvRow {
                        bytes: start..raw.len(),
                        span_id: shift(&row.span_id),
                        parent: shift(&row.parent),
                    });
                }
                None => rows.push(crate::csv::CsvRow {
                    bytes: start..start,
                    span_id: start..start,
                    parent: start..start,
                }),
            }
            spans.push(record.span);
        }
        TraceDocument {
            format: self.format,
            origin: self.origin.clone(),
            spans,
            csv: Some(CsvTable {
                raw,
                header_end: self.csv_header.len(),
                rows,
                root_text: root_text(self.format),
            }),
        }
    }

    /// Writes `records` so that [`DocumentShape::read_spill`] reads them back: CSV rows
    /// as they are, JSON spans as one OTLP/JSON request line (ids as they are).
    pub fn write_spill(&self, records: &[Record], out: &mut dyn Write) -> Result<(), WriteError> {
        if self.format.is_csv() {
            for record in records {
                if let Some(row) = &record.row {
                    out.write_all(&row.bytes)?;
                }
            }
            return Ok(());
        }
        let spans: Vec<Span> = records.iter().map(|r| r.span.clone()).collect();
        crate::document::write_otlp_json(&spans, out)
    }

    /// Reads back what [`DocumentShape::write_spill`] wrote (several writes may follow
    /// each other), as records.
    pub fn read_spill(&self, bytes: Vec<u8>) -> Result<Vec<Record>, ReadError> {
        let doc = if self.format.is_csv() {
            let mut text = self.csv_header.clone();
            text.extend_from_slice(&bytes);
            crate::document::read_owned_as(self.format, text, &self.origin)?
        } else {
            read_as(Format::OtlpJson, &bytes, &self.origin)?
        };
        Ok(doc.into_records())
    }
}

/// Writes the batches of a streamed input as one output of its format: the CSV header
/// once, then rows; OTLP/JSON one request line per batch that keeps something.
#[derive(Debug, Default)]
pub struct StreamWriter {
    started: bool,
}

impl StreamWriter {
    /// Writes the `kept` spans of the next batch.
    pub fn write(
        &mut self,
        doc: &TraceDocument,
        kept: &[crate::KeptSpan],
        out: &mut dyn Write,
    ) -> Result<(), WriteError> {
        if !self.started {
            self.started = true;
            return crate::document::write(doc, kept, out);
        }
        if kept.is_empty() && !doc.format.is_csv() {
            return Ok(());
        }
        crate::document::write_continuation(doc, kept, out)
    }

    /// Ends the output: an input without spans still gets its header (CSV) or an empty
    /// document (JSON), as a whole-file write gives.
    pub fn finish(&mut self, shape: &DocumentShape, out: &mut dyn Write) -> Result<(), WriteError> {
        if self.started {
            return Ok(());
        }
        self.started = true;
        crate::document::write(&shape.document(Vec::new()), &[], out)
    }
}

fn root_text(format: Format) -> &'static [u8] {
    match format {
        Format::ResearchCsv => b"root",
        _ => b"-1",
    }
}

impl TraceDocument {
    /// The document's spans as records, in order (CSV rows copied out of the input).
    pub fn into_records(self) -> Vec<Record> {
        self.into_records_and_buffer().0
    }

    /// Like [`TraceDocument::into_records`], also giving back the CSV input's buffer
    /// (for [`BlockReader::recycle`]).
    pub fn into_records_and_buffer(self) -> (Vec<Record>, Option<Vec<u8>>) {
        let Some(table) = self.csv else {
            return (self.spans.into_iter().map(Record::of_span).collect(), None);
        };
        let raw = &table.raw;
        let records = self
            .spans
            .into_iter()
            .zip(&table.rows)
            .map(|(span, row)| {
                let start = row.bytes.start;
                let relative = |r: &Range<usize>| (r.start - start) as u32..(r.end - start) as u32;
                Record {
                    span,
                    row: Some(RowBytes {
                        bytes: raw[row.bytes.clone()].into(),
                        span_id: relative(&row.span_id),
                        parent: relative(&row.parent),
                    }),
                }
            })
            .collect();
        (records, Some(table.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{read, write_all};

    const SKYWALKING: &str =
        "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n";

    fn skywalking_rows(traces: usize, spans: usize) -> String {
        let mut text = String::from(SKYWALKING);
        for t in 0..traces {
            for s in 0..spans {
                let parent = if s == 0 {
                    "-1".to_string()
                } else {
                    format!("t{t}.{}", s - 1)
                };
                text.push_str(&format!(
                    "{},{},\"/api/{t},\"\"{s}\"\"\",Entry,svc{},t{t}.{s},t{t},,{parent},SpringMVC,false\n",
                    1000 + s,
                    1010 + s,
                    t % 3
                ));
            }
        }
        text
    }

    fn blocks_of(text: &[u8]) -> (BlockReader, Vec<TraceDocument>) {
        let mut reader =
            BlockReader::new(Box::new(io::Cursor::new(text.to_vec())), "t.csv").unwrap();
        let mut blocks = Vec::new();
        while let Some(block) = reader.next_block().unwrap() {
            blocks.push(block);
        }
        (reader, blocks)
    }

    #[test]
    fn csv_blocks_together_are_the_whole_file() {
        let text = skywalking_rows(4000, 5);
        assert!(text.len() > BLOCK_BYTES / 4);
        let whole = read(text.as_bytes(), "t.csv").unwrap();
        let (reader, blocks) = blocks_of(text.as_bytes());
        assert!(reader.is_blocked());
        let shape = reader.shape();
        let records: Vec<Record> = blocks
            .into_iter()
            .flat_map(TraceDocument::into_records)
            .collect();
        let regrouped = shape.document(records);
        assert_eq!(regrouped.spans, whole.spans);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_all(&regrouped, &mut a).unwrap();
        write_all(&whole, &mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_block_never_ends_inside_a_quoted_line_end() {
        let text = format!(
            "{SKYWALKING}1,2,\"a\nb\",Entry,s,1,t,,-1,c,false\n3,4,x,Entry,s,2,t,,1,c,false\n"
        );
        assert_eq!(last_record_end(text.as_bytes(), true), Some(text.len()));
        let inside = text.find("a\n").unwrap() + 2;
        assert_eq!(
            last_record_end(&text.as_bytes()[..inside + 3], true),
            Some(SKYWALKING.len())
        );
    }

    #[test]
    fn errors_name_the_files_line() {
        let mut text = skywalking_rows(30_000, 1);
        text.push_str("1,2,x,Entry,s,9,t,,-1,c,Fals\n");
        let lines = text.lines().count();
        let mut reader =
            BlockReader::new(Box::new(io::Cursor::new(text.into_bytes())), "t.csv").unwrap();
        let error = loop {
            match reader.next_block() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error"),
                Err(error) => break error,
            }
        };
        assert_eq!(error.line(), Some(lines), "{error}");
    }

    #[test]
    fn otlp_lines_are_blocked_and_a_pretty_document_is_whole() {
        let line = r#"{"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"scope":{},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708","name":"a","startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]}"#;
        let lines = format!("{line}\n{line}\n");
        let (reader, blocks) = blocks_of(lines.as_bytes());
        assert!(reader.is_blocked());
        assert_eq!(blocks.iter().map(|b| b.spans.len()).sum::<usize>(), 2);
        let pretty = line.replace(",", ",\n ");
        let (reader, blocks) = blocks_of(pretty.as_bytes());
        assert!(!reader.is_blocked());
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].spans.len(), 1);
    }

    #[test]
    fn compressed_input_reads_like_plain() {
        let text = skywalking_rows(50, 3);
        let zst = zstd::encode_all(text.as_bytes(), 1).unwrap();
        let (_, plain) = blocks_of(text.as_bytes());
        let (_, unzstd) = blocks_of(&zst);
        assert_eq!(plain, unzstd);
    }

    #[test]
    fn empty_and_header_only_inputs() {
        let empty = BlockReader::new(Box::new(io::Cursor::new(b"  \n".to_vec())), "e.csv");
        assert!(matches!(empty, Err(ReadError::Empty { .. })));
        let (_, blocks) = blocks_of(SKYWALKING.as_bytes());
        assert_eq!(blocks.iter().map(|b| b.spans.len()).sum::<usize>(), 0);
    }

    #[test]
    fn spills_read_back_as_written() {
        let text = skywalking_rows(3, 2);
        let doc = read(text.as_bytes(), "t.csv").unwrap();
        let shape = DocumentShape::of(&doc);
        let records = doc.into_records();
        let mut spill = Vec::new();
        shape.write_spill(&records[..2], &mut spill).unwrap();
        shape.write_spill(&records[2..], &mut spill).unwrap();
        assert_eq!(shape.read_spill(spill).unwrap(), records);
    }
}
