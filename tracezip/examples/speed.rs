//! Encoding and decoding speed in spans per CPU second of this thread (so that other
//! processes sharing the machine do not count), on the trace files given as arguments
//! converted to OTLP ids as `autoscope convert` does. Linux only (reads
//! `/proc/thread-self/schedstat`).
//!
//! `cargo run --release -p tracezip [--features mimalloc] --example speed -- FILE...`

use tracezip::{DEFAULT_BATCH_SPANS, DEFAULT_ZSTD_LEVEL, Decoder, Encoder, EncoderOptions};

// With `--features mimalloc`: glibc's allocator spends much of decoding in
// `malloc_consolidate` when batches of decoded spans are freed.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_nanos() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .expect("/proc/thread-self/schedstat is readable")
}

fn main() {
    let mut spans = Vec::new();
    for path in std::env::args().skip(1) {
        let document = trace_formats::read_path(path.as_ref()).unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        });
        spans.extend(document.otlp_spans());
    }
    let rounds = 3;
    println!(
        "{} spans, best of {rounds} rounds, per CPU second of one thread",
        spans.len()
    );
    for (label, zstd_level) in [
        ("no zstd", None),
        ("zstd default", Some(DEFAULT_ZSTD_LEVEL)),
    ] {
        let options = EncoderOptions {
            zstd_level,
            ..EncoderOptions::default()
        };
        let mut best_encode = u64::MAX;
        let mut best_decode = u64::MAX;
        let mut bytes = 0;
        for _ in 0..rounds {
            let started = thread_cpu_nanos();
            let mut encoder = Encoder::new(0, options.clone());
            let frames: Vec<Vec<u8>> = spans
                .chunks(DEFAULT_BATCH_SPANS)
                .map(|chunk| encoder.encode_batch(chunk).expect("encode"))
                .collect();
            best_encode = best_encode.min(thread_cpu_nanos() - started);
            bytes = frames.iter().map(Vec::len).sum::<usize>();
            let started = thread_cpu_nanos();
            let mut decoder = Decoder::default();
            let mut decoded = 0;
            for frame in &frames {
                let batch = decoder.decode_frame(frame).expect("decode");
                decoded += batch.len();
                drop(batch);
            }
            best_decode = best_decode.min(thread_cpu_nanos() - started);
            assert_eq!(decoded, spans.len());
        }
        println!(
            "{label:>13}: {bytes} bytes; encode {:.2} M spans/s; decode {:.2} M spans/s",
            spans.len() as f64 / best_encode as f64 * 1e3,
            spans.len() as f64 / best_decode as f64 * 1e3,
        );
    }
}
