//! Loading: the example policy, the generated schema file, and one test per kind of bad
//! input, each asserting the field and the line the error names.

use policy_schema::{LoadError, StructureMode, from_json_slice, from_json_str, from_path};
use std::path::PathBuf;

fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

/// A valid policy; each bad-input test changes one thing in it.
const BASE: &str = r#"{
  "version": 1,
  "generator": { "tool": "test", "version": "0" },
  "target_reduction": 0.5,
  "default_action": { "action": "sample", "rate": 0.5 },
  "rules": [
    {
      "id": "a",
      "match": [{ "exact": "GET /a" }],
      "action": { "action": "keep" }
    },
    {
      "id": "b",
      "service": "svc",
      "match": [{ "template": "/b/{id}" }, { "prefix": "/b" }],
      "action": { "action": "sample", "rate": 0.1 }
    }
  ]
}
"#;

fn load_error(text: &str) -> LoadError {
    match from_json_str(text) {
        Ok(policy) => panic!("expected an error, loaded {policy:?}"),
        Err(e) => e,
    }
}

fn assert_error(text: &str, field: &str, line: usize, message_part: &str) {
    let error = load_error(text);
    let shown = error.to_string();
    assert_eq!(error.field(), Some(field), "{shown}");
    assert_eq!(error.line(), Some(line), "{shown}");
    assert!(
        shown.contains(message_part),
        "{shown:?} lacks {message_part:?}"
    );
    assert!(shown.contains(&format!("line {line}")), "{shown}");
}

#[test]
fn base_policy_loads() {
    let policy = from_json_str(BASE).unwrap();
    assert_eq!(policy.rules.len(), 2);
    assert!(policy.overrides.keep_errors);
    assert_eq!(policy.structure.mode, StructureMode::KeepAncestors);
}

#[test]
fn example_policy_loads() {
    let policy = from_path(&repo_file("testdata/policies/example.json")).unwrap();
    let ids: Vec<&str> = policy.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "payment-charge",
            "order-get",
            "order-create",
            "order-mongo",
            "frontend-http-get",
            "frontend-http-post",
            "static-assets",
            "health-checks"
        ]
    );
    assert_eq!(policy.budget.unwrap().spans_per_second, 5000.0);
}

#[test]
fn schema_file_matches_the_types() {
    let path = repo_file("policy-schema/policy.schema.json");
    let generated = policy_schema::schema_json();
    if std::env::var_os("AUTOSCOPE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "{} differs from the schema the types generate; rerun with AUTOSCOPE_BLESS=1",
        path.display()
    );
}

#[test]
fn missing_file_names_the_path() {
    let error = from_path(&repo_file("testdata/policies/no-such.json")).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("no-such.json: cannot read the policy: no such file"),
        "{error}"
    );
    // The cause is said once: it is in the message, not also a `source()`.
    assert!(std::error::Error::source(&error).is_none());
    let error = from_path(&repo_file("testdata/policies")).unwrap_err();
    assert!(
        error.to_string().ends_with("it is a folder, not a file"),
        "{error}"
    );
}

