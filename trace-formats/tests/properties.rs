//! Property tests: OTLP/JSON round trips of random spans through the model (every
//! `AnyValue` type), and no input, however broken, makes a reader panic.

mod common;

use common::{fixtures, same_spans};
use proptest::prelude::*;
use std::sync::Arc;
use trace_formats::{
    AnyValue, Event, Format, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
    read, read_as, write_all, write_otlp_json,
};

fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        Just(AnyValue::Empty),
        any::<String>().prop_map(AnyValue::String),
        any::<bool>().prop_map(AnyValue::Bool),
        any::<i64>().prop_map(AnyValue::Int),
        any::<f64>().prop_map(AnyValue::Double),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(AnyValue::Bytes),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(AnyValue::Array),
            prop::collection::vec((".{0,6}", inner), 0..4).prop_map(|kvs| {
                AnyValue::KvList(
                    kvs.into_iter()
                        .map(|(key, value)| KeyValue { key, value })
                        .collect(),
                )
            }),
        ]
    })
}

fn attributes() -> impl Strategy<Value = Vec<KeyValue>> {
    prop::collection::vec((".{0,8}", any_value()), 0..4).prop_map(|kvs| {
        kvs.into_iter()
            .map(|(key, value)| KeyValue { key, value })
            .collect()
    })
}

fn id() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..17)
}

fn kind() -> impl Strategy<Value = SpanKind> {
    (0..6i32).prop_map(SpanKind::from_i32)
}

fn status() -> impl Strategy<Value = Status> {
    (
        prop_oneof![
            Just(StatusCode::Unset),
            Just(StatusCode::Ok),
            Just(StatusCode::Error)
        ],
        ".{0,8}",
    )
        .prop_map(|(code, message)| Status { code, message })
}

fn event() -> impl Strategy<Value = Event> {
    (any::<u64>(), ".{0,8}", attributes(), any::<u32>()).prop_map(
        |(time_unix_nano, name, attributes, dropped)| Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count: dropped,
        },
    )
}

fn link() -> impl Strategy<Value = Link> {
    (
        id(),
        id(),
        ".{0,8}",
        attributes(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(
            |(trace_id, span_id, trace_state, attributes, dropped_attributes_count, flags)| Link {
                trace_id,
                span_id,
                trace_state,
                attributes,
                dropped_attributes_count,
                flags,
            },
        )
}

fn resources() -> impl Strategy<Value = Vec<Arc<Resource>>> {
    prop::collection::vec((attributes(), any::<u32>(), ".{0,8}"), 1..4).prop_map(|rs| {
        rs.into_iter()
            .map(|(attributes, dropped_attributes_count, schema_url)| {
                Arc::new(Resource {
                    attributes,
                    dropped_attributes_count,
                    schema_url,
                })
            })
            .collect()
    })
}

fn scopes() -> impl Strategy<Value = Vec<Arc<Scope>>> {
    prop::collection::vec(
        (".{0,8}", ".{0,4}", attributes(), any::<u32>(), ".{0,8}"),
        1..4,
    )
    .prop_map(|ss| {
        ss.into_iter()
            .map(
                |(name, version, attributes, dropped_attributes_count, schema_url)| {
                    Arc::new(Scope {
                        name,
                        version,
                        attributes,
                        dropped_attributes_count,
                        schema_url,
                    })
                },
            )
            .collect()
    })
}

fn spans() -> impl Strategy<Value = Vec<Span>> {
    let span = (
        (
            id(),
            id(),
            id(),
            ".{0,8}",
            ".{0,12}",
            kind(),
            any::<u64>(),
            any::<u64>(),
        ),
        (
            attributes(),
            any::<u32>(),
            prop::collection::vec(event(), 0..3),
            any::<u32>(),
        ),
        (
            prop::collection::vec(link(), 0..2),
            any::<u32>(),
            status(),
            any::<u32>(),
            any::<usize>(),
            any::<usize>(),
        ),
    );
    (resources(), scopes(), prop::collection::vec(span, 0..8)).prop_map(
        |(resources, scopes, spans)| {
            spans
                .into_iter()
                .map(|(a, b, c)| Span {
                    trace_id: a.0,
                    span_id: a.1,
                    parent_span_id: a.2,
                    trace_state: a.3,
                    name: a.4,
                    kind: a.5,
                    start_time_unix_nano: a.6,
                    end_time_unix_nano: a.7,
                    attributes: b.0,
                    dropped_attributes_count: b.1,
                    events: b.2,
                    dropped_events_count: b.3,
                    links: c.0,
                    dropped_links_count: c.1,
                    status: c.2,
                    flags: c.3,
                    resource: resources[c.4 % resources.len()].clone(),
                    scope: scopes[c.5 % scopes.len()].clone(),
                })
                .collect()
        },
    )
}

/// Spans in a canonical order (the OTLP writer groups them by resource and scope).
fn canonical(spans: &[Span]) -> Vec<String> {
    let mut texts: Vec<String> = spans.iter().map(|s| format!("{s:?}")).collect();
    texts.sort();
    texts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn otlp_json_round_trips_random_spans(spans in spans()) {
        let mut out = Vec::new();
        write_otlp_json(&spans, &mut out).unwrap();
        let doc = read(&out, "random").unwrap();
        prop_assert_eq!(doc.format, Format::OtlpJson);
        prop_assert_eq!(canonical(&doc.spans), canonical(&spans));
        // Writing what was read gives the same spans again, in the same order.
        let mut again = Vec::new();
        write_all(&doc, &mut again).unwrap();
        let doc2 = read(&again, "again").unwrap();
        prop_assert!(same_spans(&doc.spans, &doc2.spans));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        for format in Format::ALL {
            let _ = read_as(format, &bytes, "random");
        }
        if let Ok(doc) = read(&bytes, "random") {
            let mut out = Vec::new();
            write_all(&doc, &mut out).unwrap();
        }
    }

    #[test]
    fn broken_fixtures_never_panic(which in 0usize..6, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let (path, _) = &fixtures()[which];
        let mut bytes = std::fs::read(path).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(doc) = read(&bytes, "broken") {
            let mut out = Vec::new();
            write_all(&doc, &mut out).unwrap();
            read(&out, "rewritten").unwrap();
        }
    }
}

#[test]
fn every_truncation_of_every_fixture_reads_or_fails_cleanly() {
    for (path, format) in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        for end in 0..=bytes.len() {
            let prefix = &bytes[..end];
            match read_as(format, prefix, "truncated") {
                Ok(doc) => {
                    let mut out = Vec::new();
                    write_all(&doc, &mut out).unwrap();
                    let again = read_as(format, &out, "rewritten").unwrap();
                    assert_eq!(again.spans.len(), doc.spans.len());
                }
                Err(e) => assert_eq!(e.origin(), "truncated", "{e}"),
            }
            let _ = read(prefix, "truncated");
        }
    }
}
