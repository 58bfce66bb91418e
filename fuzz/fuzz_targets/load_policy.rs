//! Any text as a policy: the loader returns a policy or an error naming field and line,
//! never panics; a policy it accepts compiles into a sampler.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(policy) = policy_schema::from_json_str(text) {
            runtime_sampler::Sampler::new(&policy).expect("a loaded policy compiles");
        }
    }
});
