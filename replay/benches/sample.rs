//! `autoscope sample` end to end in MB/s: read a trace file, decide every span with a
//! policy, run the structure pass and write the kept spans in the input's format.
//!
//! The input is `AUTOSCOPE_BENCH_TRACES` (e.g. the 34 MB
//! `../shared/data/deeptralog-trainticket/F02normal01_spans.csv`), else the SkyWalking
//! fixture repeated to about 4 MB; the policy is `AUTOSCOPE_BENCH_POLICY`, else the
//! example policy in testdata. Each iteration also frees its document, which the
//! command skips for its last input (it exits next), so the figure is conservative.
//!
//! ```sh
//! AUTOSCOPE_BENCH_TRACES=../shared/data/deeptralog-trainticket/F02normal01_spans.csv \
//!   cargo bench -p autoscope-replay --bench sample
//! ```

use autoscope_replay::apply::{TraceGroups, sample_document};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::PathBuf;

// The same allocator as the `autoscope` binary, so that the figure is the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

fn input() -> Vec<u8> {
    if let Ok(path) = std::env::var("AUTOSCOPE_BENCH_TRACES") {
        return std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let fixture = std::fs::read_to_string(testdata("traces/skywalking.csv")).expect("fixture");
    let mut lines = fixture.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.collect();
    let mut out = format!("{header}\n");
    let mut copy = 0;
    while out.len() < 4 << 20 {
        for row in &rows {
            // Make each copy's trace and span ids distinct so traces stay small.
            out.push_str(
                &row.replace("aaa.", &format!("a{copy}."))
                    .replace("bbb.", &format!("b{copy}.")),
            );
            out.push('\n');
        }
        copy += 1;
    }
    out.into_bytes()
}

fn bench(c: &mut Criterion) {
    let bytes = input();
    let policy_path = std::env::var("AUTOSCOPE_BENCH_POLICY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| testdata("policies/example.json"));
    let policy = policy_schema::from_path(&policy_path).expect("policy");
    let mut group = c.benchmark_group("sample");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("read+decide+write", |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            let mut sampler = runtime_sampler::Sampler::new(&policy).expect("compiles");
            let doc = trace_formats::read(&bytes, "bench").expect("reads");
            let groups = TraceGroups::of(&doc.spans);
            let sampled = sample_document(&mut sampler, &doc, &groups);
            out.clear();
            trace_formats::write(&doc, &sampled.kept, &mut out).expect("writes");
            out.len()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
