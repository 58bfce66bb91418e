//! The supported formats and their detection from content (never from file names).

use std::fmt;

/// The header of a SkyWalking span CSV (columns may come in any order; extra columns
/// are allowed).
pub const SKYWALKING_HEADER: &str =
    "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError";

/// The header of a research span CSV (columns may come in any order; extra columns are
/// allowed).
pub const RESEARCH_HEADER: &str =
    "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration";

/// A trace file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// OTLP/JSON `ExportTraceServiceRequest` (also several of them, one per line).
    OtlpJson,
    /// Jaeger query API / UI export: `{"data": [trace, ...]}`.
    JaegerJson,
    /// Zipkin v2 JSON: an array of spans.
    ZipkinJson,
    /// SkyWalking span CSV ([`SKYWALKING_HEADER`]).
    SkyWalkingCsv,
    /// Research span CSV ([`RESEARCH_HEADER`]).
    ResearchCsv,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 5] = [
        Format::OtlpJson,
        Format::JaegerJson,
        Format::ZipkinJson,
        Format::SkyWalkingCsv,
        Format::ResearchCsv,
    ];

    /// Human name, as used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::OtlpJson => "OTLP/JSON",
            Format::JaegerJson => "Jaeger JSON",
            Format::ZipkinJson => "Zipkin v2 JSON",
            Format::SkyWalkingCsv => "SkyWalking CSV",
            Format::ResearchCsv => "research CSV",
        }
    }

    /// Whether the format is a CSV whose writer copies rows byte for byte.
    pub fn is_csv(self) -> bool {
        matches!(self, Format::SkyWalkingCsv | Format::ResearchCsv)
    }

    /// Whether span and trace ids are text (kept as the text's bytes in the model)
    /// rather than hex-encoded bytes.
    pub fn has_textual_ids(self) -> bool {
        self.is_csv()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Tells the format of `bytes` from their content, or `None` when it is none of the
/// supported ones. Cheap: looks at the first JSON key or the CSV header only.
///
/// - a JSON array is Zipkin v2;
/// - a JSON object with `resourceSpans` (or `resource_spans`) is OTLP/JSON, with
///   `data` is Jaeger; `{}` is an empty OTLP/JSON request;
/// - otherwise the first line is read as a CSV header holding all columns of
///   [`SKYWALKING_HEADER`] or of [`RESEARCH_HEADER`].
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    match bytes[start] {
        b'[' => Some(Format::ZipkinJson),
        b'{' => detect_json_object(bytes, start),
        _ => detect_csv(bytes),
    }
}

fn detect_json_object(bytes: &[u8], start: usize) -> Option<Format> {
    let mut scanner = Scanner {
        bytes,
        pos: start + 1,
    };
    let mut seen_key = false;
    loop {
        scanner.skip_whitespace();
        match scanner.peek()? {
            b'}' if !seen_key => return Some(Format::OtlpJson),
            b'"' => {}
            _ => return None,
        }
        let key = scanner.string()?;
        seen_key = true;
        match key {
            b"resourceSpans" | b"resource_spans" => return Some(Format::OtlpJson),
            b"data" => return Some(Format::JaegerJson),
            _ => {}
        }
        scanner.skip_whitespace();
        if scanner.peek()? != b':' {
            return None;
        }
        scanner.pos += 1;
        scanner.skip_value()?;
        scanner.skip_whitespace();
        match scanner.peek()? {
            b',' => scanner.pos += 1,
            _ => return None,
        }
    }
}

/// A minimal JSON skipper: enough to walk the keys of the top-level object.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// Reads a string starting at its opening quote; returns its raw (escaped) content.
    fn string(&mut self) -> Option<&'a [u8]> {
        let begin = self.pos + 1;
        let mut i = begin;
        loop {
            i += memchr::memchr2(b'"', b'\\', self.bytes.get(i..)?)?;
            if self.bytes[i] == b'\\' {
                i += 2;
            } else {
                self.pos = i + 1;
                return Some(&self.bytes[begin..i]);
            }
        }
    }

    fn skip_value(&mut self) -> Option<()> {
        self.skip_whitespace();
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                }
                b'}' | b']' => {
                    if depth == 0 {
                        return Some(());
                    }
                    depth -= 1;
                    self.pos += 1;
                }
                b',' if depth == 0 => return Some(()),
                _ => self.pos += 1,
            }
            if depth == 0 && matches!(self.bytes.get(self.pos - 1), Some(b'"' | b'}' | b']')) {
                return Some(());
            }
        }
    }
}

fn detect_csv(bytes: &[u8]) -> Option<Format> {
    let line_end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
    let line = &bytes[..line_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).ok()?;
    let columns: Vec<&str> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let has_all = |header: &str| header.split(',').all(|name| columns.contains(&name));
    if has_all(SKYWALKING_HEADER) {
        Some(Format::SkyWalkingCsv)
    } else if has_all(RESEARCH_HEADER) {
        Some(Format::ResearchCsv)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_each_format_from_its_start() {
        assert_eq!(detect(b"  [ ]"), Some(Format::ZipkinJson));
        assert_eq!(detect(br#"{"resourceSpans":[]}"#), Some(Format::OtlpJson));
        assert_eq!(detect(b"{}"), Some(Format::OtlpJson));
        assert_eq!(
            detect(br#"{"x":{"a":[1,"}"]},"n":1,"data":[]}"#),
            Some(Format::JaegerJson)
        );
        assert_eq!(detect(br#"{"x":1}"#), None);
        assert_eq!(
            detect(format!("{SKYWALKING_HEADER}\r\n").as_bytes()),
            Some(Format::SkyWalkingCsv)
        );
        assert_eq!(
            detect(RESEARCH_HEADER.as_bytes()),
            Some(Format::ResearchCsv)
        );
        assert_eq!(detect(b"a,b,c\n1,2,3\n"), None);
        assert_eq!(detect(b""), None);
    }
}
