//! `autoscope zip` and `autoscope unzip` end to end: the built binary on the trace
//! fixtures, in a temp dir.

use crate::common::otlp_spans;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

fn traces_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces")
}

fn autoscope(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .output()
        .expect("autoscope runs")
}

fn fixtures() -> Vec<PathBuf> {
    [
        "otlp.json",
        "jaeger.json",
        "zipkin.json",
        "skywalking.csv",
        "research.csv",
    ]
    .iter()
    .map(|name| traces_dir().join(name))
    .collect()
}

#[test]
fn zip_then_unzip_gives_what_convert_gives() {
    let dir = tempfile::tempdir().unwrap();
    let zipped = dir.path().join("all.tz");
    let unzipped = dir.path().join("all.json");
    let converted = dir.path().join("converted.json");
    let inputs = fixtures();
    let mut args: Vec<&OsStr> = vec!["zip".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), zipped.as_os_str(), "--stats".as_ref()]);
    let output = autoscope(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stats = String::from_utf8_lossy(&output.stderr);
    assert!(
        stats.contains("bytes in") && stats.contains("ratio"),
        "{stats}"
    );

    let output = autoscope(&[
        "unzip".as_ref(),
        zipped.as_os_str(),
        "-o".as_ref(),
        unzipped.as_os_str(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut args: Vec<&OsStr> = vec!["convert".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), converted.as_os_str()]);
    assert!(autoscope(&args).status.success());
    let converted = otlp_spans(&std::fs::read(&converted).unwrap());
    assert!(converted.len() > 20);
    assert_eq!(otlp_spans(&std::fs::read(&unzipped).unwrap()), converted);

    // `-o -` writes the same JSON to standard output.
    let output = autoscope(&[
        "unzip".as_ref(),
        zipped.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert!(output.status.success());
    assert_eq!(otlp_spans(&output.stdout), converted);

    // Without zstd the file is larger but decodes to the same.
    let plain = dir.path().join("plain.tz");
    let mut args: Vec<&OsStr> = vec!["zip".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), plain.as_os_str(), "--no-zstd".as_ref()]);
    assert!(autoscope(&args).status.success());
    assert!(std::fs::metadata(&plain).unwrap().len() > std::fs::metadata(&zipped).unwrap().len());
    let output = autoscope(&[
        "unzip".as_ref(),
        plain.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(otlp_spans(&output.stdout), converted);
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.tz");
    std::fs::write(&garbage, b"TZIP\x01\x05\x01\x00\x00\x01\x02").unwrap();
    let out = dir.path().join("out.json");
    let output = autoscope(&[
        "unzip".as_ref(),
        garbage.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("garbage.tz"), "{stderr}");
    assert!(!out.exists(), "no output is left behind");

    let not_tz = traces_dir().join("otlp.json");
    let output = autoscope(&[
        "unzip".as_ref(),
        not_tz.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a tracezip file"));

    let missing = dir.path().join("missing.csv");
    let zipped = dir.path().join("x.tz");
    let output = autoscope(&[
        "zip".as_ref(),
        missing.as_os_str(),
        "-o".as_ref(),
        zipped.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.csv"));
    assert!(!zipped.exists());
}

/// A name that is not UTF-8 survives `convert` and `zip`/`unzip`: the OTLP/JSON holds
/// its bytes, and both ways give the same file.
#[test]
fn names_that_are_not_utf8_survive_convert_and_zip() {
    let dir = tempfile::tempdir().unwrap();
    let input = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/traces/anomalies.csv");
    let converted = dir.path().join("converted.json");
    let archive = dir.path().join("a.tz");
    let unzipped = dir.path().join("unzipped.json");
    for args in [
        vec![
            "convert".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            converted.as_os_str(),
        ],
        vec![
            "zip".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            archive.as_os_str(),
        ],
        vec![
            "unzip".as_ref(),
            archive.as_os_str(),
            "-o".as_ref(),
            unzipped.as_os_str(),
        ],
    ] {
        let run = Command::new(env!("CARGO_BIN_EXE_autoscope"))
            .args(&args)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    assert_eq!(
        std::fs::read(&converted).unwrap(),
        std::fs::read(&unzipped).unwrap()
    );
    let doc = trace_formats::read_path(&unzipped).unwrap();
    let root = doc
        .spans
        .iter()
        .find(|s| s.name.starts_with("GET /caf"))
        .unwrap();
    let original = root
        .attributes
        .iter()
        .find(|kv| kv.key == trace_formats::ORIGINAL_NAME)
        .map(|kv| kv.value.clone());
    assert_eq!(
        original,
        Some(trace_formats::AnyValue::Bytes(b"GET /caf\xe9".to_vec()))
    );
    let service = root
        .resource
        .attributes
        .iter()
        .find(|kv| kv.key == trace_formats::ORIGINAL_SERVICE_NAME)
        .map(|kv| kv.value.clone());
    assert_eq!(
        service,
        Some(trace_formats::AnyValue::Bytes(b"caf\xe9-service".to_vec()))
    );
}
