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
        ids.contains(&"orders:GET /orders/<int:order_id>"),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"payments:GET /payments/<payment_id>"),
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
        .find(|r| r.id == "payments:GET /payments/<payment_id>")
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
    let share = autoscope_replay::calibrate::simulated_kept_share(&policy, &[sample]).unwrap();
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
            "shop:* /api/orders/<int:order_id>/",
            "shop:GET /api/orders/"
        ]
    );
    let list = &policy.rules[1];
    assert!(
        list.matchers
            .contains(&policy_schema::Matcher::Exact("GET api/orders/".into()))
    );
}
