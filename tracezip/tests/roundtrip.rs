//! Property tests: decode(encode(spans)) == spans for random spans covering every field
//! and value type, across batches, resets and options; and garbage or mutated frames
//! give errors, never panics.

use proptest::prelude::*;
use std::sync::Arc;
use trace_formats::{
    AnyValue, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status, StatusCode,
};
use tracezip::{Decoder, Encoder, EncoderOptions, compress, decompress};

fn value_strategy() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        Just(AnyValue::Empty),
        "[a-c]{0,3}".prop_map(AnyValue::String),
        ".{0,12}".prop_map(AnyValue::String),
        any::<bool>().prop_map(AnyValue::Bool),
        any::<i64>().prop_map(AnyValue::Int),
        (0i64..4).prop_map(AnyValue::Int),
        any::<u64>().prop_map(|bits| AnyValue::Double(f64::from_bits(bits))),
        Just(AnyValue::Double(f64::NAN)),
        Just(AnyValue::Double(-0.0)),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(AnyValue::Bytes),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AnyValue::Array),
            proptest::collection::vec(("[a-z]{0,4}", inner), 0..4).prop_map(|pairs| {
                AnyValue::KvList(
                    pairs
                        .into_iter()
                        .map(|(key, value)| KeyValue { key, value })
                        .collect(),
                )
            }),
        ]
    })
}

fn attributes_strategy() -> impl Strategy<Value = Vec<KeyValue>> {
    proptest::collection::vec((prop_oneof!["k[0-3]", ".{0,6}"], value_strategy()), 0..5).prop_map(
        |pairs| {
            pairs
                .into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect()
        },
    )
}

fn id_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..18),
        (0u8..3, 0u64..30).prop_map(|(segment, n)| format!("abc.{segment}9.{n}").into_bytes()),
        (0u64..1200).prop_map(|n| format!("{n:04}").into_bytes()),
    ]
}

fn resource_pool() -> Vec<Arc<Resource>> {
    vec![
        Arc::new(Resource::for_service("ts-order-service")),
        Arc::new(Resource::default()),
        Arc::new(Resource {
            attributes: vec![
                KeyValue::string("service.name", "x"),
                KeyValue {
                    key: "n".into(),
                    value: AnyValue::Double(1.5),
                },
            ],
            dropped_attributes_count: 3,
            schema_url: "https://schema".into(),
        }),
    ]
}

fn scope_pool() -> Vec<Arc<Scope>> {
    vec![
        Arc::new(Scope::default()),
        Arc::new(Scope {
            name: "io.opentelemetry.spring".into(),
            version: "1.2".into(),
            attributes: vec![KeyValue::string("a", "b")],
            dropped_attributes_count: 1,
            schema_url: "s".into(),
        }),
    ]
}

fn event_strategy() -> impl Strategy<Value = Event> {
    (any::<u64>(), "[a-z]{0,5}", attributes_strategy(), 0u32..3).prop_map(
        |(time_unix_nano, name, attributes, dropped_attributes_count)| Event {
            time_unix_nano,
            name,
            attributes,
            dropped_attributes_count,
        },
    )
}

