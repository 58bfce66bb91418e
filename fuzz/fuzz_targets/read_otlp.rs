//! Any bytes read as OtlpJson: the reader returns, never panics; what it reads
//! writes back and reads again as the same format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trace_formats::Format;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = trace_formats::read_as(Format::OtlpJson, data, "fuzz") {
        let mut out = Vec::new();
        trace_formats::write_all(&doc, &mut out).expect("a document read can be written");
        let again = trace_formats::read_as(Format::OtlpJson, &out, "rewritten")
            .expect("written output reads back");
        assert_eq!(again.spans.len(), doc.spans.len());
    }
});
