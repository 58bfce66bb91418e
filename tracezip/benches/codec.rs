//! Encoding and decoding speed on realistic spans: generated to resemble the TrainTicket
//! mix (SkyWalking ids converted to OTLP, a food-order loop of MongoDB and RabbitMQ
//! calls, consign requests, failing admin requests), or read from the trace file named
//! by `TRACEZIP_BENCH_FILE` (converted to OTLP ids as `autoscope convert` does).
//!
//! `cargo bench -p tracezip [--features mimalloc] --bench codec`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use trace_formats::{KeyValue, Resource, Scope, Span, SpanKind, Status, StatusCode};
use tracezip::{Decoder, Encoder, EncoderOptions};

// With `--features mimalloc`: glibc's allocator spends much of decoding in
// `malloc_consolidate` when batches of decoded spans are freed.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A small deterministic generator (no dependency needed for benchmark data).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn generated_spans(count: usize) -> Vec<Span> {
    let services = [
        "ts-food-service",
        "ts-consign-service",
        "ts-admin-travel-service",
        "ts-travel-service",
    ];
    let resources: Vec<Arc<Resource>> = services
        .iter()
        .map(|s| Arc::new(Resource::for_service(*s)))
        .collect();
    let scopes: Vec<Arc<Scope>> = [
        "SpringMVC",
        "mongodb-driver",
        "SpringRestTemplate",
        "rabbitmq-producer",
    ]
    .iter()
    .map(|name| {
        Arc::new(Scope {
            name: (*name).into(),
            ..Scope::default()
        })
    })
    .collect();
    let exits = [
        ("MongoDB/FindOperation", "ts-food-mongo", 1),
        ("MongoDB/InsertOperation", "ts-food-mongo", 1),
        (
            "RabbitMQ/Topic/Queue/food_delivery/Producer",
            "rabbitmq:5672",
            3,
        ),
        ("/api/v1/travelservice/trips/left", "ts-travel-service", 2),
    ];
    let entries = [
        "{POST}/api/v1/foodservice/createOrderBatch",
        "{PUT}/api/v1/consignservice/consigns",
        "{GET}/api/v1/admintravelservice/admintravel",
    ];
    let mut random = Lcg(7);
    let mut spans = Vec::with_capacity(count);
    let mut time_ms = 1_629_189_387_938u64;
    let mut trace_number = 0u64;
    while spans.len() < count {
        trace_number += 1;
        let service = random.below(3) as usize;
        let uuid = format!("{:016x}{:016x}", random.next() * 31 + 17, random.next());
        let trace_text = format!("{uuid}.46.{}", time_ms * 10_000 + trace_number * 2 + 1);
        let segment = format!("{uuid}.46.{}", time_ms * 10_000 + trace_number * 2);
        let children = match service {
            0 => 40 + random.below(30),
            1 => 5,
            _ => 1 + random.below(8),
        };
        let failing = service == 2 && random.below(2) == 0;
        let mut start = time_ms;
        for index in 0..=children {
            let (name, peer, scope, kind) = if index == 0 {
                (entries[service], services[service], 0, SpanKind::Server)
            } else {
                let (name, peer, scope) = exits[(random.below(4) as usize + service) % 4];
                (name, peer, scope, SpanKind::Client)
            };
            let duration = if index == 0 { 150 } else { random.below(12) };
            let mut span = Span {
                trace_id: trace_text.clone().into_bytes(),
                span_id: format!("{segment}.{index}").into_bytes(),
                parent_span_id: if index == 0 {
                    Vec::new()
                } else {
                    format!("{segment}.0").into_bytes()
                },
                name: name.into(),
                kind,
                start_time_unix_nano: start * 1_000_000,
                end_time_unix_nano: (start + duration) * 1_000_000,
                attributes: vec![KeyValue::string("peer", peer)],
                status: Status {
                    message: String::new(),
                    code: if failing && index < 2 {
                        StatusCode::Error
                    } else {
                        StatusCode::Unset
                    },
                },
                resource: resources[service].clone(),
                scope: scopes[scope].clone(),
                ..Span::default()
            };
            trace_formats::ids::make_otlp_ids(&mut span, true);
            spans.push(span);
            start += random.below(11);
        }
        time_ms += 1 + random.below(40);
    }
    spans.truncate(count);
    spans
}

fn spans() -> Vec<Span> {
    match std::env::var_os("TRACEZIP_BENCH_FILE") {
        Some(path) => trace_formats::read_path(path.as_ref())
            .expect("TRACEZIP_BENCH_FILE must be a readable trace file")
            .otlp_spans(),
        None => generated_spans(100_000),
    }
}

fn codec(c: &mut Criterion) {
    let spans = spans();
    let batch = tracezip::DEFAULT_BATCH_SPANS;
    let mut group = c.benchmark_group("tracezip");
    group.throughput(Throughput::Elements(spans.len() as u64));
    group.sample_size(10);
    for (label, zstd_level) in [
        ("no zstd", None),
        ("zstd default", Some(tracezip::DEFAULT_ZSTD_LEVEL)),
    ] {
        let options = EncoderOptions {
            zstd_level,
            ..EncoderOptions::default()
        };
        group.bench_function(format!("encode ({label})"), |b| {
            b.iter(|| {
                let mut encoder = Encoder::new(0, options.clone());
                for chunk in spans.chunks(batch) {
                    black_box(encoder.encode_batch(chunk).unwrap());
                }
            })
        });
        let mut encoder = Encoder::new(0, options.clone());
        let frames: Vec<Vec<u8>> = spans
            .chunks(batch)
            .map(|chunk| encoder.encode_batch(chunk).unwrap())
            .collect();
        group.bench_function(format!("decode ({label})"), |b| {
            b.iter(|| {
                let mut decoder = Decoder::default();
                for frame in &frames {
                    black_box(decoder.decode_frame(frame).unwrap());
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
