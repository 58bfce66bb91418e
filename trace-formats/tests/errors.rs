//! Malformed input gives an error naming the file and the line (and column where
//! known); nothing panics.

use trace_formats::{Format, ReadError, read, read_as, read_path};

fn invalid(bytes: &str) -> ReadError {
    match read(bytes.as_bytes(), "bad/input.file") {
        Ok(doc) => panic!("expected an error, read {} spans", doc.spans.len()),
        Err(e) => e,
    }
}

fn assert_position(error: &ReadError, line: usize, column: Option<usize>, needle: &str) {
    let text = error.to_string();
    assert_eq!(error.origin(), "bad/input.file");
    assert_eq!(error.line(), Some(line), "{text}");
    if let Some(column) = column {
        assert_eq!(error.column(), Some(column), "{text}");
    }
    assert!(
        text.starts_with(&format!("bad/input.file:{line}")),
        "{text}"
    );
    assert!(text.contains(needle), "{text} should mention {needle:?}");
}

#[test]
fn malformed_json_names_line_and_column() {
    let e = invalid("{\"resourceSpans\": [\n  {\"scopeSpans\": [}\n]}");
    assert_position(&e, 2, Some(19), "OTLP/JSON");
    let e = invalid("{\"data\": [\n {\"spans\": [{\"spanID\": \"xyz\"}]}\n]}");
    assert_position(&e, 2, None, "not hexadecimal");
    let e = invalid("[\n{\"traceId\": \"ab\", \"kind\": \"SIDEWAYS\"}\n]");
    assert_position(&e, 2, None, "SIDEWAYS");
    let e = invalid(
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[\n{\"kind\":\"SPAN_KIND_NOPE\"}]}]}]}",
    );
    assert_position(&e, 2, None, "SPAN_KIND_NOPE");
    let e = invalid(
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[\n{\"startTimeUnixNano\":\"soon\"}]}]}]}",
    );
    assert_position(&e, 2, None, "soon");
    let e = invalid("[{\"traceId\": \"ab\"");
    assert_position(&e, 1, None, "EOF");
}

#[test]
fn malformed_csv_names_line_and_column() {
    let header = trace_formats::SKYWALKING_HEADER;
    let row = "1,2,/a,Entry,svc,s1,t1,peer,-1,SpringMVC,False";
    let e = invalid(&format!("{header}\r\n{row}\r\n{row},extra\r\n"));
    assert_position(&e, 3, None, "expected 11 fields");
    let e = invalid(&format!(
        "{header}\n{row}\n\n12x,2,/a,Entry,svc,s2,t1,peer,-1,SpringMVC,False\n"
    ));
    assert_position(&e, 4, Some(1), "StartTime");
    let e = invalid(&format!(
        "{header}\n1,99999999999999999999,/a,Entry,svc,s2,t1,peer,-1,C,False\n"
    ));
    assert_position(&e, 2, Some(3), "too large");
    let e = invalid(&format!("{header}\n1,2,\"/a,Entry,svc\n"));
    assert_position(&e, 2, Some(5), "never closed");
    let e = invalid(&format!(
        "{header}\n1,2,\"/a\"x,Entry,svc,s1,t1,peer,-1,SpringMVC,False\n"
    ));
    assert_position(&e, 2, Some(9), "after a closing quote");
    let research = trace_formats::RESEARCH_HEADER;
    let e = invalid(&format!("{research}\nt,s,root,pod,op,1,-5,0\n"));
    assert_position(&e, 2, Some(19), "EndTimeUnixNano");
    // Forcing a CSV format on a file without its columns names the missing column.
    let e = read_as(Format::ResearchCsv, header.as_bytes(), "bad/input.file").unwrap_err();
    assert_position(&e, 1, None, "TraceID");
}

#[test]
fn unknown_formats_and_missing_files_name_the_file() {
    for bytes in ["", "   \n", "\u{feff}", "\u{feff}\r\n"] {
        let e = read(bytes.as_bytes(), "nothing.csv").unwrap_err();
        assert_eq!(e.to_string(), "nothing.csv: empty: no trace data to read");
        assert!(matches!(e, ReadError::Empty { .. }));
    }
    for bytes in ["hello", "a,b,c\n1,2,3\n", "{\"x\": 1}"] {
        let e = read(bytes.as_bytes(), "mystery.bin").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("cannot tell the format of mystery.bin"),
            "{text}"
        );
        assert!(
            text.contains("OTLP/JSON") && text.contains("SpanType"),
            "{text}"
        );
    }
    let e = read_path("/nonexistent/traces.json".as_ref()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/nonexistent/traces.json: cannot read: no such file"
    );
    assert!(matches!(e, ReadError::Io { .. }));
    // The cause is said once: it is not also a `source()`.
    assert!(std::error::Error::source(&e).is_none());
    let folder = tempfile::tempdir().unwrap();
    let e = read_path(folder.path()).unwrap_err();
    assert!(
        e.to_string()
            .ends_with("cannot read: it is a folder, not a file"),
        "{e}"
    );
}

#[test]
fn deep_nesting_is_an_error_or_skipped_never_a_crash() {
    // Unknown fields are skipped without recursion, however deep.
    let deep = format!(
        "{{\"data\":[{{\"spans\":[{{\"x\":{}1{}}}]}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let doc = read(deep.as_bytes(), "deep.json").unwrap();
    assert_eq!(doc.spans.len(), 1);
    // Nested values the model keeps hit serde_json's recursion limit: an error.
    let value = "{\"arrayValue\":{\"values\":[".repeat(5000);
    let deep = format!(
        "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{{\"attributes\":[{{\"key\":\"k\",\"value\":{value}"
    );
    assert!(read(deep.as_bytes(), "deep.json").is_err());
}

#[test]
fn is_error_accepts_only_true_or_false() {
    let header = trace_formats::SKYWALKING_HEADER;
    let row = |is_error: &str| format!("1,2,/a,Entry,svc,s1,t1,peer,-1,SpringMVC,{is_error}\n");
    for accepted in ["True", "false", "TRUE", "False"] {
        let text = format!("{header}\n{}", row(accepted));
        let doc = read(text.as_bytes(), "ok.csv").unwrap();
        assert_eq!(
            doc.spans[0].is_error(),
            accepted.eq_ignore_ascii_case("true")
        );
    }
    for rejected in ["Fals", "", "1", "yes", "true "] {
        let text = format!("{header}\n{}{}", row("False"), row(rejected));
        let e = invalid(&text);
        assert_position(&e, 3, Some(42), "IsError");
        assert!(e.to_string().contains("neither true nor false"), "{e}");
    }
}
