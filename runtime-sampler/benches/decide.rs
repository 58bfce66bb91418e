//! Throughput of span decisions and of the structure pass, with a realistic policy:
//! 20 services x (10 exact names, 8 templates, 2 prefixes) = 400 rules plus a few
//! service-less globs, and a name mix of 50% exact names, 35% template instances
//! (ids vary), 10% prefixed names, 5% unmatched; ~20 spans per trace.
//!
//! Every benchmark runs twice: with wall time (criterion's default) and with the CPU time
//! of the benchmarking thread (read from `/proc/thread-self/schedstat`), labelled `cpu`:
//! on a shared, loaded machine wall time counts the time other processes held the core,
//! CPU time does not (caches are still shared, so it is not noise-free either).
//!
//! Run: `cargo bench -p runtime-sampler --bench decide -- --quick`

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use policy_schema::{
    Action, Generator, Matcher, Overrides, Policy, Rule, Structure, StructureMode,
};
use runtime_sampler::{KeepReason, Sampler, SpanView, structure_pass};
use std::hint::black_box;

const SERVICES: usize = 20;

fn service(s: usize) -> String {
    format!("service-{s:02}")
}

fn realistic_policy(latency_override: bool) -> Policy {
    let mut rules = Vec::new();
    let mut add = |id: String, service: Option<String>, matcher: Matcher, i: usize| {
        let action = if i.is_multiple_of(3) {
            Action::Keep
        } else {
            Action::Sample {
                rate: [0.01, 0.1, 0.5][i % 3],
            }
        };
        rules.push(Rule {
            id,
            service,
            matchers: vec![matcher],
            action,
            profile: None,
            kind: None,
            attributes: Vec::new(),
            evidence: None,
        });
    };
    for s in 0..SERVICES {
        for e in 0..10 {
            add(
                format!("s{s}-exact{e}"),
                Some(service(s)),
                Matcher::Exact(format!("Service{s}.method{e}")),
                e,
            );
        }
        for t in 0..8 {
            let template = format!("{{GET}}/api/v1/svc{s}/resource{t}/{{id}}");
            add(
                format!("s{s}-template{t}"),
                Some(service(s)),
                Matcher::Template(template.replace("{GET}", "{{GET}}")),
                t,
            );
        }
        for p in 0..2 {
            add(
                format!("s{s}-prefix{p}"),
                Some(service(s)),
                Matcher::Prefix(format!("MongoDB/svc{s}/op{p}")),
                p,
            );
        }
    }
    for (g, pattern) in ["*/healthz", "*.css", "*.js"].iter().enumerate() {
        add(
            format!("glob{g}"),
            None,
            Matcher::Glob((*pattern).into()),
            g,
        );
    }
    Policy {
        schema: None,
        version: 1,
        generator: Generator {
            tool: "bench".into(),
            version: "0".into(),
            source_root: None,
            arguments: Vec::new(),
        },
        target_reduction: 0.8,
        default_action: Action::Sample { rate: 0.05 },
        overrides: Overrides {
            keep_errors: true,
            latency: latency_override.then(Default::default),
        },
        structure: Structure {
            mode: StructureMode::KeepAncestors,
        },
        budget: None,
        rules,
    }
}

struct OwnedSpan {
    trace_id: String,
    span_id: String,
    parent: Option<String>,
    name: String,
    service: String,
    duration: u64,
}

fn realistic_spans(count: usize) -> Vec<OwnedSpan> {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|i| {
            let r = next();
            let s = (r % SERVICES as u64) as usize;
            let pick = (r >> 8) % 100;
            let k = (r >> 16) as usize;
            let name = match pick {
                0..50 => format!("Service{s}.method{}", k % 10),
                50..85 => format!("{{GET}}/api/v1/svc{s}/resource{}/{}", k % 8, k % 100_000),
                85..95 => format!("MongoDB/svc{s}/op{}/FindOperation", k % 2),
                _ => format!("unmatched.operation{}", k % 50),
            };
            let trace = i / 20;
            OwnedSpan {
                trace_id: format!(
                    "{:032x}",
                    (trace as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                ),
                span_id: format!("{i:016x}"),
                parent: (!i.is_multiple_of(20))
                    .then(|| format!("{:016x}", i - 1 - (r as usize % (i % 20)))),
                name,
                service: service(s),
                duration: 1_000_000 + (r >> 24) % 5_000_000,
            }
        })
        .collect()
}

fn views(spans: &[OwnedSpan]) -> Vec<SpanView<'_>> {
    spans
        .iter()
        .enumerate()
        .map(|(i, s)| SpanView {
            trace_id: s.trace_id.as_bytes(),
            span_id: s.span_id.as_bytes(),
            parent_span_id: s.parent.as_deref().map(str::as_bytes),
            name: &s.name,
            service: &s.service,
            is_error: i.is_multiple_of(500),
            start_unix_nano: 1_700_000_000_000_000_000 + i as u64 * 50_000,
            duration_nanos: s.duration,
            ..SpanView::default()
        })
        .collect()
}

