//! Reading speed of the SkyWalking CSV reader (the hot path of `autoscope sample` on
//! large exports) and of writing every row back.
//!
//! `AUTOSCOPE_BENCH_CSV=/path/to/spans.csv cargo bench -p trace-formats` measures that
//! file; without the variable a synthetic SkyWalking CSV (about 30 MB) is generated.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn synthetic_skywalking_csv() -> Vec<u8> {
    let mut out = String::from(trace_formats::SKYWALKING_HEADER);
    out.push_str("\r\n");
    for trace in 0..2000u64 {
        let segment = format!("{trace:032x}.46.16291893879380402");
        let trace_id = format!("{trace:032x}.46.16291893879380403");
        for span in 0..55u64 {
            let (url, kind, parent, component) = if span == 0 {
                (
                    "{POST}/api/v1/foodservice/createOrderBatch".to_string(),
                    "Entry",
                    "-1".to_string(),
                    "SpringMVC",
                )
            } else {
                (
                    "MongoDB/FindOperation".to_string(),
                    "Exit",
                    format!("{segment}.0"),
                    "mongodb-driver",
                )
            };
            let start = 1_629_189_387_938 + span * 10;
            out.push_str(&format!(
                "{start},{},{url},{kind},ts-food-service,{segment}.{span},{trace_id},ts-food-mongo,{parent},{component},False\r\n",
                start + 10
            ));
        }
    }
    out.into_bytes()
}

fn bench_read(c: &mut Criterion) {
    let (label, bytes) = match std::env::var_os("AUTOSCOPE_BENCH_CSV") {
        Some(path) => match std::fs::read(&path) {
            Ok(bytes) => (format!("{}", std::path::Path::new(&path).display()), bytes),
            Err(e) => {
                eprintln!(
                    "AUTOSCOPE_BENCH_CSV={}: {e}; using synthetic input",
                    path.display()
                );
                ("synthetic".to_string(), synthetic_skywalking_csv())
            }
        },
        None => ("synthetic".to_string(), synthetic_skywalking_csv()),
    };
    let mut group = c.benchmark_group("skywalking_csv");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function(format!("read {label}"), |b| {
        // Dropping a document frees ~10 allocations per span; `autoscope sample` does
        // that at exit, so it is left out of the time.
        b.iter_with_large_drop(|| trace_formats::read(black_box(&bytes), "bench"))
    });
    let doc = trace_formats::read(&bytes, "bench").expect("bench input reads");
    group.bench_function(format!("write_all {label}"), |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            out.clear();
            trace_formats::write_all(&doc, &mut out).map(|()| out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_read);
criterion_main!(benches);
