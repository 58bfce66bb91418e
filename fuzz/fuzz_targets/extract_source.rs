//! Any text as Java, Python and Go source: parsing and fact extraction return facts,
//! never panic (syntax errors are counted, not fatal).
#![no_main]

use autoscope_analysis::parse::Parsers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let mut parsers = Parsers::default();
    for spec in autoscope_analysis::lang::all() {
        let path = format!("svc/fuzz.{}", spec.extensions[0]);
        if let Ok(facts) = parsers.parse(spec, &path, source) {
            assert_eq!(facts.path, path);
        }
    }
});
