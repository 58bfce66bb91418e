//! Measures tracezip against OTLP/JSON and OTLP protobuf, each raw, gzip -9 and zstd -19,
//! on the trace files given as arguments (concatenated, converted to OTLP ids as
//! `autoscope convert` does), and checks that every encoding round-trips.
//!
//! `cargo run --release -p tracezip --example sizes -- FILE...`
//! Set `TRACEZIP_NATIVE=1` to measure the spans as read (textual ids kept) instead.

use std::io::Write;
use std::time::Instant;
use trace_formats::{AnyValue, KeyValue, Span, read_path};
use tracezip::{DEFAULT_BATCH_SPANS, EncoderOptions, compress, decompress};

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: sizes FILE...");
        std::process::exit(2);
    }
    let native = std::env::var_os("TRACEZIP_NATIVE").is_some();
    let mut spans = Vec::new();
    for path in &paths {
        let document = read_path(path.as_ref()).unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        });
        if native {
            spans.extend(document.spans);
        } else {
            spans.extend(document.otlp_spans());
        }
    }
    println!(
        "{} spans from {} files ({} ids)",
        spans.len(),
        paths.len(),
        if native { "native" } else { "OTLP" }
    );
    let mut json = Vec::new();
    trace_formats::write_otlp_json(&spans, &mut json).expect("OTLP/JSON");
    let proto = otlp_protobuf(&spans);

    let mut rows: Vec<(String, usize)> = Vec::new();
    for (name, bytes) in [("OTLP/JSON", &json), ("OTLP protobuf", &proto)] {
        rows.push((name.to_string(), bytes.len()));
        rows.push((format!("{name} + gzip -9"), gzip(bytes).len()));
        rows.push((
            format!("{name} + zstd -19"),
            zstd::bulk::compress(bytes, 19).unwrap().len(),
        ));
    }
    let zstd_proto = rows[5].1;
    for (name, level) in [
        ("tracezip (no zstd)", None),
        ("tracezip + zstd 3", Some(3)),
        ("tracezip + zstd 9 (default)", Some(9)),
        ("tracezip + zstd 19", Some(19)),
    ] {
        let options = EncoderOptions {
            zstd_level: level,
            ..EncoderOptions::default()
        };
        let started = Instant::now();
        let file = compress(&spans, options, DEFAULT_BATCH_SPANS).expect("encode");
        let encode = started.elapsed();
        let started = Instant::now();
        let decoded = decompress(&file).expect("decode");
        let decode = started.elapsed();
        assert!(
            tracezip::spans_identical(&decoded, &spans),
            "round trip differs"
        );
        rows.push((
            format!(
                "{name}  [enc {:.2} M spans/s, dec {:.2} M spans/s]",
                spans.len() as f64 / encode.as_secs_f64() / 1e6,
                spans.len() as f64 / decode.as_secs_f64() / 1e6
            ),
            file.len(),
        ));
    }
    println!(
        "{:<62} {:>12} {:>9} {:>12}",
        "encoding", "bytes", "B/span", "vs zstd(pb)"
    );
    for (name, bytes) in rows {
        println!(
            "{name:<62} {bytes:>12} {:>9.2} {:>12.3}",
            bytes as f64 / spans.len() as f64,
            bytes as f64 / zstd_proto as f64
        );
    }
    println!(
        "round trip: all {} spans identical (doubles bitwise)",
        spans.len()
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(9));
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

// A hand-rolled OTLP protobuf encoder (opentelemetry/proto/trace/v1/trace.proto field
// numbers), spans grouped by resource and scope in first-seen order as exporters do.

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from(field << 3 | wire));
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        key(out, field, 2);
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}

fn message(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    key(out, field, 2);
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn varint_field(out: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        key(out, field, 0);
        varint(out, value);
    }
}

fn fixed64_field(out: &mut Vec<u8>, field: u32, value: u64) {
    if value != 0 {
        key(out, field, 1);
        out.extend_from_slice(&value.to_le_bytes());
    }
}

fn any_value(value: &AnyValue) -> Vec<u8> {
    let mut out = Vec::new();
    match value {
        AnyValue::Empty => {}
        AnyValue::String(text) => {
            key(&mut out, 1, 2);
            varint(&mut out, text.len() as u64);
            out.extend_from_slice(text.as_bytes());
        }
        AnyValue::Bool(flag) => {
            key(&mut out, 2, 0);
            varint(&mut out, u64::from(*flag));
        }
        AnyValue::Int(number) => {
            key(&mut out, 3, 0);
            varint(&mut out, *number as u64);
        }
        AnyValue::Double(number) => {
            key(&mut out, 4, 1);
            out.extend_from_slice(&number.to_bits().to_le_bytes());
        }
        AnyValue::Array(items) => {
            let mut array = Vec::new();
            for item in items {
                message(&mut array, 1, &any_value(item));
            }
            message(&mut out, 5, &array);
        }
        AnyValue::KvList(pairs) => {
            let mut list = Vec::new();
            attributes(&mut list, 1, pairs);
            message(&mut out, 6, &list);
        }
        AnyValue::Bytes(bytes) => {
            key(&mut out, 7, 2);
            varint(&mut out, bytes.len() as u64);
            out.extend_from_slice(bytes);
        }
    }
    out
}

