//! `autoscope unzip` on damaged archives: any damage is exit 2 naming the file, the
//! frame and the byte offset, with no output left; `--salvage` writes the intact
//! frames and reports what was lost (exit 1); version 1 archives still read.

use crate::common::otlp_spans;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn autoscope(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .output()
        .expect("autoscope runs")
}

fn traces(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/traces")
        .join(name)
}

/// Zips the fixtures into `dir/all.tz`; returns its path.
fn zipped(dir: &Path) -> PathBuf {
    let path = dir.join("all.tz");
    let inputs = [
        traces("otlp.json"),
        traces("zipkin.json"),
        traces("skywalking.csv"),
    ];
    let mut args: Vec<&OsStr> = vec!["zip".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), path.as_os_str()]);
    let output = autoscope(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    path
}

/// Frame offsets of a `.tz` file and the trailer's.
fn boundaries(file: &[u8]) -> Vec<u64> {
    let mut reader = tracezip::FileReader::new(file, tracezip::MAX_FRAME_BYTES).unwrap();
    let mut offsets = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        offsets.push(frame.offset);
    }
    offsets.push(reader.trailer().unwrap().offset);
    offsets
}

fn unzip(input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![
        "unzip".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        output.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    autoscope(&args)
}

#[test]
fn a_flipped_bit_fails_naming_file_frame_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = zipped(dir.path());
    let mut file = std::fs::read(&path).unwrap();
    let offsets = boundaries(&file);
    file[offsets[0] as usize + 12] ^= 0x04;
    let damaged = dir.path().join("damaged.tz");
    std::fs::write(&damaged, &file).unwrap();
    let out = dir.path().join("out.json");
    let output = unzip(&damaged, &out, &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("damaged.tz"), "{stderr}");
    assert!(
        stderr.contains(&format!("frame 0 at byte {}", offsets[0])),
        "{stderr}"
    );
    assert!(!out.exists(), "no output is left behind");
}

#[test]
fn a_file_cut_at_a_frame_boundary_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = zipped(dir.path());
    let file = std::fs::read(&path).unwrap();
    let offsets = boundaries(&file);
    let out = dir.path().join("out.json");
    for &cut in &offsets {
        let cut_file = dir.path().join("cut.tz");
        std::fs::write(&cut_file, &file[..cut as usize]).unwrap();
        let output = unzip(&cut_file, &out, &[]);
        assert_eq!(output.status.code(), Some(2), "cut at {cut}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("cut.tz") && stderr.contains("cut short"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("byte {cut}")), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn salvage_writes_the_intact_frames_and_reports_the_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = zipped(dir.path());
    let intact = dir.path().join("intact.json");
    let output = unzip(&path, &intact, &["--salvage"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plain = dir.path().join("plain.json");
    assert!(unzip(&path, &plain, &[]).status.success());
    assert_eq!(
        std::fs::read(&intact).unwrap(),
        std::fs::read(&plain).unwrap()
    );

    // Cut inside the trailer: every frame is there, the file is not whole.
    let file = std::fs::read(&path).unwrap();
    let cut_file = dir.path().join("cut.tz");
    std::fs::write(&cut_file, &file[..file.len() - 3]).unwrap();
    let salvaged = dir.path().join("salvaged.json");
    let output = unzip(&cut_file, &salvaged, &["--salvage", "--json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cut.tz: damaged") && stderr.contains("lost bytes"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&salvaged).unwrap(),
        std::fs::read(&plain).unwrap()
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["salvage"]["complete"], false);
    assert!(!report["salvage"]["lost"].as_array().unwrap().is_empty());

    // A damaged frame: fewer spans come out, and the report says how many were lost.
    let offsets = boundaries(&file);
    let mut damaged = file.clone();
    damaged[offsets[0] as usize + 12] ^= 0x04;
    std::fs::write(&cut_file, &damaged).unwrap();
    let output = unzip(&cut_file, &salvaged, &["--salvage", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let total = report["salvage"]["trailer"]["spans"].as_u64().unwrap();
    let recovered = report["salvage"]["spans_recovered"].as_u64().unwrap();
    assert_eq!(
        report["salvage"]["spans_lost"].as_u64().unwrap(),
        total - recovered
    );
    assert!(total > recovered);
}

#[test]
fn version_1_archives_still_unzip() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tracezip/tests/data/v1-zstd.tz");
    let out = dir.path().join("v1.json");
    let output = unzip(&v1, &out, &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The same spans as zipping the fixtures it was written from today.
    let v2 = dir.path().join("v2.tz");
    let inputs = [traces("zipkin.json"), traces("skywalking.csv")];
    let mut args: Vec<&OsStr> = vec!["zip".as_ref()];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend(["-o".as_ref(), v2.as_os_str()]);
    assert!(autoscope(&args).status.success());
    let expected = dir.path().join("v2.json");
    assert!(unzip(&v2, &expected, &[]).status.success());
    assert_eq!(
        otlp_spans(&std::fs::read(&out).unwrap()),
        otlp_spans(&std::fs::read(&expected).unwrap())
    );
}

/// A SkyWalking CSV of `traces` traces of three spans each.
fn many_spans(path: &Path, traces: usize) {
    let mut csv = String::from(
        "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n",
    );
    for trace in 0..traces {
        let start = 1_629_189_387_938u64 + trace as u64 * 7;
        csv.push_str(&format!(
            "{start},{},{{GET}}/api/v1/orders,Entry,ts-order-service,s.{trace}.0,t.{trace},ts-order-service,-1,SpringMVC,False\n",
            start + 40
        ));
        for child in 1..3 {
            csv.push_str(&format!(
                "{},{},MongoDB/FindOperation,Exit,ts-order-service,s.{trace}.{child},t.{trace},ts-order-mongo,s.{trace}.0,mongodb-driver,{}\n",
                start + child,
                start + child + 5,
                if trace % 97 == 0 { "True" } else { "False" }
            ));
        }
    }
    std::fs::write(path, csv).unwrap();
}

#[test]
fn periodic_resets_let_salvage_resume_after_a_damaged_frame() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("many.csv");
    // 27,000 spans: three frames of 8,192 spans and one of the rest.
    many_spans(&csv, 9000);
    let path = dir.path().join("many.tz");
    let output = autoscope(&[
        "zip".as_ref(),
        csv.as_os_str(),
        "-o".as_ref(),
        path.as_os_str(),
        "--reset-every".as_ref(),
        "1".as_ref(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut file = std::fs::read(&path).unwrap();
    let offsets = boundaries(&file);
    assert_eq!(offsets.len(), 4 + 1);
    let middle = (offsets[1] + offsets[2]) as usize / 2;
    file[middle] ^= 0x80;
    std::fs::write(&path, &file).unwrap();
    let out = dir.path().join("salvaged.json");
    let output = unzip(&path, &out, &["--salvage", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let salvage = &report["salvage"];
    assert_eq!(salvage["frames_recovered"], 3, "{salvage}");
    assert_eq!(salvage["spans_recovered"], 27_000 - 8192, "{salvage}");
    assert_eq!(salvage["spans_lost"], 8192, "{salvage}");
    assert_eq!(salvage["lost"][0]["start"], offsets[1]);
    assert_eq!(salvage["lost"][0]["end"], offsets[2]);
}
