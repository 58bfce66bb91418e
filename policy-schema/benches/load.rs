//! Loading speed: the example policy and a generated 5,000-rule policy (~1 MB).
//!
//! Run: `cargo bench -p policy-schema --bench load -- --quick`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn large_policy(rules: usize) -> String {
    let rules: Vec<String> = (0..rules)
        .map(|i| {
            format!(
                r#"    {{"id": "r{i}", "service": "s{}", "match": [{{"template": "/api/v{i}/items/{{id}}"}}, {{"exact": "op{i}"}}], "action": {{"action": "sample", "rate": 0.5}}, "evidence": {{"score": 1.5, "reasons": [{{"kind": "hot", "points": -2.0, "detail": "called in a loop"}}]}}}}"#,
                i % 20
            )
        })
        .collect();
    format!(
        "{{\n  \"version\": 1,\n  \"generator\": {{\"tool\": \"bench\", \"version\": \"0\"}},\n  \"target_reduction\": 0.5,\n  \"default_action\": {{\"action\": \"keep\"}},\n  \"rules\": [\n{}\n  ]\n}}\n",
        rules.join(",\n")
    )
}

fn load(c: &mut Criterion) {
    let example = include_str!("../../testdata/policies/example.json");
    let large = large_policy(5_000);
    let mut group = c.benchmark_group("load");
    for (name, text) in [("example", example), ("5000 rules", large.as_str())] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| policy_schema::from_json_str(black_box(text)).unwrap())
        });
    }
    // The error path also scans the text for the offending line.
    let bad = large.replace(r#""id": "r4999""#, r#""id": "r0""#);
    group.throughput(Throughput::Bytes(bad.len() as u64));
    group.bench_function("5000 rules, duplicate id in the last rule", |b| {
        b.iter(|| policy_schema::from_json_str(black_box(&bad)).unwrap_err())
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
