//! The CSV layer shared by the SkyWalking and research readers: a one-pass RFC 4180
//! scanner (quoted fields may hold commas, quotes and newlines; CRLF or LF line ends)
//! that remembers where each row and its id columns lie, and the writer that copies
//! kept rows byte for byte, rewriting only the parent column when asked.

use crate::document::{KeptSpan, ParentEdit, TraceDocument};
use crate::error::{ReadError, WriteError};
use crate::format::Format;
use crate::model::Span;
use std::borrow::Cow;
use std::io::Write;
use std::ops::Range;

/// Where the rows of a CSV document lie in its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvTable {
    /// The whole input.
    pub raw: Vec<u8>,
    /// End of the header (its line, its terminator and any blank lines after it).
    pub header_end: usize,
    /// One per span, in input order.
    pub rows: Vec<CsvRow>,
    /// The parent column's text for a root (`-1` or `root`).
    pub root_text: &'static [u8],
}

/// One data row: its bytes (including its line end and blank lines after it) and the
/// raw bytes of its span-id and parent columns, all as ranges into [`CsvTable::raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvRow {
    pub bytes: Range<usize>,
    pub span_id: Range<usize>,
    pub parent: Range<usize>,
}

/// A field of the current record, as a range of the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    start: usize,
    end: usize,
    quoted: bool,
}

/// A parsed record handed to a format's row reader.
pub(crate) struct Row<'a> {
    bytes: &'a [u8],
    fields: &'a [Field],
    columns: &'a [usize],
}

impl<'a> Row<'a> {
    /// The value of the `i`-th required column (quotes removed, `""` unescaped).
    pub(crate) fn get(&self, i: usize) -> Cow<'a, [u8]> {
        let field = self.fields[self.columns[i]];
        let raw = &self.bytes[field.start..field.end];
        if !field.quoted {
            return Cow::Borrowed(raw);
        }
        let inner = &raw[1..raw.len() - 1];
        if memchr::memchr(b'"', inner).is_none() {
            return Cow::Borrowed(inner);
        }
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while i < inner.len() {
            out.push(inner[i]);
            i += if inner[i] == b'"' { 2 } else { 1 };
        }
        Cow::Owned(out)
    }
}

/// A problem with the `column`-th required column of a row.
pub(crate) struct FieldError {
    pub column: usize,
    pub message: String,
}

/// What a CSV format needs from its header and rows.
pub(crate) struct CsvSpec {
    pub format: Format,
    /// Columns the header must have (in any order); rows are read by index into this.
    pub required: &'static [&'static str],
    /// Index into `required` of the span id column.
    pub span_id_column: usize,
    /// Index into `required` of the parent span id column.
    pub parent_column: usize,
    /// The parent column's text for a root.
    pub root_text: &'static [u8],
}

