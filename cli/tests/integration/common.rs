//! Helpers the command modules share.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A path below the repository's `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// Runs the built binary with `args`.
pub fn autoscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .output()
        .expect("autoscope runs")
}

/// Bytes as text, for messages.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The spans of an OTLP/JSON file (one request per line), each with its resource and
/// scope: what a file holds whichever requests group its spans.
pub fn otlp_spans(bytes: &[u8]) -> Vec<serde_json::Value> {
    let mut spans = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let request: serde_json::Value = serde_json::from_slice(line).unwrap();
        for resource_spans in request["resourceSpans"].as_array().unwrap() {
            for scope_spans in resource_spans["scopeSpans"].as_array().unwrap() {
                for span in scope_spans["spans"].as_array().unwrap() {
                    spans.push(serde_json::json!({
                        "resource": resource_spans["resource"],
                        "scope": scope_spans["scope"],
                        "span": span,
                    }));
                }
            }
        }
    }
    spans
}
