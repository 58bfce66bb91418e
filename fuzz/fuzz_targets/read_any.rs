//! Any bytes: `trace_formats::read` must return, never panic; what it reads must
//! write back and read again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = trace_formats::read(data, "fuzz") {
        let mut out = Vec::new();
        trace_formats::write_all(&doc, &mut out).expect("a document read can be written");
        let again = trace_formats::read(&out, "rewritten").expect("written output reads back");
        assert_eq!(again.spans.len(), doc.spans.len());
        let mut otlp = Vec::new();
        trace_formats::write_otlp_json(&doc.otlp_spans(), &mut otlp)
            .expect("OTLP conversion writes");
        trace_formats::read(&otlp, "otlp").expect("OTLP conversion reads back");
    }
});
