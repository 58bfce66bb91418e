//! Fuzzes the tracezip decoder: arbitrary bytes as a frame, as a `.tz` file, and as a
//! second frame after a valid first one. Any outcome but a panic, hang or huge
//! allocation is fine.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use trace_formats::{KeyValue, Resource, Span};
use tracezip::{Decoder, Encoder, EncoderOptions};

/// A valid first frame, so the fuzzed second frame meets a decoder with state.
fn first_frame() -> &'static [u8] {
    static FRAME: OnceLock<Vec<u8>> = OnceLock::new();
    FRAME.get_or_init(|| {
        let resource = Arc::new(Resource::for_service("svc"));
        let spans: Vec<Span> = (0..4u8)
            .map(|i| Span {
                trace_id: b"trace.1.100".to_vec(),
                span_id: format!("seg.{i}").into_bytes(),
                parent_span_id: if i == 0 {
                    Vec::new()
                } else {
                    b"seg.0".to_vec()
                },
                name: format!("op{}", i % 2),
                attributes: vec![KeyValue::string("peer", "db")],
                resource: resource.clone(),
                ..Span::default()
            })
            .collect();
        let options = EncoderOptions {
            zstd_level: None,
            high_cardinality_limit: 1,
            ..EncoderOptions::default()
        };
        Encoder::new(3, options)
            .encode_batch(&spans)
            .expect("valid spans encode")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = Decoder::default().decode_frame(data);
    let _ = tracezip::decompress(data);

    let mut decoder = Decoder::default();
    decoder
        .decode_frame(first_frame())
        .expect("valid frame decodes");
    let mut second = vec![tracezip::FORMAT_VERSION, 0, 3, 1];
    second.extend_from_slice(data);
    let _ = decoder.decode_frame(&second);
});