fn link_strategy() -> impl Strategy<Value = Link> {
    (
        id_strategy(),
        id_strategy(),
        "[a-z=,]{0,6}",
        attributes_strategy(),
        0u32..3,
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

prop_compose! {
    fn span_strategy()(
        trace_id in prop_oneof![(0u8..4).prop_map(|n| vec![n; 16]), id_strategy()],
        span_id in id_strategy(),
        parent_span_id in prop_oneof![Just(Vec::new()), id_strategy()],
        trace_state in prop_oneof![Just(String::new()), "[a-z=]{1,6}".prop_map(String::from)],
        name in prop_oneof!["GET /[a-b]", ".{0,8}"],
        kind in 0i32..6,
        start in prop_oneof![any::<u64>(), (0u64..1000).prop_map(|ms| 1_629_189_387_938_000_000 + ms * 1_000_000)],
        duration in prop_oneof![any::<u64>(), 0u64..5_000_000],
        attributes in attributes_strategy(),
        dropped in prop_oneof![Just(0u32), any::<u32>()],
        events in proptest::collection::vec(event_strategy(), 0..2),
        links in proptest::collection::vec(link_strategy(), 0..2),
        dropped_events in prop_oneof![Just(0u32), any::<u32>()],
        dropped_links in prop_oneof![Just(0u32), any::<u32>()],
        status_code in 0u8..3,
        status_message in prop_oneof![Just(String::new()), ".{1,6}"],
        flags in prop_oneof![Just(0u32), any::<u32>()],
        resource in 0usize..3,
        scope in 0usize..2,
        hashed_ids in any::<bool>(),
    ) -> Span {
        let mut span = Span {
            trace_id,
            span_id,
            parent_span_id,
            trace_state,
            name,
            kind: SpanKind::from_i32(kind),
            start_time_unix_nano: start,
            end_time_unix_nano: start.wrapping_add(duration),
            attributes,
            dropped_attributes_count: dropped,
            events,
            dropped_events_count: dropped_events,
            links,
            dropped_links_count: dropped_links,
            status: Status {
                message: status_message,
                code: match status_code { 1 => StatusCode::Ok, 2 => StatusCode::Error, _ => StatusCode::Unset },
            },
            flags,
            resource: resource_pool()[resource].clone(),
            scope: scope_pool()[scope].clone(),
        };
        // OTLP ids hashed from textual ids, the originals kept in attributes.
        if hashed_ids {
            trace_formats::ids::make_otlp_ids(&mut span, true);
        }
        span
    }
}

fn options_strategy() -> impl Strategy<Value = EncoderOptions> {
    (any::<bool>(), 0usize..4, 1u64..8, 5usize..400).prop_map(
        |(zstd, limit, window, max_entries)| EncoderOptions {
            zstd_level: zstd.then_some(3),
            high_cardinality_limit: limit,
            cardinality_window: window,
            max_dictionary_entries: max_entries,
            ..EncoderOptions::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn batches_round_trip_exactly(
        spans in proptest::collection::vec(span_strategy(), 0..40),
        cuts in proptest::collection::vec(0usize..40, 0..4),
        options in options_strategy(),
        forced_reset in 0usize..4,
    ) {
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(spans.len())).collect();
        cuts.push(0);
        cuts.push(spans.len());
        cuts.sort_unstable();
        let mut encoder = Encoder::new(42, options);
        let mut decoder = Decoder::default();
        let mut decoded = Vec::new();
        for (batch, window) in cuts.windows(2).enumerate() {
            if batch == forced_reset {
                encoder.reset();
            }
            let frame = encoder.encode_batch(&spans[window[0]..window[1]]).unwrap();
            decoded.extend(decoder.decode_frame(&frame).unwrap());
        }
        prop_assert!(tracezip::spans_identical(&decoded, &spans));
    }

    #[test]
    fn files_round_trip_exactly(
        spans in proptest::collection::vec(span_strategy(), 0..30),
        batch in 1usize..9,
    ) {
        let file = compress(&spans, EncoderOptions::default(), batch).unwrap();
        prop_assert!(tracezip::spans_identical(&decompress(&file).unwrap(), &spans));
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut decoder = Decoder::default();
        let _ = decoder.decode_frame(&bytes);
        let mut with_header = vec![1u8, 2, 0, 0];
        with_header.extend_from_slice(&bytes);
        let _ = decoder.decode_frame(&with_header);
        let _ = decompress(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(
        spans in proptest::collection::vec(span_strategy(), 1..12),
        zstd in any::<bool>(),
        mutations in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        truncate in any::<prop::sample::Index>(),
    ) {
        let options = EncoderOptions { zstd_level: zstd.then_some(3), ..EncoderOptions::default() };
        let mut encoder = Encoder::new(1, options);
        let first = encoder.encode_batch(&spans[..spans.len() / 2]).unwrap();
        let second = encoder.encode_batch(&spans[spans.len() / 2..]).unwrap();
        let mut mutated = second.clone();
        for (index, byte) in &mutations {
            let at = index.index(mutated.len());
            mutated[at] = *byte;
        }
        let mut decoder = Decoder::default();
        decoder.decode_frame(&first).unwrap();
        let _ = decoder.decode_frame(&mutated);
        let mut fresh = Decoder::default();
        let mut mutated_first = first.clone();
        for (index, byte) in &mutations {
            let at = index.index(mutated_first.len());
            mutated_first[at] ^= byte | 1;
        }
        let _ = fresh.decode_frame(&mutated_first);
        let _ = Decoder::default().decode_frame(&first[..truncate.index(first.len())]);
    }
}

#[test]
fn lost_frames_and_foreign_streams_are_reported() {
    let span = Span {
        name: "n".into(),
        ..Span::default()
    };
    let mut encoder = Encoder::new(5, EncoderOptions::default());
    let first = encoder.encode_batch(std::slice::from_ref(&span)).unwrap();
    let second = encoder.encode_batch(std::slice::from_ref(&span)).unwrap();
    let third = encoder.encode_batch(std::slice::from_ref(&span)).unwrap();

    let mut decoder = Decoder::default();
    // Without the first (reset) frame the decoder has no state for the stream.
    assert!(decoder.decode_frame(&second).is_err());
    decoder.decode_frame(&first).unwrap();
    assert!(matches!(
        decoder.decode_frame(&third),
        Err(tracezip::DecodeError::OutOfSequence {
            expected: 1,
            got: 2,
            ..
        })
    ));
    assert_eq!(decoder.decode_frame(&second).unwrap(), vec![span.clone()]);

    // A second encoder on another stream id shares the decoder.
    let mut other = Encoder::new(6, EncoderOptions::default());
    let frame = other.encode_batch(std::slice::from_ref(&span)).unwrap();
    assert_eq!(decoder.decode_frame(&frame).unwrap(), vec![span.clone()]);
    assert_eq!(decoder.decode_frame(&third).unwrap(), vec![span.clone()]);

    // After a reset request the next frame restarts the decoder's state.
    encoder.reset();
    let restarted = encoder.encode_batch(std::slice::from_ref(&span)).unwrap();
    assert_eq!(
        Decoder::default().decode_frame(&restarted).unwrap(),
        vec![span]
    );
}

#[test]
fn repeated_spans_cost_a_few_bytes_each() {
    let resource = Arc::new(Resource::for_service("ts-food-service"));
    let spans: Vec<Span> = (0..1000u64)
        .map(|i| Span {
            trace_id: format!("t{}", i / 50).into_bytes(),
            span_id: format!("seg{}.{}", i / 50, i % 50).into_bytes(),
            parent_span_id: if i % 50 == 0 {
                Vec::new()
            } else {
                format!("seg{}.0", i / 50).into_bytes()
            },
            name: "MongoDB/FindOperation".into(),
            kind: SpanKind::Client,
            start_time_unix_nano: 1_629_189_387_938_000_000 + i * 10_000_000,
            end_time_unix_nano: 1_629_189_387_948_000_000 + i * 10_000_000,
            attributes: vec![KeyValue::string("peer", "ts-food-mongo")],
            resource: resource.clone(),
            ..Span::default()
        })
        .collect();
    let options = EncoderOptions {
        zstd_level: None,
        ..EncoderOptions::default()
    };
    let file = compress(&spans, options.clone(), 1000).unwrap();
    assert_eq!(decompress(&file).unwrap(), spans);
    // Path id, trace reference, parent back reference, span id increment, two times.
    assert!(file.len() < 7 * spans.len(), "{} bytes", file.len());

    // The same with OTLP ids hashed from the text ids, the text kept in attributes:
    // ids cost a byte each as hashes of those attributes, which code like ids.
    let otlp: Vec<Span> = spans
        .iter()
        .map(|span| {
            let mut span = span.clone();
            trace_formats::ids::make_otlp_ids(&mut span, true);
            span
        })
        .collect();
    let file = compress(&otlp, options, 1000).unwrap();
    assert_eq!(decompress(&file).unwrap(), otlp);
    assert!(file.len() < 13 * spans.len(), "{} bytes", file.len());
}

#[test]
fn high_cardinality_attributes_stay_out_of_the_tree() {
    let resource = Arc::new(Resource::for_service("svc"));
    let spans: Vec<Span> = (0..5000u64)
        .map(|i| Span {
            trace_id: vec![1; 16],
            span_id: i.to_be_bytes().to_vec(),
            name: format!("op{}", i % 3),
            attributes: vec![
                KeyValue::string("user.id", format!("user-{i}")),
                KeyValue::string("db", if i % 2 == 0 { "mongo" } else { "redis" }),
            ],
            resource: resource.clone(),
            ..Span::default()
        })
        .collect();
    let options = EncoderOptions {
        zstd_level: None,
        ..EncoderOptions::default()
    };
    let mut encoder = Encoder::new(0, options.clone());
    let mut decoder = Decoder::default();
    for batch in spans.chunks(1000) {
        let frame = encoder.encode_batch(batch).unwrap();
        assert_eq!(decoder.decode_frame(&frame).unwrap(), batch);
    }
    // Until `user.id` passes the limit its values enter the tree; after that the
    // tree holds 3 names x 2 `db` values x (inline `user.id`) and stops growing.
    let nodes = encoder.stats().tree_nodes;
    let limit = options.high_cardinality_limit as u64;
    assert!(nodes < 6 * (limit + 2) + 20, "{nodes} tree nodes");
    let before = nodes;
    let more: Vec<Span> = spans
        .iter()
        .map(|span| Span {
            attributes: vec![
                KeyValue::string("user.id", format!("other-{:?}", span.span_id)),
                span.attributes[1].clone(),
            ],
            ..span.clone()
        })
        .collect();
    let frame = encoder.encode_batch(&more).unwrap();
    assert_eq!(decoder.decode_frame(&frame).unwrap(), more);
    assert_eq!(
        encoder.stats().tree_nodes,
        before,
        "no new paths for new user ids"
    );
}
