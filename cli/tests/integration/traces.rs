//! `autoscope sample`, `eval` and `coverage` end to end: the built binary on the trace
//! fixtures and the example policy, in temporary directories.

use crate::common::{autoscope, testdata, text};
use std::path::PathBuf;
use std::process::{Command, Output};

#[test]
fn sample_keeps_csv_rows_byte_for_byte_and_every_error_span() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kept.csv");
    let input = testdata("traces/skywalking.csv");
    let policy = testdata("policies/example.json");
    let run = autoscope(&[
        "sample".as_ref(),
        "--policy".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let original = std::fs::read_to_string(&input).unwrap();
    let kept = std::fs::read_to_string(&out).unwrap();
    let header = original.lines().next().unwrap();
    assert_eq!(kept.lines().next(), Some(header));
    // keep-ancestors never changes a parent, so every kept row is an input row.
    let rows: Vec<&str> = original.lines().skip(1).collect();
    for line in kept.lines().skip(1) {
        assert!(rows.contains(&line), "row not in the input: {line}");
    }
    for row in &rows {
        if row.ends_with(",True") {
            assert!(kept.contains(row), "error span lost: {row}");
        }
    }
    assert!(kept.lines().count() > 1, "nothing kept");
}

#[test]
fn sample_into_a_folder_and_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let policy = testdata("policies/example.json");
    let inputs = [testdata("traces/otlp.json"), testdata("traces/zipkin.json")];
    let out = dir.path().join("sampled");
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        inputs[0].as_os_str(),
        inputs[1].as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    for name in ["otlp.json", "zipkin.json"] {
        let written = out.join(name);
        let doc = trace_formats::read_path(&written).unwrap();
        assert_eq!(
            doc.format,
            trace_formats::read_path(&testdata(&format!("traces/{name}")))
                .unwrap()
                .format
        );
    }
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        inputs[0].as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert!(run.status.success());
    trace_formats::read(&run.stdout, "stdout").unwrap();
}

#[test]
fn bad_inputs_exit_2_naming_the_file_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let policy = testdata("policies/example.json");
    let missing = dir.path().join("missing.csv");
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        missing.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("missing.csv"),
        "{}",
        text(&run.stderr)
    );
    assert!(!out.exists());

    let broken = dir.path().join("broken.csv");
    std::fs::write(
        &broken,
        "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n1,2,x,Entry\n",
    )
    .unwrap();
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        broken.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    let err = text(&run.stderr);
    assert!(err.contains("broken.csv") && err.contains('2'), "{err}");
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temporary files left"
    );

    let bad_policy = dir.path().join("policy.json");
    std::fs::write(&bad_policy, "{\n  \"version\": 1,\n  \"bogus\": true\n}\n").unwrap();
    let input = testdata("traces/otlp.json");
    let run = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        bad_policy.as_os_str(),
        input.as_os_str(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    let err = text(&run.stderr);
    assert!(
        err.contains("policy.json") && err.contains("line 3"),
        "{err}"
    );
}

#[test]
fn eval_reports_policy_beside_head_and_tail_sampling() {
    let policy = testdata("policies/example.json");
    let inputs = [
        testdata("traces/skywalking.csv"),
        testdata("traces/jaeger.json"),
    ];
    let run = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        inputs[0].as_os_str(),
        inputs[1].as_os_str(),
        "--json".as_ref(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let total = report["total"].as_array().unwrap();
    let methods: Vec<&str> = total
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "policy",
            "head 1%",
            "head 10%",
            "tail (errors + 1%)",
            "tail latency"
        ]
    );
    let policy_row = &total[0];
    assert_eq!(policy_row["error_span_coverage"], 1.0);
    assert_eq!(policy_row["ancestor_integrity"], 1.0);
    let spans = policy_row["spans"].as_u64().unwrap();
    let per_file: u64 = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["methods"][0]["spans"].as_u64().unwrap())
        .sum();
    assert_eq!(spans, per_file);
    // Tail sampling keeps every error span too; the table prints all four methods.
    assert_eq!(total[3]["error_span_coverage"], 1.0);
    let table = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        inputs[0].as_os_str(),
    ]);
    let table = text(&table.stdout);
    assert!(
        table.contains("head 10%") && table.contains("byte-red"),
        "{table}"
    );
}