fn decisions<M: Measurement>(c: &mut Criterion<M>, label: &str) {
    let owned = realistic_spans(20_000);
    let spans = views(&owned);
    let mut group = c.benchmark_group(format!("{label}decide"));
    group.throughput(Throughput::Elements(spans.len() as u64));
    if !label.is_empty() {
        // The thread's CPU time advances at scheduler ticks, not continuously: linear
        // sampling's first samples (one or two iterations, ~1 ms) could read as zero
        // time, which criterion rejects. Equal samples of many iterations each do not.
        group.sampling_mode(SamplingMode::Flat);
    }
    let plain = Sampler::new(&realistic_policy(false)).unwrap();
    let mut by_kind = std::collections::BTreeMap::new();
    for span in &spans {
        let kind = plain
            .rule_for(span.service, span.name)
            .map(|m| format!("{:?}", m.kind));
        *by_kind
            .entry(kind.unwrap_or_else(|| "none".into()))
            .or_insert(0) += 1;
    }
    eprintln!("name mix by deciding matcher kind: {by_kind:?}");
    group.bench_function("match only (rule_for)", |b| {
        b.iter(|| {
            spans
                .iter()
                .filter(|s| plain.rule_for(s.service, s.name).is_some())
                .count()
        })
    });
    // The floor the decisions are measured against: per span one hash-map lookup of the
    // name and one 64-bit hash of the trace id, compared with a threshold.
    let floor_policy = realistic_policy(false);
    let names: ahash::AHashMap<&str, u64> = floor_policy
        .rules
        .iter()
        .flat_map(|r| r.matchers.iter())
        .filter_map(|m| match m {
            Matcher::Exact(name) => Some(name.as_str()),
            _ => None,
        })
        .zip(0u64..)
        .map(|(name, i)| (name, (i % 3) << 54))
        .collect();
    let hasher = ahash::RandomState::with_seeds(1, 2, 3, 4);
    group.bench_function("floor: one map lookup + one trace-id hash", |b| {
        b.iter(|| {
            spans
                .iter()
                .filter(|s| {
                    let limit = names.get(s.name).copied().unwrap_or(1 << 55);
                    (hasher.hash_one(s.trace_id) >> 8) >= limit
                })
                .count()
        })
    });
    let mut sampler = Sampler::new(&realistic_policy(false)).unwrap();
    group.bench_function("decide, error override", |b| {
        b.iter(|| spans.iter().filter(|s| sampler.decide(s).keep).count())
    });
    let mut sampler = Sampler::new(&realistic_policy(true)).unwrap();
    group.bench_function("decide, error + latency overrides", |b| {
        b.iter(|| spans.iter().filter(|s| sampler.decide(s).keep).count())
    });
    let mut sampler = Sampler::new(&realistic_policy(true)).unwrap();
    group.bench_function("sample_trace, 20-span traces, all overrides", |b| {
        b.iter(|| {
            spans
                .chunks(20)
                .map(|trace| sampler.sample_trace(trace).kept_indices().count())
                .sum::<usize>()
        })
    });
    group.finish();
}

fn structure<M: Measurement>(c: &mut Criterion<M>, label: &str) {
    let mut group = c.benchmark_group(format!("{label}structure pass"));
    for size in [1_000usize, 100_000] {
        let ids: Vec<String> = (0..size).map(|i| format!("{i:016x}")).collect();
        let spans: Vec<SpanView> = (0..size)
            .map(|i| SpanView {
                trace_id: b"0af7651916cd43dd8448eb211c80319c",
                span_id: ids[i].as_bytes(),
                parent_span_id: (i > 0).then(|| ids[(i - 1) / 4].as_bytes()),
                name: "op",
                service: "svc",
                is_error: false,
                start_unix_nano: 0,
                duration_nanos: 0,
                ..SpanView::default()
            })
            .collect();
        let decided: Vec<Option<KeepReason>> = (0..size)
            .map(|i| i.is_multiple_of(10).then_some(KeepReason::Rule))
            .collect();
        group.throughput(Throughput::Elements(size as u64));
        for mode in [StructureMode::KeepAncestors, StructureMode::Reparent] {
            group.bench_with_input(
                BenchmarkId::new(format!("{mode:?}"), size),
                &spans,
                |b, spans| b.iter(|| structure_pass(black_box(spans), &decided, mode)),
            );
        }
    }
    group.finish();
}

/// CPU time of the calling thread, in nanoseconds.
struct ThreadCpuTime;

fn thread_cpu_nanos() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = f64;
    type Value = f64;

    fn start(&self) -> f64 {
        thread_cpu_nanos()
    }
    fn end(&self, started: f64) -> f64 {
        thread_cpu_nanos() - started
    }
    fn add(&self, a: &f64, b: &f64) -> f64 {
        a + b
    }
    fn zero(&self) -> f64 {
        0.0
    }
    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (divisor, unit) = match typical {
            t if t < 1e3 => (1.0, "ns cpu"),
            t if t < 1e6 => (1e3, "µs cpu"),
            t if t < 1e9 => (1e6, "ms cpu"),
            _ => (1e9, "s cpu"),
        };
        values.iter_mut().for_each(|v| *v /= divisor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let count = match throughput {
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => *n as f64,
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) | Throughput::Bits(n) => *n as f64,
        };
        values.iter_mut().for_each(|v| *v = count * 1e9 / *v / 1e6);
        "M/s cpu"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn wall(c: &mut Criterion<WallTime>) {
    decisions(c, "");
    structure(c, "");
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    decisions(c, "cpu ");
    structure(c, "cpu ");
}

criterion_group!(wall_benches, wall);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu
}
criterion_main!(wall_benches, cpu_benches);