fn attributes(out: &mut Vec<u8>, field: u32, pairs: &[KeyValue]) {
    for pair in pairs {
        let mut body = Vec::new();
        bytes_field(&mut body, 1, pair.key.as_bytes());
        message(&mut body, 2, &any_value(&pair.value));
        message(out, field, &body);
    }
}

fn span_message(span: &Span) -> Vec<u8> {
    let mut out = Vec::new();
    bytes_field(&mut out, 1, &span.trace_id);
    bytes_field(&mut out, 2, &span.span_id);
    bytes_field(&mut out, 3, span.trace_state.as_bytes());
    bytes_field(&mut out, 4, &span.parent_span_id);
    bytes_field(&mut out, 5, span.name.as_bytes());
    varint_field(&mut out, 6, span.kind.as_i32() as u64);
    fixed64_field(&mut out, 7, span.start_time_unix_nano);
    fixed64_field(&mut out, 8, span.end_time_unix_nano);
    attributes(&mut out, 9, &span.attributes);
    varint_field(&mut out, 10, u64::from(span.dropped_attributes_count));
    for event in &span.events {
        let mut body = Vec::new();
        fixed64_field(&mut body, 1, event.time_unix_nano);
        bytes_field(&mut body, 2, event.name.as_bytes());
        attributes(&mut body, 3, &event.attributes);
        varint_field(&mut body, 4, u64::from(event.dropped_attributes_count));
        message(&mut out, 11, &body);
    }
    varint_field(&mut out, 12, u64::from(span.dropped_events_count));
    for link in &span.links {
        let mut body = Vec::new();
        bytes_field(&mut body, 1, &link.trace_id);
        bytes_field(&mut body, 2, &link.span_id);
        bytes_field(&mut body, 3, link.trace_state.as_bytes());
        attributes(&mut body, 4, &link.attributes);
        varint_field(&mut body, 5, u64::from(link.dropped_attributes_count));
        if link.flags != 0 {
            key(&mut body, 6, 5);
            body.extend_from_slice(&link.flags.to_le_bytes());
        }
        message(&mut out, 13, &body);
    }
    varint_field(&mut out, 14, u64::from(span.dropped_links_count));
    let mut status = Vec::new();
    bytes_field(&mut status, 2, span.status.message.as_bytes());
    varint_field(
        &mut status,
        3,
        match span.status.code {
            trace_formats::StatusCode::Unset => 0,
            trace_formats::StatusCode::Ok => 1,
            trace_formats::StatusCode::Error => 2,
        },
    );
    if !status.is_empty() {
        message(&mut out, 15, &status);
    }
    if span.flags != 0 {
        key(&mut out, 16, 5);
        out.extend_from_slice(&span.flags.to_le_bytes());
    }
    out
}

/// Spans of one scope: the first span (for the scope), then all of them.
type ScopeGroup<'a> = (&'a Span, Vec<&'a Span>);

/// One `ExportTraceServiceRequest` holding all spans.
fn otlp_protobuf(spans: &[Span]) -> Vec<u8> {
    // Group by resource, then scope, in first-seen order.
    let mut groups: Vec<(&Span, Vec<ScopeGroup<'_>>)> = Vec::new();
    for span in spans {
        let group = match groups
            .iter()
            .position(|(first, _)| first.resource == span.resource)
        {
            Some(index) => &mut groups[index].1,
            None => {
                groups.push((span, Vec::new()));
                &mut groups.last_mut().unwrap().1
            }
        };
        match group
            .iter()
            .position(|(first, _)| first.scope == span.scope)
        {
            Some(index) => group[index].1.push(span),
            None => group.push((span, vec![span])),
        }
    }
    let mut out = Vec::new();
    for (first, scopes) in groups {
        let mut resource_spans = Vec::new();
        let mut resource = Vec::new();
        attributes(&mut resource, 1, &first.resource.attributes);
        varint_field(
            &mut resource,
            2,
            u64::from(first.resource.dropped_attributes_count),
        );
        message(&mut resource_spans, 1, &resource);
        for (scope_first, members) in scopes {
            let mut scope_spans = Vec::new();
            let scope = &scope_first.scope;
            let mut scope_body = Vec::new();
            bytes_field(&mut scope_body, 1, scope.name.as_bytes());
            bytes_field(&mut scope_body, 2, scope.version.as_bytes());
            attributes(&mut scope_body, 3, &scope.attributes);
            varint_field(
                &mut scope_body,
                4,
                u64::from(scope.dropped_attributes_count),
            );
            message(&mut scope_spans, 1, &scope_body);
            for span in members {
                message(&mut scope_spans, 2, &span_message(span));
            }
            bytes_field(&mut scope_spans, 3, scope.schema_url.as_bytes());
            message(&mut resource_spans, 2, &scope_spans);
        }
        bytes_field(&mut resource_spans, 3, first.resource.schema_url.as_bytes());
        message(&mut out, 1, &resource_spans);
    }
    out
}
