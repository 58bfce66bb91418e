//! Benchmark of the whole analysis (discover, parse, resolve, name, score, generate) on
//! the tree named by `AUTOSCOPE_BENCH_SRC` (default: the sample codebases in
//! testdata/). Example: `AUTOSCOPE_BENCH_SRC=PATH/TO/train-ticket cargo bench -p
//! autoscope --bench analyze`.

use autoscope_analysis::analysis::{AnalyzeOptions, analyze_path};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::PathBuf;

fn bench_analyze(c: &mut Criterion) {
    let root = std::env::var_os("AUTOSCOPE_BENCH_SRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata"));
    let options = AnalyzeOptions::default();
    let probe = analyze_path(&root, &options, &|_| {}, &|| {}).expect("the bench tree is readable");
    let mut group = c.benchmark_group("analyze");
    group.throughput(Throughput::Elements(probe.stats.lines));
    group.sample_size(10);
    group.bench_function(root.display().to_string(), |b| {
        b.iter(|| analyze_path(&root, &options, &|_| {}, &|| {}).expect("analysis runs"))
    });
    group.finish();
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);
