//! `autoscope convert` end to end: the built binary on the trace fixtures, in a temp dir.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces")
}

fn autoscope(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .output()
        .expect("autoscope runs")
}

fn fixture_paths() -> Vec<PathBuf> {
    [
        "otlp.json",
        "otlp-lines.jsonl",
        "jaeger.json",
        "zipkin.json",
        "skywalking.csv",
        "research.csv",
    ]
    .iter()
    .map(|name| traces_dir().join(name))
    .collect()
}

fn span_count(path: &Path) -> usize {
    trace_formats::read_path(path).unwrap().spans.len()
}

#[test]
fn converts_every_format_into_one_otlp_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("all.json");
    let inputs = fixture_paths();
    let mut args: Vec<&std::ffi::OsStr> = vec!["convert".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), out.as_os_str()]);
    let output = autoscope(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "no progress when stderr is not a terminal"
    );
    let doc = trace_formats::read_path(&out).unwrap();
    assert_eq!(doc.format, trace_formats::Format::OtlpJson);
    let expected: usize = inputs.iter().map(|p| span_count(p)).sum();
    assert_eq!(doc.spans.len(), expected);
    for span in &doc.spans {
        assert_eq!(
            (span.trace_id.len(), span.span_id.len()),
            (16, 8),
            "{}",
            span.name
        );
        assert!(span.parent_span_id.is_empty() || span.parent_span_id.len() == 8);
    }
    // SkyWalking's textual ids are kept beside their hashes.
    assert!(doc.spans.iter().any(|s| {
        s.attributes.iter().any(|kv| {
            kv.key == "autoscope.original_span_id"
                && kv.value == trace_formats::AnyValue::String("aaa.1.100.0".into())
        })
    }));
}

#[test]
fn dash_writes_to_standard_output() {
    let input = traces_dir().join("skywalking.csv");
    let output = autoscope(&[
        "convert".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = trace_formats::read(&output.stdout, "stdout").unwrap();
    assert_eq!(doc.spans.len(), span_count(&input));
}

#[test]
fn bad_input_exits_2_naming_file_and_line_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{}\n1,2,/a,Entry,svc,s1,t1,p,-1,C,False\n1,2,3\n",
            trace_formats::SKYWALKING_HEADER
        ),
    )
    .unwrap();
    let out = dir.path().join("out.json");
    let good = traces_dir().join("zipkin.json");
    let output = autoscope(&[
        "convert".as_ref(),
        good.as_os_str(),
        bad.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{}:3", bad.display())), "{stderr}");
    assert!(!out.exists(), "no partial output");

    let unknown = dir.path().join("notes.txt");
    std::fs::write(&unknown, "just some text\n").unwrap();
    let output = autoscope(&[
        "convert".as_ref(),
        unknown.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot tell the format of") && stderr.contains("notes.txt"),
        "{stderr}"
    );

    let missing = dir.path().join("missing.json");
    let output = autoscope(&[
        "convert".as_ref(),
        missing.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.json"));
    assert!(!out.exists());
}
