//! Helpers shared by the integration tests: fixture paths and a readable summary of
//! spans to compare with expected files.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use trace_formats::{AnyValue, Span, TraceDocument};

/// `testdata/traces/` of the workspace.
pub fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces")
}

/// Every fixture with its expected format.
pub fn fixtures() -> Vec<(PathBuf, trace_formats::Format)> {
    use trace_formats::Format::*;
    [
        ("otlp.json", OtlpJson),
        ("otlp-lines.jsonl", OtlpJson),
        ("jaeger.json", JaegerJson),
        ("zipkin.json", ZipkinJson),
        ("skywalking.csv", SkyWalkingCsv),
        ("research.csv", ResearchCsv),
    ]
    .into_iter()
    .map(|(name, format)| (traces_dir().join(name), format))
    .collect()
}

fn id_text(id: &[u8], textual: bool) -> String {
    if id.is_empty() {
        "-".to_string()
    } else if textual {
        String::from_utf8_lossy(id).into_owned()
    } else {
        id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn value_text(value: &AnyValue) -> String {
    match value {
        AnyValue::Empty => "(empty)".to_string(),
        AnyValue::String(s) => format!("{s:?}"),
        AnyValue::Bool(b) => format!("bool:{b}"),
        AnyValue::Int(i) => format!("int:{i}"),
        AnyValue::Double(d) => format!("double:{d:?}"),
        AnyValue::Bytes(b) => format!("bytes:{b:?}"),
        AnyValue::Array(values) => {
            format!(
                "[{}]",
                values.iter().map(value_text).collect::<Vec<_>>().join(", ")
            )
        }
        AnyValue::KvList(kvs) => format!(
            "{{{}}}",
            kvs.iter()
                .map(|kv| format!("{}={}", kv.key, value_text(&kv.value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One line per span (and indented lines for its attributes, events and links).
pub fn summary(doc: &TraceDocument) -> String {
    summary_of(&doc.spans, doc.format.has_textual_ids())
}

pub fn summary_of(spans: &[Span], textual: bool) -> String {
    let mut out = String::new();
    for span in spans {
        let _ = writeln!(
            out,
            "trace={} span={} parent={} service={:?} scope={:?} kind={:?} status={:?}{} start={} end={} flags={} name={:?}",
            id_text(&span.trace_id, textual),
            id_text(&span.span_id, textual),
            id_text(&span.parent_span_id, textual),
            span.service_name(),
            span.scope.name,
            span.kind,
            span.status.code,
            if span.status.message.is_empty() {
                String::new()
            } else {
                format!("({:?})", span.status.message)
            },
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            span.flags,
            span.name,
        );
        for kv in &span.attributes {
            let _ = writeln!(out, "  attr {} = {}", kv.key, value_text(&kv.value));
        }
        for event in &span.events {
            let attrs: Vec<String> = event
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, value_text(&kv.value)))
                .collect();
            let _ = writeln!(
                out,
                "  event {} {:?} [{}]",
                event.time_unix_nano,
                event.name,
                attrs.join(", ")
            );
        }
        for link in &span.links {
            let attrs: Vec<String> = link
                .attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, value_text(&kv.value)))
                .collect();
            let _ = writeln!(
                out,
                "  link trace={} span={} [{}]",
                id_text(&link.trace_id, textual),
                id_text(&link.span_id, textual),
                attrs.join(", ")
            );
        }
    }
    out
}

/// Compares `actual` with the file at `path`; with `UPDATE_EXPECTED=1` rewrites it.
pub fn assert_expected(path: &std::path::Path, actual: &str) {
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_EXPECTED=1 to create)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs:\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Spans equal as the model sees them, doubles compared by their text (so NaN equals NaN).
pub fn same_spans(a: &[Span], b: &[Span]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}