/// Reads a CSV document of `spec`'s format; `make_span` turns each row into a span.
pub(crate) fn read_csv(
    input: Cow<'_, [u8]>,
    origin: &str,
    spec: &CsvSpec,
    mut make_span: impl FnMut(&Row<'_>) -> Result<Span, FieldError>,
) -> Result<TraceDocument, ReadError> {
    let CsvSpec {
        format,
        required,
        span_id_column,
        parent_column,
        root_text,
    } = *spec;
    let bytes: &[u8] = &input;
    let invalid = |line: usize, column: Option<usize>, message: String| ReadError::Invalid {
        origin: origin.to_string(),
        format,
        line,
        column,
        message,
    };
    let mut scanner = Scanner::new(bytes);
    let mut fields = Vec::with_capacity(required.len() + 4);
    let header = scanner
        .next_record(&mut fields)
        .map_err(|e| invalid(e.line, Some(e.column), e.message))?;
    let Some(header) = header else {
        return Err(ReadError::UnknownFormat {
            origin: origin.to_string(),
        });
    };
    let names: Vec<String> = fields
        .iter()
        .map(|f| {
            let raw = &bytes[f.start..f.end];
            let raw = if f.quoted {
                &raw[1..raw.len() - 1]
            } else {
                raw
            };
            String::from_utf8_lossy(raw).trim().to_string()
        })
        .collect();
    let mut columns = Vec::with_capacity(required.len());
    for name in required {
        match names.iter().position(|n| n == name) {
            Some(i) => columns.push(i),
            None => {
                return Err(invalid(
                    header.line,
                    None,
                    format!("the header has no column `{name}`"),
                ));
            }
        }
    }
    let width = names.len();
    let mut rows: Vec<CsvRow> = Vec::with_capacity(bytes.len() / 200);
    let mut spans = Vec::with_capacity(bytes.len() / 200);
    let mut header_end = bytes.len();
    loop {
        let record = scanner
            .next_record(&mut fields)
            .map_err(|e| invalid(e.line, Some(e.column), e.message))?;
        let Some(record) = record else { break };
        if rows.is_empty() {
            header_end = record.start;
        } else if let Some(last) = rows.last_mut() {
            last.bytes.end = record.start;
        }
        if fields.len() != width {
            return Err(invalid(
                record.line,
                None,
                format!(
                    "expected {width} fields as in the header, found {}",
                    fields.len()
                ),
            ));
        }
        let row = Row {
            bytes,
            fields: &fields,
            columns: &columns,
        };
        let span = make_span(&row).map_err(|e| {
            let field = fields[columns[e.column]];
            invalid(
                record.line,
                Some(field.start - record.line_start + 1),
                format!("column `{}`: {}", required[e.column], e.message),
            )
        })?;
        spans.push(span);
        let span_id = fields[columns[span_id_column]];
        let parent = fields[columns[parent_column]];
        rows.push(CsvRow {
            bytes: record.start..bytes.len(),
            span_id: span_id.start..span_id.end,
            parent: parent.start..parent.end,
        });
    }
    Ok(TraceDocument {
        format,
        origin: origin.to_string(),
        spans,
        // An owned input moves in: no copy of a large file.
        csv: Some(CsvTable {
            raw: input.into_owned(),
            header_end,
            rows,
            root_text,
        }),
    })
}

struct RecordStart {
    start: usize,
    line: usize,
    line_start: usize,
}

struct ScanError {
    line: usize,
    column: usize,
    message: String,
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    /// Whether quote-free lines take [`Scanner::unquoted_line`] (off only in tests,
    /// which compare both ways).
    fast_lines: bool,
}

impl<'a> Scanner<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let pos = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Self {
            bytes,
            pos,
            line: 1,
            line_start: 0,
            fast_lines: true,
        }
    }

    fn newline_at(&mut self, newline: usize) {
        self.line += 1;
        self.line_start = newline + 1;
    }

    /// The common case, read faster: a line without any quote is its fields split at
    /// commas (as the general loop below would split it). Returns false, reading
    /// nothing, when the line holds a quote.
    fn unquoted_line(&mut self, fields: &mut Vec<Field>) -> bool {
        let bytes = self.bytes;
        let start = self.pos;
        // One scan finds the line end, or a quote before it.
        let line_end = match memchr::memchr2(b'\n', b'"', &bytes[start..]) {
            Some(offset) if bytes[start + offset] == b'"' => return false,
            Some(offset) => start + offset,
            None => bytes.len(),
        };
        let line = &bytes[start..line_end];
        let mut field_start = start;
        for comma in memchr::memchr_iter(b',', line) {
            fields.push(Field {
                start: field_start,
                end: start + comma,
                quoted: false,
            });
            field_start = start + comma + 1;
        }
        // Only the last field drops the `\r` of a CRLF line end.
        let mut end = line_end;
        if end > field_start && bytes[end - 1] == b'\r' {
            end -= 1;
        }
        fields.push(Field {
            start: field_start,
            end,
            quoted: false,
        });
        self.pos = line_end;
        if line_end < bytes.len() {
            self.newline_at(line_end);
            self.pos += 1;
        }
        true
    }

    /// Reads the next non-blank record into `fields`; `None` at the end of input.
    fn next_record(&mut self, fields: &mut Vec<Field>) -> Result<Option<RecordStart>, ScanError> {
        let bytes = self.bytes;
        // Blank lines separate nothing: skip them (they stay in the previous row's bytes).
        loop {
            match bytes.get(self.pos..) {
                Some([b'\n', ..]) => {
                    self.newline_at(self.pos);
                    self.pos += 1;
                }
                Some([b'\r', b'\n', ..]) => {
                    self.newline_at(self.pos + 1);
                    self.pos += 2;
                }
                Some([]) | None => return Ok(None),
                Some(_) => break,
            }
        }
        fields.clear();
        let record = RecordStart {
            start: self.pos,
            line: self.line,
            line_start: self.line_start,
        };
        if self.fast_lines && self.unquoted_line(fields) {
            return Ok(Some(record));
        }
        loop {
            let start = self.pos;
            let field = if bytes.get(start) == Some(&b'"') {
                let mut i = start + 1;
                let end = loop {
                    let Some(offset) = memchr::memchr(b'"', &bytes[i..]) else {
                        return Err(ScanError {
                            line: self.line,
                            column: start - self.line_start + 1,
                            message: "a quoted field is never closed".to_string(),
                        });
                    };
                    let quote = i + offset;
                    if bytes.get(quote + 1) == Some(&b'"') {
                        i = quote + 2;
                    } else {
                        break quote + 1;
                    }
                };
                for newline in memchr::memchr_iter(b'\n', &bytes[start..end]) {
                    self.newline_at(start + newline);
                }
                self.pos = end;
                match bytes.get(end..) {
                    Some([] | [b',', ..] | [b'\n', ..] | [b'\r', b'\n', ..]) | None => {}
                    Some(_) => {
                        return Err(ScanError {
                            line: self.line,
                            column: end - self.line_start + 1,
                            message: "unexpected text after a closing quote".to_string(),
                        });
                    }
                }
                if bytes.get(end) == Some(&b'\r') {
                    self.pos += 1;
                }
                Field {
                    start,
                    end,
                    quoted: true,
                }
            } else {
                let end = memchr::memchr2(b',', b'\n', &bytes[start..])
                    .map_or(bytes.len(), |offset| start + offset);
                self.pos = end;
                let mut field_end = end;
                if bytes.get(end) != Some(&b',')
                    && field_end > start
                    && bytes[field_end - 1] == b'\r'
                {
                    field_end -= 1;
                }
                Field {
                    start,
                    end: field_end,
                    quoted: false,
                }
            };
            fields.push(field);
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'\n') => {
                    self.newline_at(self.pos);
                    self.pos += 1;
                    return Ok(Some(record));
                }
                _ => return Ok(Some(record)),
            }
        }
    }
}

