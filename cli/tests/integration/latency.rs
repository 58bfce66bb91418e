//! The latency-fault fixture end to end through the binary (the injector and the
//! measurement are tested in `autoscope-replay`).

use std::path::PathBuf;

fn delays_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces/delays")
}

/// (trace id, span id) per fault of the fixture's `faults.tsv`.
fn delayed_spans() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(delays_dir().join("faults.tsv")).unwrap();
    text.lines()
        .skip_while(|l| l.starts_with('#'))
        .skip(1)
        .map(|l| {
            let mut parts = l.split('\t');
            (
                parts.next().unwrap().to_string(),
                parts.next().unwrap().to_string(),
            )
        })
        .collect()
}

/// End to end through the binary: `autoscope sample` writes every delayed row.
#[test]
fn autoscope_sample_writes_the_delayed_spans() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("kept.csv");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .arg("sample")
        .arg("--policy")
        .arg(delays_dir().join("policy.json"))
        .arg(delays_dir().join("delayed.csv"))
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let kept = trace_formats::read_path(&output).unwrap();
    for (trace_id, span_id) in delayed_spans() {
        assert!(
            kept.spans
                .iter()
                .any(|s| s.trace_id == trace_id.as_bytes() && s.span_id == span_id.as_bytes()),
            "{trace_id} {span_id} not written"
        );
    }
}
