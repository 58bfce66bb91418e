//! Snapshot tests: each sample codebase under testdata/ has the policy Autoscope
//! should write for it beside it (`expected-policy.json`), compared byte for byte.
//! Rewrite them after an intended change with `AUTOSCOPE_BLESS=1 cargo test -p
//! autoscope --test snapshots` and review the diff.

use autoscope_analysis::analysis::{AnalyzeOptions, analyze_path};
use std::path::Path;

fn check_snapshot(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name);
    assert!(
        root.is_dir(),
        "sample codebase {} is missing",
        root.display()
    );
    let options = AnalyzeOptions {
        // As `autoscope analyze testdata/NAME -o testdata/NAME/expected-policy.json`
        // records it: relative to the policy's folder.
        source_root_label: Some(".".to_string()),
        ..AnalyzeOptions::default()
    };
    let run = || {
        let analysis = analyze_path(&root, &options, &|_| {}, &|| {}).expect("analysis runs");
        autoscope_analysis::policy_gen::to_json(&analysis.policy)
    };
    let json = run();
    policy_schema::from_json_str(&json).expect("the policy validates");
    assert_eq!(json, run(), "two runs give the same bytes");
    let expected_path = root.join("expected-policy.json");
    if std::env::var_os("AUTOSCOPE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&expected_path, &json).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (create it with AUTOSCOPE_BLESS=1)",
            expected_path.display()
        )
    });
    if expected != json {
        let first_difference = expected
            .lines()
            .zip(json.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  expected: {a}\n  actual:   {b}", i + 1))
            .unwrap_or_else(|| "the files differ in length".into());
        panic!(
            "{} is out of date; {first_difference}\nrerun with AUTOSCOPE_BLESS=1 if the change is intended",
            expected_path.display()
        );
    }
}

#[test]
fn go_hotel_policy() {
    check_snapshot("go-hotel");
}

#[test]
fn python_shop_policy() {
    check_snapshot("python-shop");
}

#[test]
fn java_shop_policy() {
    check_snapshot("java-shop");
}

/// A gateway's forwarded request can be the parent of any HTTP entry without a caller
/// in the code: the policy samples it at least at the rate of each such entry, so a
/// head decision never keeps the entry's span under a dropped forward.
#[test]
fn gateway_forward_binds_the_entries_it_may_route_to() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spring-cloud-gateway");
    let analysis =
        analyze_path(&root, &AnalyzeOptions::default(), &|_| {}, &|| {}).expect("analysis runs");
    let rate = |id: &str| {
        let rule = analysis
            .policy
            .rules
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("no rule {id}"));
        match rule.action {
            policy_schema::Action::Sample { rate } => rate,
            policy_schema::Action::Keep => 1.0,
        }
    };
    let server = rate("orders:GET /api/orders/{id} [otel-java@1,otel-java@2]");
    for forward in [
        "gateway:GET [otel-java@1,otel-java@2]",
        "gateway:HTTP GET [otel-java@1]",
    ] {
        assert!(
            rate(forward) >= server,
            "{forward} at {} below the entry's {server}",
            rate(forward)
        );
    }
}