#[test]
fn an_empty_policy_says_empty() {
    for text in ["", "  \n\t", "\u{feff}\n"] {
        let error = from_json_str(text).unwrap_err();
        assert!(matches!(error, LoadError::Empty { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            "<string>: empty: expected a policy (a JSON object)"
        );
    }
}

#[test]
fn a_schema_key_is_accepted_and_the_schema_has_an_id() {
    let text = BASE.replacen(
        '{',
        &format!("{{\n  \"$schema\": \"{}\",", policy_schema::SCHEMA_ID),
        1,
    );
    let policy = from_json_str(&text).unwrap();
    assert_eq!(policy.schema.as_deref(), Some(policy_schema::SCHEMA_ID));
    assert_eq!(policy.rules.len(), 2);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("policy-schema/policy.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(schema["$id"], policy_schema::SCHEMA_ID);
    assert!(
        policy_schema::SCHEMA_ID.starts_with(env!("CARGO_PKG_REPOSITORY")),
        "the $id lives under the repository's address"
    );
    // Other `$` keys are still unknown fields.
    let text = BASE.replacen('{', "{\n  \"$comment\": \"x\",", 1);
    assert!(from_json_str(&text).is_err());
}

#[test]
fn unknown_field_is_rejected() {
    let text = BASE.replace(
        r#""action": { "action": "keep" }"#,
        r#""action": { "action": "keep" }, "weight": 3"#,
    );
    assert_error(&text, "rules[0].weight", 10, "unknown field `weight`");
}

#[test]
fn unknown_nested_field_is_rejected() {
    let text = BASE.replace(r#""tool": "test""#, r#""tool": "test", "host": "x""#);
    assert_error(&text, "generator.host", 3, "unknown field `host`");
}

#[test]
fn rate_above_one_is_rejected() {
    let text = BASE.replace(r#""rate": 0.1"#, r#""rate": 1.5"#);
    assert_error(
        &text,
        "rules[1].action.rate",
        16,
        "rate 1.5 is outside [0, 1]",
    );
}

#[test]
fn negative_default_rate_is_rejected() {
    let text = BASE.replace(r#""rate": 0.5"#, r#""rate": -0.5"#);
    assert_error(
        &text,
        "default_action.rate",
        5,
        "rate -0.5 is outside [0, 1]",
    );
}

#[test]
fn negative_latency_spread_floor_is_rejected() {
    let overrides = r#""overrides": {
    "latency": { "window": 64, "threshold": 6.0, "min_samples": 16,
      "min_spread_ms": -0.5 }
  },
  "rules""#;
    let text = BASE.replacen(r#""rules""#, overrides, 1);
    assert_error(
        &text,
        "overrides.latency.min_spread_ms",
        8,
        "-0.5 must be a finite number >= 0",
    );
}

#[test]
fn latency_spread_floor_defaults_when_absent() {
    let overrides = r#""overrides": {
    "latency": { "window": 64, "threshold": 6.0, "min_samples": 16 }
  },
  "rules""#;
    let policy = from_json_str(&BASE.replacen(r#""rules""#, overrides, 1)).unwrap();
    let latency = policy.overrides.latency.unwrap();
    assert_eq!(latency.min_spread_ms, policy_schema::DEFAULT_MIN_SPREAD_MS);
}

#[test]
fn unknown_version_is_rejected() {
    let text = BASE.replace(r#""version": 1,"#, r#""version": 7,"#);
    assert_error(&text, "version", 2, "unknown version 7");
}

#[test]
fn duplicate_rule_id_names_the_second_occurrence() {
    // The id "a" also appears as a value elsewhere before the duplicate: a first-match
    // text search would point at the wrong line.
    let text = BASE.replace(r#""id": "b""#, r#""id": "a""#);
    assert_error(
        &text,
        "rules[1].id",
        13,
        "duplicate rule id \"a\" (first used by rules[0])",
    );
}

#[test]
fn duplicate_id_written_with_escapes_is_found() {
    let text = BASE.replace(r#""id": "b""#, r#""\u0069d": "\u0061""#);
    assert_error(&text, "rules[1].id", 13, "duplicate rule id \"a\"");
}

#[test]
fn empty_matcher_list_is_rejected() {
    let text = BASE.replace(r#""match": [{ "exact": "GET /a" }]"#, r#""match": []"#);
    assert_error(&text, "rules[0].match", 9, "at least one matcher");
}

#[test]
fn empty_exact_matcher_is_rejected() {
    let text = BASE.replace(r#"{ "exact": "GET /a" }"#, r#"{ "exact": "" }"#);
    assert_error(&text, "rules[0].match[0].exact", 9, "empty exact matcher");
}

#[test]
fn invalid_template_is_rejected() {
    let text = BASE.replace(r#""/b/{id}""#, r#""/b/{id""#);
    assert_error(&text, "rules[1].match[0].template", 15, "unclosed '{'");
}

#[test]
fn unknown_action_is_rejected() {
    let text = BASE.replace(r#"{ "action": "keep" }"#, r#"{ "action": "drop" }"#);
    assert_error(
        &text,
        "rules[0].action.action",
        10,
        "unknown variant `drop`",
    );
}

#[test]
fn malformed_json_gives_line_and_column() {
    let text = BASE.replace(r#""id": "a","#, r#""id": "a""#);
    let error = load_error(&text);
    match error {
        LoadError::Syntax { line, column, .. } => assert_eq!((line, column), (9, 7)),
        other => panic!("{other}"),
    }
}

#[test]
fn trailing_garbage_is_rejected() {
    let text = format!("{BASE}x");
    assert_eq!(load_error(&text).line(), Some(20));
}

#[test]
fn invalid_utf8_gives_line() {
    let mut bytes = BASE.as_bytes().to_vec();
    let at = BASE.find("GET /a").unwrap();
    bytes[at] = 0xff;
    let error = from_json_slice(&bytes).unwrap_err();
    assert_eq!(error.line(), Some(9), "{error}");
}

#[test]
fn large_policy_loads_fast() {
    let rules: Vec<String> = (0..5000)
        .map(|i| {
            format!(
                r#"{{"id": "r{i}", "service": "s{}", "match": [{{"template": "/api/v{i}/items/{{id}}"}}, {{"exact": "op{i}"}}], "action": {{"action": "sample", "rate": 0.5}}}}"#,
                i % 20
            )
        })
        .collect();
    let text = BASE.replace(
        r#""rules": ["#,
        &format!(r#""rules": [{},"#, rules.join(",\n")),
    );
    let started = std::time::Instant::now();
    let policy = from_json_str(&text).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(policy.rules.len(), 5002);
    // ~1 MB of policy; takes a few ms in release, tens in debug on a busy machine.
    assert!(elapsed.as_secs_f64() < 2.0, "took {elapsed:?}");
    // A failing check at the very end still locates its line in linear time.
    let bad = text.replace(r#""rate": 0.1"#, r#""rate": 2"#);
    let started = std::time::Instant::now();
    let error = from_json_str(&bad).unwrap_err();
    assert_eq!(error.field(), Some("rules[5001].action.rate"));
    assert!(started.elapsed().as_secs_f64() < 2.0);
}

/// BASE as version 2, with conditions on rule `a` (lines 10 and 11).
fn with_conditions(kind: &str, attributes: &str) -> String {
    BASE.replace(r#""version": 1,"#, r#""version": 2,"#)
        .replace(
            r#""match": [{ "exact": "GET /a" }],"#,
            &format!("\"match\": [{{ \"exact\": \"GET /a\" }}],\n      {kind}\n      {attributes}"),
        )
}

#[test]
fn version_2_conditions_load_and_round_trip() {
    let text = with_conditions(
        r#""kind": "client","#,
        r#""attributes": [{ "key": "server.address", "exact": "payments" }, { "key": "url.template", "template": "/pay/{id}" }],"#,
    );
    let policy = from_json_str(&text).unwrap();
    let rule = &policy.rules[0];
    assert_eq!(rule.kind, Some(policy_schema::SpanKind::Client));
    assert_eq!(
        rule.attributes,
        [
            policy_schema::AttributeCondition {
                key: "server.address".into(),
                matcher: policy_schema::Matcher::Exact("payments".into()),
            },
            policy_schema::AttributeCondition {
                key: "url.template".into(),
                matcher: policy_schema::Matcher::Template("/pay/{id}".into()),
            },
        ]
    );
    assert!(rule.has_conditions() && !policy.rules[1].has_conditions());
    let written = serde_json::to_string(&policy).unwrap();
    assert!(
        written.contains(r#""attributes":[{"key":"server.address","exact":"payments"}"#),
        "{written}"
    );
    assert_eq!(from_json_str(&written).unwrap(), policy);
}

#[test]
fn version_1_still_loads_and_has_no_conditions() {
    let policy = from_json_str(BASE).unwrap();
    assert_eq!(policy.version, 1);
    assert!(policy.rules.iter().all(|r| !r.has_conditions()));
}

#[test]
fn conditions_in_a_version_1_policy_are_rejected() {
    let text =
        with_conditions(r#""kind": "server","#, "").replace(r#""version": 2,"#, r#""version": 1,"#);
    assert_error(
        &text,
        "rules[0].kind",
        10,
        "kind conditions need policy version 2",
    );
    let text = with_conditions("", r#""attributes": [{ "key": "k", "exact": "v" }],"#)
        .replace(r#""version": 2,"#, r#""version": 1,"#);
    assert_error(
        &text,
        "rules[0].attributes",
        11,
        "attribute conditions need policy version 2",
    );
}

#[test]
fn unknown_kind_is_rejected() {
    let text = with_conditions(r#""kind": "sever","#, "");
    assert_error(&text, "rules[0].kind", 10, "unknown variant `sever`");
}

#[test]
fn attribute_condition_needs_exactly_one_matcher() {
    for attributes in [
        r#""attributes": [{ "key": "k", "exact": "v", "prefix": "v" }],"#,
        r#""attributes": [{ "key": "k" }],"#,
    ] {
        let text = with_conditions("", attributes);
        let error = load_error(&text);
        assert_eq!(error.field(), Some("rules[0].attributes[0]"), "{error}");
        assert_eq!(error.line(), Some(11), "{error}");
        assert!(
            error
                .to_string()
                .contains("needs exactly one of exact, template, prefix, glob"),
            "{error}"
        );
    }
}

#[test]
fn unknown_field_in_an_attribute_condition_is_rejected() {
    let text = with_conditions("", r#""attributes": [{ "key": "k", "regex": "v" }],"#);
    let error = load_error(&text);
    assert!(
        error.to_string().contains("unknown field `regex`"),
        "{error}"
    );
    assert_eq!(error.line(), Some(11));
}

#[test]
fn empty_attribute_key_is_rejected() {
    let text = with_conditions("", r#""attributes": [{ "key": "", "exact": "v" }],"#);
    assert_error(
        &text,
        "rules[0].attributes[0].key",
        11,
        "empty attribute key",
    );
}

#[test]
fn invalid_attribute_template_is_rejected() {
    let text = with_conditions(
        "",
        r#""attributes": [{ "key": "k", "exact": "" }, { "key": "http.route", "template": "/a/{" }],"#,
    );
    assert_error(
        &text,
        "rules[0].attributes[1].template",
        11,
        "invalid template \"/a/{\"",
    );
}