#[test]
fn coverage_counts_names_and_the_rules_that_match_them() {
    let policy = testdata("policies/example.json");
    let input = testdata("traces/skywalking.csv");
    let run = autoscope(&[
        "coverage".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--json".as_ref(),
        "--limit".as_ref(),
        "0".as_ref(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let doc = trace_formats::read_path(&input).unwrap();
    assert_eq!(
        report["summary"]["spans"].as_u64().unwrap(),
        doc.spans.len() as u64
    );
    let names = report["names"].as_array().unwrap();
    let counted: u64 = names.iter().map(|n| n["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, doc.spans.len() as u64);
    let matched: u64 = names
        .iter()
        .filter(|n| !n["rule"].is_null())
        .map(|n| n["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        report["summary"]["spans_matched"].as_u64().unwrap(),
        matched
    );
}

/// The example policy on the shop trace it was written for: rules name most spans,
/// error spans survive, and the one slow MongoDB call (trace shop085, 300 ms against
/// 2 ms) is kept by the latency override although its rule samples at 5%.
#[test]
fn example_policy_on_the_shop_traces() {
    let dir = tempfile::tempdir().unwrap();
    let policy = testdata("policies/example.json");
    let input = testdata("traces/shop.csv");
    let out = dir.path().join("kept.csv");
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let kept = std::fs::read_to_string(&out).unwrap();
    assert!(kept.contains(",MongoDB/FindOperation,Exit,order-service,shop085.1.2,"));
    let input_text = std::fs::read_to_string(&input).unwrap();
    let errors: Vec<&str> = input_text
        .lines()
        .filter(|l| l.ends_with(",True"))
        .collect();
    assert_eq!(errors.len(), 4);
    for row in errors {
        assert!(kept.contains(row), "error row lost: {row}");
    }
    let run = autoscope(&[
        "coverage".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--json".as_ref(),
    ]);
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let share = report["summary"]["span_share"].as_f64().unwrap();
    assert!(share > 0.85, "rules match only {share} of the spans");
}

/// `reparent` on a partial trace: the kept span's dropped ancestors end at a parent the
/// file does not contain, so the kept span points past them to that parent's id; in
/// `keep-ancestors` mode the chain is kept instead.
#[test]
fn reparent_points_past_dropped_ancestors_to_a_missing_parent() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n\
        1,9,{GET}/a,Entry,svc,t.1.0,t.9,svc,upstream.7,SpringMVC,False\n\
        2,8,/b,Exit,svc,t.1.1,t.9,other,t.1.0,SpringRestTemplate,False\n\
        3,7,MongoDB/FindOperation,Exit,svc,t.1.2,t.9,db,t.1.1,mongodb-driver,False\n";
    let input = dir.path().join("partial.csv");
    std::fs::write(&input, csv).unwrap();
    for (mode, expected) in [
        (
            "reparent",
            "3,7,MongoDB/FindOperation,Exit,svc,t.1.2,t.9,db,upstream.7,mongodb-driver,False\n",
        ),
        ("keep-ancestors", &csv[csv.find('\n').unwrap() + 1..]),
    ] {
        let policy = dir.path().join(format!("{mode}.json"));
        std::fs::write(
            &policy,
            format!(
                r#"{{"version": 1, "generator": {{"tool": "test", "version": "1"}},
                "target_reduction": 0.9, "default_action": {{"action": "sample", "rate": 0.0}},
                "structure": {{"mode": "{mode}"}},
                "rules": [{{"id": "db", "match": [{{"prefix": "MongoDB/"}}], "action": {{"action": "keep"}}}}]}}"#
            ),
        )
        .unwrap();
        let out = dir.path().join(format!("{mode}.csv"));
        let run = autoscope(&[
            "sample".as_ref(),
            "-p".as_ref(),
            policy.as_os_str(),
            input.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert!(run.status.success(), "{}", text(&run.stderr));
        let written = std::fs::read_to_string(&out).unwrap();
        let rows = &written[written.find('\n').unwrap() + 1..];
        assert_eq!(rows, expected, "{mode}");
    }
}

#[test]
fn duplicate_span_ids_and_parent_cycles_are_counted_in_reports() {
    let policy = testdata("policies/example.json");
    let input = testdata("traces/anomalies.csv");
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        "/dev/null".as_ref(),
        "--report".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["structure"]["duplicate_span_ids"], 1);
    assert_eq!(report["structure"]["parent_cycles_cut"], 1);
    assert_eq!(report["spans_in"], 5);
    assert_eq!(report["files"][0]["spans"], 5);
    // Without --report, a warning says so.
    let run = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        "/dev/null".as_ref(),
    ]);
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("1 duplicate span ids and 1 parent cycles"),
        "{stderr}"
    );
    let run = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["structure"]["duplicate_span_ids"], 1);
    assert_eq!(report["structure"]["parent_cycles_cut"], 1);
    let run = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
    ]);
    assert!(
        text(&run.stdout).contains("1 duplicate span ids, 1 parent cycles cut"),
        "{}",
        text(&run.stdout)
    );
}