/// Parses a non-negative decimal integer (no sign, no spaces).
pub(crate) fn parse_u64(bytes: &[u8]) -> Result<u64, String> {
    if bytes.is_empty() {
        return Err("empty, expected a whole number".to_string());
    }
    // Up to 19 digits cannot overflow: skip the checked arithmetic (times in every row).
    if bytes.len() <= 19 && bytes.iter().all(u8::is_ascii_digit) {
        return Ok(bytes
            .iter()
            .fold(0, |value, &b| value * 10 + u64::from(b - b'0')));
    }
    let mut value: u64 = 0;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return Err(format!(
                "{:?} is not a whole number",
                String::from_utf8_lossy(bytes)
            ));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| format!("{} is too large", String::from_utf8_lossy(bytes)))?;
    }
    Ok(value)
}

/// Writes the kept rows (sorted by index) byte for byte, rewriting parent columns.
pub(crate) fn write_csv(
    table: &CsvTable,
    kept: &[KeptSpan],
    out: &mut dyn Write,
    with_header: bool,
) -> Result<(), WriteError> {
    let raw = &table.raw;
    if with_header {
        out.write_all(&raw[..table.header_end])?;
    }
    // Runs of adjacent unchanged rows go out in one write.
    let mut pending: Option<Range<usize>> = None;
    for kept_span in kept {
        let row = &table.rows[kept_span.index];
        match kept_span.new_parent {
            None => match &mut pending {
                Some(run) if run.end == row.bytes.start => run.end = row.bytes.end,
                _ => {
                    if let Some(run) = pending.take() {
                        out.write_all(&raw[run])?;
                    }
                    pending = Some(row.bytes.clone());
                }
            },
            Some(edit) => {
                if let Some(run) = pending.take() {
                    out.write_all(&raw[run])?;
                }
                let parent: &[u8] = match edit {
                    ParentEdit::Root => table.root_text,
                    ParentEdit::Span(index) => &raw[table.rows[index].span_id.clone()],
                    ParentEdit::ParentOf(index) => &raw[table.rows[index].parent.clone()],
                };
                out.write_all(&raw[row.bytes.start..row.parent.start])?;
                out.write_all(parent)?;
                out.write_all(&raw[row.parent.end..row.bytes.end])?;
            }
        }
    }
    if let Some(run) = pending {
        out.write_all(&raw[run])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Scanned = Vec<Result<(usize, usize, Vec<(usize, usize, bool)>), (usize, usize)>>;

    /// Every record's start, line and fields (or the error's line and column),
    /// scanning with or without the quote-free fast path.
    fn scan(bytes: &[u8], fast_lines: bool) -> Scanned {
        let mut scanner = Scanner::new(bytes);
        scanner.fast_lines = fast_lines;
        let mut fields = Vec::new();
        let mut out = Vec::new();
        loop {
            match scanner.next_record(&mut fields) {
                Ok(Some(record)) => out.push(Ok((
                    record.start,
                    record.line,
                    fields.iter().map(|f| (f.start, f.end, f.quoted)).collect(),
                ))),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err((e.line, e.column)));
                    return out;
                }
            }
        }
    }

    proptest! {
        #[test]
        fn quote_free_lines_split_as_the_general_scanner_does(
            text in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b','), Just(b'\r'), Just(b'\n'), Just(b'"')],
                0..40,
            )
        ) {
            prop_assert_eq!(scan(&text, true), scan(&text, false));
        }
    }

    proptest! {
        #[test]
        fn whole_numbers_parse_as_the_standard_library_does(text in "[0-9]{1,25}|[0-9a ]{0,5}") {
            prop_assert_eq!(parse_u64(text.as_bytes()).ok(), text.parse::<u64>().ok());
        }
    }

    #[test]
    fn the_largest_whole_numbers_parse_and_one_more_is_too_large() {
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Ok(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_u64(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_u64(b"18446744073709551616"),
            Err("18446744073709551616 is too large".to_string())
        );
    }

    #[test]
    fn a_crlf_row_splits_like_the_general_scanner() {
        let text = b"a,b\r,c\r\n\r\nd,,\r\n\"e\",f\ng,";
        assert_eq!(scan(text, true), scan(text, false));
        assert_eq!(scan(text, true).len(), 4);
    }
}
