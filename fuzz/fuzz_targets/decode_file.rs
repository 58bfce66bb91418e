//! Fuzzes the version 2 `.tz` file reader, its checksums and trailer, and salvage:
//! arbitrary bytes after a version 2 header, and a valid file damaged by the input
//! (XORed bytes, then cut). Damage must be an error or decode to exactly the original
//! spans (never to other spans), and salvage must never panic or recover more spans
//! than the file holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use trace_formats::{KeyValue, Resource, Span};
use tracezip::{DecodeError, DecoderOptions, EncoderOptions, compress, decompress, salvage};

/// A valid version 2 file of a few frames, and its spans.
fn valid_file() -> &'static (Vec<Span>, Vec<u8>) {
    static FILE: OnceLock<(Vec<Span>, Vec<u8>)> = OnceLock::new();
    FILE.get_or_init(|| {
        let resource = Arc::new(Resource::for_service("svc"));
        let spans: Vec<Span> = (0..12u8)
            .map(|i| Span {
                trace_id: vec![i / 4 + 1; 16],
                span_id: vec![i + 1; 8],
                parent_span_id: if i % 4 == 0 { Vec::new() } else { vec![i; 8] },
                name: format!("op{}", i % 3),
                start_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(i) * 1000,
                end_time_unix_nano: 1_700_000_000_000_000_000 + u64::from(i) * 2000,
                attributes: vec![KeyValue::string("peer", format!("db{}", i % 2))],
                resource: resource.clone(),
                ..Span::default()
            })
            .collect();
        let options = EncoderOptions {
            zstd_level: Some(1),
            ..EncoderOptions::default()
        };
        let file = compress(&spans, options, 4).expect("valid spans encode");
        (spans, file)
    })
}

fuzz_target!(|data: &[u8]| {
    let mut arbitrary = b"TZIP\x02".to_vec();
    arbitrary.extend_from_slice(data);
    let _ = decompress(&arbitrary);
    let _ = salvage(&arbitrary, DecoderOptions::default(), |_| {
        Ok::<(), DecodeError>(())
    });

    // The input as damage: pairs of (position, XOR mask), and a final cut.
    let (spans, file) = valid_file();
    let mut damaged = file.clone();
    for pair in data.chunks_exact(3) {
        let position = usize::from(u16::from_le_bytes([pair[0], pair[1]])) % damaged.len();
        damaged[position] ^= pair[2];
    }
    if data.len() % 3 == 1 {
        damaged.truncate(usize::from(data[data.len() - 1]) % (damaged.len() + 1));
    }
    if let Ok(decoded) = decompress(&damaged) {
        assert!(
            tracezip::spans_identical(&decoded, spans),
            "damage decoded to other spans"
        );
    }
    let mut recovered = 0;
    let report = salvage(&damaged, DecoderOptions::default(), |frame| {
        recovered += frame.len();
        Ok::<(), DecodeError>(())
    });
    if let Ok(report) = report {
        assert!(recovered <= spans.len());
        assert_eq!(report.spans_recovered, recovered as u64);
    }
});