#[test]
fn an_is_error_that_is_neither_true_nor_false_exits_2_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("truncated.csv");
    let original = std::fs::read_to_string(testdata("traces/shop.csv")).unwrap();
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    let row = lines[3].clone();
    lines[3] = format!("{},Fals", row.rsplit_once(',').unwrap().0);
    std::fs::write(&input, lines.join("\n")).unwrap();
    let policy = testdata("policies/example.json");
    for command in ["sample", "eval", "coverage"] {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            command.as_ref(),
            "-p".as_ref(),
            policy.as_os_str(),
            input.as_os_str(),
        ];
        if command == "sample" {
            args.extend([std::ffi::OsStr::new("-o"), std::ffi::OsStr::new("-")]);
        }
        let run = autoscope(&args);
        assert_eq!(run.status.code(), Some(2), "{command}");
        let stderr = text(&run.stderr);
        assert!(
            stderr.contains(&format!("{}:4:", input.display()))
                && stderr.contains("\"Fals\" is neither true nor false"),
            "{command}: {stderr}"
        );
        assert!(run.stdout.is_empty(), "{command}");
    }
}

/// A version 2 policy whose rules have kind and attribute conditions: `coverage` and
/// `explain` decide with the span's kind and start attributes and show the conditions.
#[test]
fn coverage_and_explain_honour_rule_conditions() {
    let policy = testdata("policies/conditions.json");
    let input = testdata("traces/otlp.json");
    let run = autoscope(&[
        "coverage".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--limit".as_ref(),
        "0".as_ref(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let table = text(&run.stdout);
    let row = table
        .lines()
        .find(|l| l.contains("GET /hotels"))
        .unwrap_or_default();
    assert!(
        row.ends_with(
            r#"hotels-failing [kind server; http.status_code glob "5??"; ratio exact "0.25"]"#
        ),
        "{table}"
    );
    // The search span is a server span: the client-only rule does not take it.
    let row = table
        .lines()
        .find(|l| l.contains("search.Search/Nearby"))
        .unwrap_or_default();
    assert!(row.ends_with("(default)"), "{table}");

    let explain = |extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "explain".into(),
            "--policy".into(),
            policy.clone().into(),
            "GET /hotels".into(),
            "--service".into(),
            "frontend".into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let run = autoscope(&args);
        assert!(run.status.success(), "{}", text(&run.stderr));
        text(&run.stdout)
    };
    let plain = explain(&[]);
    assert!(plain.starts_with("rule hotels\n"), "{plain}");
    let failing = explain(&[
        "--kind",
        "server",
        "--attribute",
        "http.status_code=503",
        "--attribute",
        "ratio=0.25",
    ]);
    assert!(failing.starts_with("rule hotels-failing\n"), "{failing}");
    assert!(
        failing.contains(
            r#"conditions: kind server; http.status_code glob "5??"; ratio exact "0.25""#
        ),
        "{failing}"
    );
    let bad = autoscope(&["explain", "--policy", "x.json", "GET", "--kind", "sever"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
}

/// `eval --head`: the policy applied per span at start, as the SDK samplers do, with its
/// ancestor integrity beside the other methods.
#[test]
fn eval_head_mode_reports_ancestor_integrity() {
    let policy = testdata("policies/example.json");
    let input = testdata("traces/shop.csv");
    let run = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--head".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let head = &report["head_mode"];
    let kept = head["kept"].as_u64().unwrap();
    assert!(kept > 0 && head["kept_with_parent"].as_u64().unwrap() <= kept);
    assert!(head["error_kept"].as_u64().unwrap() >= 1, "{head}");
    let methods = report["total"].as_array().unwrap();
    let row = methods
        .iter()
        .find(|m| m["method"] == "policy, head mode")
        .unwrap();
    assert_eq!(row["kept_spans"].as_u64().unwrap(), kept);
    let table = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--head".as_ref(),
    ]);
    let table = text(&table.stdout);
    assert!(
        table.contains("Head mode (per-span decisions at start"),
        "{table}"
    );
    assert!(table.contains("error-kept spans missing a cross-service ancestor"));
}

/// `sample` run with `input` given as a path, or piped on standard input when
/// `stdin` holds bytes; returns the bytes written to standard output.
fn sample_to_stdout(input: &std::ffi::OsStr, stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let policy = testdata("policies/example.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(["sample".as_ref(), "--policy".as_ref(), policy.as_os_str()])
        .args([input, "-o".as_ref(), "-".as_ref()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("autoscope runs");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or_default()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

#[test]
fn compressed_and_piped_inputs_sample_like_the_plain_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    for fixture in ["traces/skywalking.csv", "traces/otlp.json"] {
        let plain_path = testdata(fixture);
        let plain = std::fs::read(&plain_path).unwrap();
        let expected = sample_to_stdout(plain_path.as_os_str(), None);
        assert!(expected.status.success(), "{}", text(&expected.stderr));
        assert!(!expected.stdout.is_empty());

        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(&plain).unwrap();
        // Named without a compression suffix: the content tells.
        let gz_path = dir.path().join("traces.gz-inside");
        std::fs::write(&gz_path, gzip.finish().unwrap()).unwrap();
        let zst_path = dir.path().join("traces.zst-inside");
        std::fs::write(&zst_path, zstd::encode_all(plain.as_slice(), 3).unwrap()).unwrap();
        for path in [&gz_path, &zst_path] {
            let run = sample_to_stdout(path.as_os_str(), None);
            assert!(run.status.success(), "{}", text(&run.stderr));
            assert_eq!(
                run.stdout,
                expected.stdout,
                "{fixture} via {}",
                path.display()
            );
        }
        let piped = sample_to_stdout("-".as_ref(), Some(&plain));
        assert!(piped.status.success(), "{}", text(&piped.stderr));
        assert_eq!(piped.stdout, expected.stdout, "{fixture} on standard input");
    }
}

#[test]
fn damaged_compressed_input_and_stdin_twice_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(testdata("traces/skywalking.csv")).unwrap();
    let zst = zstd::encode_all(plain.as_slice(), 3).unwrap();
    let cut = dir.path().join("cut.zst");
    std::fs::write(&cut, &zst[..zst.len() / 2]).unwrap();
    let run = sample_to_stdout(cut.as_os_str(), None);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("cut.zst") && stderr.contains("damaged zstd"),
        "{stderr}"
    );
    assert!(run.stdout.is_empty(), "a damaged input wrote output");

    let policy = testdata("policies/example.json");
    let twice = autoscope(&[
        "sample".as_ref(),
        "--policy".as_ref(),
        policy.as_os_str(),
        "-".as_ref(),
        "-".as_ref(),
        "-o".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        text(&twice.stderr).contains("standard input"),
        "{}",
        text(&twice.stderr)
    );
}

#[test]
fn eval_reports_na_for_error_coverage_without_error_spans() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("healthy.csv");
    let original = std::fs::read_to_string(testdata("traces/skywalking.csv")).unwrap();
    let healthy: Vec<&str> = original
        .lines()
        .filter(|line| !line.ends_with(",True"))
        .collect();
    std::fs::write(&input, healthy.join("\n") + "\n").unwrap();
    let policy = testdata("policies/example.json");
    let json = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--json".as_ref(),
    ]);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let policy_row = &report["total"][0];
    assert_eq!(policy_row["error_spans"], 0);
    assert!(policy_row["error_span_coverage"].is_null(), "{policy_row}");
    assert!(policy_row["error_trace_coverage"].is_null(), "{policy_row}");
    assert!(policy_row["byte_reduction"].is_f64(), "{policy_row}");
    let table = autoscope(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
    ]);
    assert!(table.status.success(), "{}", text(&table.stderr));
    let out = text(&table.stdout);
    let policy_line = out
        .lines()
        .find(|l| l.trim_start().starts_with("policy "))
        .expect("a policy row");
    assert!(policy_line.contains("n/a"), "{out}");
}

