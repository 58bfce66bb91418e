//! The `analyze`, `check` and `explain` commands, run as a user would, in temp dirs.

use std::path::Path;
use std::process::{Command, Output};

fn autoscope(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A two-service Flask codebase written for these tests.
fn write_shop(root: &Path) {
    let write = |rel: &str, body: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    write(
        "orders/app.py",
        r#"import requests
from flask import Flask

app = Flask(__name__)


@app.route("/orders/<int:order_id>", methods=["GET"])
def get_order(order_id):
    try:
        resp = requests.get(f"http://payments:5000/payments/{order_id}")
    except requests.RequestException:
        raise
    return resp.json()
"#,
    );
    write("orders/Dockerfile", "FROM python:3.12\n");
    write(
        "payments/app.py",
        r#"from flask import Flask

app = Flask(__name__)


@app.route("/payments/<payment_id>")
def payment(payment_id):
    return {"id": payment_id}
"#,
    );
    write("payments/Dockerfile", "FROM python:3.12\n");
}

#[test]
fn a_missing_path_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = autoscope(&["analyze", "no/such/dir", "-o", "p.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no/such/dir"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("p.json").exists());
}

#[test]
fn a_tree_without_sources_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty/docs")).unwrap();
    std::fs::write(dir.path().join("empty/docs/readme.md"), "# nothing\n").unwrap();
    let out = autoscope(&["analyze", "empty", "-o", "p.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no Java, Python or Go source files"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("p.json").exists());
}

#[test]
fn a_bad_glob_or_target_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(&["analyze", ".", "--exclude", "a/[", "-o", "-"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = autoscope(
        &["analyze", ".", "--target-reduction", "1.5", "-o", "-"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn analyze_writes_a_valid_deterministic_policy_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(
        &["analyze", "--source-dir", ".", "--output", "policy.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("analyzed 2 files (python 2)"), "{stderr}");
    assert!(stderr.contains("1 cross-service"), "{stderr}");
    let first = std::fs::read_to_string(dir.path().join("policy.json")).unwrap();
    let policy = policy_schema::from_json_str(&first).unwrap();
    let ids: Vec<&str> = policy.rules.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&"orders:GET /orders/<int:order_id> [otel-python]"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"payments:GET /payments/<payment_id> [otel-python]"),
        "{ids:?}"
    );
    let out = autoscope(&["analyze", ".", "-o", "-", "--quiet"], dir.path());
    assert_eq!(
        text(&out.stdout),
        first,
        "stdout output equals the file, run after run"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn check_passes_then_fails_after_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(&["analyze", ".", "-o", "policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = autoscope(&["check", ".", "--policy", "policy.json", "-q"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("up to date"));
    let app = dir.path().join("payments/app.py");
    let mut source = std::fs::read_to_string(&app).unwrap();
    source.push_str(
        "\n\n@app.route(\"/payments\", methods=[\"POST\"])\ndef create():\n    return {}\n",
    );
    std::fs::write(&app, source).unwrap();
    let out = autoscope(&["check", ".", "--policy", "policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("+ payments:POST /payments"), "{stdout}");
    assert!(stdout.contains("out of date"), "{stdout}");
}

#[test]
fn check_with_a_broken_policy_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    std::fs::write(dir.path().join("policy.json"), "{ not json").unwrap();
    let out = autoscope(&["check", ".", "--policy", "policy.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("policy.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn explain_names_the_rule_its_reasons_and_the_code() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(&["analyze", ".", "-o", "policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = autoscope(
        &[
            "explain",
            "--policy",
            "policy.json",
            "GET /orders/<int:order_id>",
            "--service",
            "orders",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rule orders:GET /orders/<int:order_id>"),
        "{stdout}"
    );
    assert!(stdout.contains("matched by: exact"), "{stdout}");
    assert!(stdout.contains("external-call"), "{stdout}");
    assert!(
        stdout.contains("requests.get(f\"http://payments:5000/payments/{order_id}\")"),
        "{stdout}"
    );
    let out = autoscope(
        &["explain", "--policy", "policy.json", "nothing-like-this"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("no rule matches"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn traces_set_rates_by_volume_and_bad_trace_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let mut csv = String::from(
        "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n",
    );
    for i in 0..50 {
        csv.push_str(&format!(
            "1000,1010,GET /payments/<payment_id>,Entry,payments,t{i}.1.0,t{i}.1,payments,-1,Flask,False\n"
        ));
    }
    std::fs::write(dir.path().join("spans.csv"), csv).unwrap();
    let out = autoscope(
        &[
            "analyze",
            ".",
            "-o",
            "policy.json",
            "-q",
            "--traces",
            "spans.csv",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let policy = policy_schema::from_path(&dir.path().join("policy.json")).unwrap();
    let hot = policy
        .rules
        .iter()
        .find(|r| r.id == "payments:GET /payments/<payment_id> [otel-python]")
        .unwrap();
    let reasons = &hot.evidence.as_ref().unwrap().reasons;
    assert!(
        reasons.iter().any(|r| r.kind == "trace-frequency"),
        "{reasons:?}"
    );
    // All the volume is in one rule: keeping 20% of it means sampling it at about 0.2,
    // tightened until the runtime sampler keeps at most 20% of this very sample.
    let policy_schema::Action::Sample { rate } = hot.action else {
        panic!("{:?}", hot.action)
    };
    assert!(rate > 0.05 && rate <= 0.2, "rate {rate}");
    let sample = trace_formats::read_path(&dir.path().join("spans.csv")).unwrap();
    // Calibration meets the target in expectation over several draws of randomness.
    use autoscope_replay::calibrate::{CALIBRATION_DRAWS, expected_kept_share, redrawn};
    let draws = redrawn(&[sample], CALIBRATION_DRAWS);
    let share = expected_kept_share(&policy, &draws).unwrap();
    assert!(share <= 0.2, "kept share {share}");

    std::fs::write(dir.path().join("broken.json"), "{\"resourceSpans\": [").unwrap();
    let out = autoscope(
        &["analyze", ".", "-o", "p2.json", "--traces", "broken.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("broken.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn without_a_path_analyze_reads_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(&["analyze", "-o", "-", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let policy = policy_schema::from_json_str(&text(&out.stdout)).unwrap();
    let services: std::collections::BTreeSet<&str> = policy
        .rules
        .iter()
        .filter_map(|r| r.service.as_deref())
        .collect();
    assert_eq!(
        services,
        ["orders", "payments"].into_iter().collect(),
        "the user's code, not the bundled samples"
    );
    assert_eq!(policy.generator.source_root.as_deref(), Some("."));
    // In a folder without code it says so rather than analyzing anything else.
    let empty = tempfile::tempdir().unwrap();
    let out = autoscope(&["analyze", "-o", "-"], empty.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(".: no Java, Python or Go source files"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn django_url_patterns_become_routes_with_include_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, body: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    };
    write(
        "shop/orders/urls.py",
        "from django.urls import path\nfrom . import views\n\nurlpatterns = [\n    path(\"orders/<int:order_id>/\", views.order_detail),\n    path(\"orders/\", views.OrderList.as_view()),\n]\n",
    );
    write(
        "shop/orders/views.py",
        "from django.views import View\n\n\ndef order_detail(request, order_id):\n    return None\n\n\nclass OrderList(View):\n    def get(self, request):\n        return None\n",
    );
    write(
        "shop/urls.py",
        "from django.urls import include, path\n\nurlpatterns = [path(\"api/\", include(\"orders.urls\"))]\n",
    );
    let out = autoscope(&["analyze", ".", "-o", "-", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let policy = policy_schema::from_json_str(&text(&out.stdout)).unwrap();
    let ids: Vec<&str> = policy.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "shop:* /api/orders/<int:order_id>/ [otel-python]",
            "shop:GET /api/orders/ [otel-python]"
        ]
    );
    let list = &policy.rules[1];
    assert!(
        list.matchers
            .contains(&policy_schema::Matcher::Exact("GET api/orders/".into()))
    );
}

#[test]
fn check_regenerates_with_the_recorded_options_and_prints_the_whole_command() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    std::fs::create_dir(dir.path().join("ci")).unwrap();
    let out = autoscope(
        &[
            "analyze",
            ".",
            "-o",
            "ci/policy.json",
            "-q",
            "--exclude",
            "payments/**",
            "--target-reduction",
            "0.9",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let policy = policy_schema::from_path(&dir.path().join("ci/policy.json")).unwrap();
    assert_eq!(policy.generator.source_root.as_deref(), Some(".."));
    assert_eq!(policy.generator.arguments, ["--exclude", "payments/**"]);
    // No path and no options: both come from the policy.
    let out = autoscope(&["check", "-p", "ci/policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("up to date with ."),
        "{}",
        text(&out.stdout)
    );
    // From another folder too.
    let out = autoscope(
        &["check", "-p", "policy.json", "-q"],
        &dir.path().join("ci"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let app = dir.path().join("orders/app.py");
    let mut source = std::fs::read_to_string(&app).unwrap();
    source.push_str(
        "\n\n@app.route(\"/orders\", methods=[\"POST\"])\ndef create():\n    return {}\n",
    );
    std::fs::write(&app, source).unwrap();
    let out = autoscope(&["check", "-p", "ci/policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let hint = stdout
        .lines()
        .find_map(|l| l.strip_prefix("regenerate with: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(
        hint,
        "autoscope analyze . -o ci/policy.json --target-reduction 0.9 --exclude 'payments/**'"
    );
    let out = autoscope(
        &["check", "-p", "ci/policy.json", "-q", "--json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["up_to_date"], false);
    assert_eq!(report["regenerate"], hint);
    // The new endpoint is added; the budget it takes may move other rates too.
    assert!(
        report["differences"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["change"] == "+"),
        "{report}"
    );
    // Running the hint (here without a shell) brings the policy up to date.
    let words = [
        "analyze",
        ".",
        "-o",
        "ci/policy.json",
        "--target-reduction",
        "0.9",
        "--exclude",
        "payments/**",
        "-q",
    ];
    assert_eq!(autoscope(&words, dir.path()).status.code(), Some(0));
    let out = autoscope(&["check", "-p", "ci/policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn broken_recorded_arguments_exit_2_naming_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(&["analyze", "-o", "p.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text_policy = std::fs::read_to_string(dir.path().join("p.json")).unwrap();
    let edited = text_policy.replacen(
        "\"source_root\": \".\"",
        "\"source_root\": \".\",\n    \"arguments\": [\"--no-such-option\"]",
        1,
    );
    std::fs::write(dir.path().join("p.json"), edited).unwrap();
    let out = autoscope(&["check", "-p", "p.json"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("p.json: generator.arguments:"), "{stderr}");
    assert!(stderr.contains("--no-such-option"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_tree_are_not_followed_unless_asked() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.py"),
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route(\"/secret\")\ndef secret():\n    return {}\n",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    std::os::unix::fs::symlink(
        outside.path().join("secret.py"),
        dir.path().join("orders/secret.py"),
    )
    .unwrap();
    let out = autoscope(&["analyze", "-o", "-"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("/secret"));
    assert!(
        text(&out.stderr).contains("analyzed 2 files"),
        "{}",
        text(&out.stderr)
    );
    let out = autoscope(&["analyze", "-o", "-", "--follow-symlinks"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("/secret"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("orders/secret.py: symbolic link out of the source tree"),
        "{stderr}"
    );
    let policy = policy_schema::from_json_str(&text(&out.stdout)).unwrap();
    assert_eq!(policy.generator.arguments, ["--follow-symlinks"]);
}

#[test]
fn every_file_with_syntax_errors_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    std::fs::write(
        dir.path().join("orders/broken.py"),
        "def fine():\n    return 1\n\ndef broken(:\n    pass\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("payments/also_broken.py"), "x = [1, 2\n").unwrap();
    let out = autoscope(&["analyze", "-o", "p.json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("orders/broken.py:4: "), "{stderr}");
    assert!(stderr.contains("payments/also_broken.py:1: "), "{stderr}");
    assert!(stderr.contains("in 2 files"), "{stderr}");
    let out = autoscope(&["analyze", "-o", "p.json", "--json"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let named: Vec<(String, u64)> = summary["files_with_syntax_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("orders/broken.py".to_string(), 4),
            ("payments/also_broken.py".to_string(), 1)
        ]
    );
    assert_eq!(summary["files"]["python"], 4);
    // The JSON summary is the same run after run.
    let again = autoscope(&["analyze", "-o", "p.json", "--json"], dir.path());
    assert_eq!(again.stdout, out.stdout);
    // With `-o -` the policy takes standard output and the summary standard error.
    let out = autoscope(&["analyze", "-o", "-", "--json"], dir.path());
    policy_schema::from_json_str(&text(&out.stdout)).unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(summary["output"], "standard output");
}

#[test]
fn a_policy_with_a_schema_key_loads() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(&["analyze", "-o", "p.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let policy = std::fs::read_to_string(dir.path().join("p.json")).unwrap();
    let with_schema = policy.replacen(
        '{',
        &format!("{{\n  \"$schema\": \"{}\",", policy_schema::SCHEMA_ID),
        1,
    );
    std::fs::write(dir.path().join("p.json"), with_schema).unwrap();
    let out = autoscope(
        &[
            "explain",
            "-p",
            "p.json",
            "GET /orders/<int:order_id>",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let explained: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        explained["matches"][0]["rule"],
        "orders:GET /orders/<int:order_id> [otel-python]"
    );
    let out = autoscope(&["check", "-p", "p.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn analyze_writes_a_monotone_policy_and_check_reports_a_hand_edit_that_breaks_it() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let out = autoscope(
        &[
            "analyze",
            ".",
            "-o",
            "policy.json",
            "-q",
            "--target-reduction",
            "0.9",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let path = dir.path().join("policy.json");
    let mut policy = policy_schema::from_path(&path).unwrap();
    let rate = |action: &policy_schema::Action| match action {
        policy_schema::Action::Keep => 1.0,
        policy_schema::Action::Sample { rate } => *rate,
    };
    // The payments server span's parent is the orders client span that calls it, whose
    // parent is the orders server span: rates never grow down that chain.
    let find = |policy: &policy_schema::Policy, prefix: &str| {
        policy
            .rules
            .iter()
            .position(|r| r.id.starts_with(prefix))
            .unwrap_or_else(|| panic!("no rule {prefix}: {:?}", policy.rules))
    };
    let server = find(&policy, "orders:GET /orders/");
    let client = find(&policy, "orders:HTTP GET");
    let callee = find(&policy, "payments:GET /payments/");
    let rates = [server, client, callee].map(|i| rate(&policy.rules[i].action));
    assert!(rates[0] >= rates[1] && rates[1] >= rates[2], "{rates:?}");
    let out = autoscope(&["check", ".", "--policy", "policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // By hand: keep the callee, sample its caller low.
    policy.rules[callee].action = policy_schema::Action::Keep;
    policy.rules[client].action = policy_schema::Action::Sample { rate: 0.01 };
    std::fs::write(&path, serde_json::to_string_pretty(&policy).unwrap()).unwrap();
    let out = autoscope(
        &["check", ".", "--policy", "policy.json", "-q", "--json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["monotone"], false);
    let violations = report["monotone_violations"].as_array().unwrap();
    assert!(
        violations
            .iter()
            .any(|v| v["rule"] == policy.rules[callee].id.as_str()
                && v["parent"] == policy.rules[client].id.as_str()
                && v["parent_site"]
                    .as_str()
                    .unwrap()
                    .starts_with("orders/app.py:")),
        "{violations:?}"
    );
    let out = autoscope(&["check", ".", "--policy", "policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("not monotone"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn holdout_calibrates_on_one_half_and_reports_both() {
    let dir = tempfile::tempdir().unwrap();
    write_shop(dir.path());
    let mut csv = String::from(
        "StartTime,EndTime,URL,SpanType,Service,SpanId,TraceId,Peer,ParentSpan,Component,IsError\n",
    );
    for i in 0..200 {
        csv.push_str(&format!(
            "1000,1010,GET /payments/<payment_id>,Entry,payments,t{i}.1.0,t{i}.1,payments,-1,Flask,False\n"
        ));
    }
    std::fs::write(dir.path().join("spans.csv"), csv).unwrap();
    let args = [
        "analyze",
        ".",
        "-o",
        "policy.json",
        "--json",
        "--traces",
        "spans.csv",
        "--holdout",
        "0.5",
    ];
    let out = autoscope(&args, dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let calibration = summary["trace_sample"]["spans"].as_u64().unwrap();
    let holdout = summary["holdout_sample"]["spans"].as_u64().unwrap();
    assert_eq!(calibration + holdout, 200);
    assert!((60..140).contains(&holdout), "{summary}");
    let held_share = summary["holdout_sample"]["kept_share"].as_f64().unwrap();
    assert!(held_share < 0.4, "{summary}");
    let policy = policy_schema::from_path(&dir.path().join("policy.json")).unwrap();
    assert!(
        policy
            .generator
            .arguments
            .ends_with(&["--holdout".into(), "0.5".into()]),
        "{:?}",
        policy.generator.arguments
    );
    let out = autoscope(&["check", "-p", "policy.json", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = autoscope(
        &[
            "analyze",
            ".",
            "-o",
            "p2.json",
            "--traces",
            "spans.csv",
            "--holdout",
            "1.5",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("p2.json").exists());
}

#[test]
fn policies_of_the_sample_codebases_are_monotone() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    for codebase in ["java-shop", "python-shop", "go-hotel"] {
        let dir = tempfile::tempdir().unwrap();
        let source = testdata.join(codebase);
        let policy = dir.path().join("policy.json");
        let out = autoscope(
            &[
                "analyze",
                source.to_str().unwrap(),
                "-o",
                policy.to_str().unwrap(),
                "-q",
                "--target-reduction",
                "0.9",
            ],
            dir.path(),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{codebase}: {}",
            text(&out.stderr)
        );
        let out = autoscope(
            &["check", "-p", policy.to_str().unwrap(), "--json", "-q"],
            dir.path(),
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["monotone"], true, "{codebase}: {report}");
        assert_eq!(out.status.code(), Some(0), "{codebase}: {report}");
        // Some rule of each codebase has a parent in the call graph: the check is not empty.
        let written = policy_schema::from_path(&policy).unwrap();
        assert!(
            written.rules.iter().any(|r| r
                .evidence
                .as_ref()
                .is_some_and(|e| e.reasons.iter().any(|x| x.kind == "monotone"))),
            "{codebase}: no rule with a parent"
        );
    }
}

#[test]
fn a_message_consumer_is_sampled_at_most_at_its_producers_rate() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let dir = tempfile::tempdir().unwrap();
    let source = testdata.join("java-shop");
    let out = autoscope(
        &[
            "analyze",
            source.to_str().unwrap(),
            "-o",
            "policy.json",
            "-q",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let policy = policy_schema::from_path(&dir.path().join("policy.json")).unwrap();
    let rate = |id: &str| match policy.rules.iter().find(|r| r.id == id).unwrap().action {
        policy_schema::Action::Keep => 1.0,
        policy_schema::Action::Sample { rate } => rate,
    };
    let consumer =
        "shop-inventory-service:consume rabbitmq order.created [skywalking,skywalking@8]";
    let producer =
        "shop-order-service:send rabbitmq shop.exchange/order.created [skywalking,skywalking@8]";
    assert!(rate(consumer) <= rate(producer));
    let reasons = &policy
        .rules
        .iter()
        .find(|r| r.id == consumer)
        .unwrap()
        .evidence
        .as_ref()
        .unwrap()
        .reasons;
    assert!(
        reasons
            .iter()
            .any(|r| r.kind == "monotone" && r.detail.contains("shop-order-service:send rabbitmq")),
        "{reasons:?}"
    );
}
