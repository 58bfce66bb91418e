//! Checks decode(encode(spans)) == spans on every trace file given (folders are walked
//! one level deep), both for the spans as read and converted to OTLP ids, with and
//! without zstd. Exits 1 if any file does not round-trip.
//!
//! `cargo run --release -p tracezip --example lossless -- ../shared/data/* testdata/traces`

use std::path::PathBuf;
use trace_formats::Span;
use tracezip::{EncoderOptions, compress, decompress};

fn files(arguments: impl Iterator<Item = String>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for argument in arguments {
        let path = PathBuf::from(argument);
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&path)
                .expect("readable folder")
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path);
        }
    }
    files
}

fn round_trips(spans: &[Span], zstd_level: Option<i32>) -> (bool, usize) {
    let options = EncoderOptions {
        zstd_level,
        ..EncoderOptions::default()
    };
    let file = compress(spans, options, tracezip::DEFAULT_BATCH_SPANS).expect("encode");
    let decoded = decompress(&file).expect("decode");
    let same = tracezip::spans_identical(&decoded, spans);
    (same, file.len())
}

fn main() {
    let mut failures = 0;
    for path in files(std::env::args().skip(1)) {
        let document = match trace_formats::read_path(&path) {
            Ok(document) => document,
            Err(error) => {
                println!("skip {}: {error}", path.display());
                continue;
            }
        };
        let otlp = document.otlp_spans();
        for (label, spans) in [("as read", &document.spans), ("OTLP ids", &otlp)] {
            for level in [None, Some(tracezip::DEFAULT_ZSTD_LEVEL)] {
                let (same, bytes) = round_trips(spans, level);
                println!(
                    "{} {} ({label}, {}): {} spans -> {bytes} bytes",
                    if same { "ok  " } else { "FAIL" },
                    path.display(),
                    if level.is_some() { "zstd" } else { "no zstd" },
                    spans.len()
                );
                failures += usize::from(!same);
            }
        }
    }
    if failures > 0 {
        println!("{failures} round trips failed");
        std::process::exit(1);
    }
}