/// The example policy without its latency override: what it keeps of a trace does not
/// depend on the traces decided before it, so any order of deciding gives one result.
fn order_free_policy(dir: &std::path::Path) -> PathBuf {
    let text = std::fs::read_to_string(testdata("policies/example.json")).unwrap();
    let mut policy: serde_json::Value = serde_json::from_str(&text).unwrap();
    policy["overrides"]
        .as_object_mut()
        .unwrap()
        .remove("latency");
    let path = dir.join("policy.json");
    std::fs::write(&path, serde_json::to_string(&policy).unwrap()).unwrap();
    path
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

#[test]
fn sample_streams_traces_spread_over_the_input_through_a_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let policy = order_free_policy(dir.path());
    // The shop traces with their rows dealt round-robin: every trace is spread over
    // the whole file.
    let original = std::fs::read_to_string(testdata("traces/shop.csv")).unwrap();
    let (header, rows) = original.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let mut dealt = format!("{header}\n");
    for start in 0..7 {
        for row in rows.iter().skip(start).step_by(7) {
            dealt.push_str(row);
            dealt.push('\n');
        }
    }
    let input = dir.path().join("dealt.csv");
    std::fs::write(&input, &dealt).unwrap();
    let run = |extra: &[&str], out: &str| {
        let out = dir.path().join(out);
        let mut args: Vec<std::ffi::OsString> = vec![
            "sample".into(),
            "-p".into(),
            policy.clone().into(),
            input.clone().into(),
            "-o".into(),
            out.clone().into(),
            "--json".into(),
        ];
        args.extend(extra.iter().map(Into::into));
        let run = autoscope(&args);
        assert!(run.status.success(), "{}", text(&run.stderr));
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        (std::fs::read_to_string(out).unwrap(), report)
    };
    let (whole, report) = run(&[], "whole.csv");
    assert_eq!(report["files"][0]["streaming"]["spilled_traces"], 0);
    let (streamed, report) = run(&["--window", "20", "--trace-gap", "400"], "streamed.csv");
    let streaming = &report["files"][0]["streaming"];
    assert!(
        streaming["spilled_traces"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert!(
        streaming["peak_window_spans"].as_u64().unwrap() <= 21,
        "{report}"
    );
    assert_eq!(streaming["split_traces"], 0);
    assert!(streamed.starts_with(&format!("{header}\n")));
    assert_eq!(sorted_lines(&streamed), sorted_lines(&whole));
    // A gap shorter than the spread splits traces, and says so.
    let out = dir.path().join("split.csv");
    let split = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--trace-gap".as_ref(),
        "3".as_ref(),
    ]);
    assert!(split.status.success(), "{}", text(&split.stderr));
    assert!(
        text(&split.stderr).contains("raise --trace-gap"),
        "{}",
        text(&split.stderr)
    );
}
