//! Python facts against the `# expect:` comments of testdata/python-shop, a snapshot of
//! one file's facts, and property tests: extraction never panics and keeps its invariants.

mod facts_expect;

use autoscope_analysis::lang::python::SPEC;
use facts_expect::{assert_invariants, check_all, extract, samples, snapshot, splice, testdata};
use proptest::prelude::*;

#[test]
fn python_shop_facts_match_expect_comments() {
    let samples = samples(&SPEC, &testdata("python-shop"), "py", "#");
    assert!(
        samples.len() >= 10,
        "python-shop has {} .py files",
        samples.len()
    );
    let checked = check_all(&samples);
    assert!(checked >= 50, "only {checked} expectations");
}

#[test]
fn python_shop_modules_and_broken_file() {
    let samples = samples(&SPEC, &testdata("python-shop"), "py", "#");
    let packages: Vec<(&str, &str)> = samples
        .iter()
        .map(|s| (s.path.as_str(), s.facts.package.as_str()))
        .collect();
    assert!(packages.contains(&("orders/orders/__init__.py", "orders.orders")));
    assert!(packages.contains(&("catalog/app/routes.py", "catalog.app.routes")));
    let broken: Vec<&str> = samples
        .iter()
        .filter(|s| s.facts.syntax_errors > 0)
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(broken, ["payments/gateway.py"]);
}

#[test]
fn python_shop_views_snapshot() {
    let root = testdata("python-shop");
    let path = "orders/orders/views.py";
    let source = std::fs::read_to_string(root.join(path)).unwrap();
    let facts = extract(&SPEC, path, &source);
    let json = serde_json::to_string_pretty(&facts).unwrap() + "\n";
    snapshot(&testdata("python-shop.orders-views.facts.json"), &json);
}

fn sample_sources() -> Vec<String> {
    samples(&SPEC, &testdata("python-shop"), "py", "#")
        .into_iter()
        .map(|s| s.source)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_text_never_panics(source in "\\PC{0,400}") {
        let facts = extract(&SPEC, "x.py", &source);
        assert_invariants(&facts, &source);
    }

    #[test]
    fn python_like_tokens_never_panic(tokens in proptest::collection::vec(
        prop_oneof![
            Just("def f("), Just("self"), Just(", x: int"), Just("):\n"), Just("    "),
            Just("class C(B):\n"), Just("@app.route(\"/x\", methods=[\"POST\"])\n"),
            Just("try:\n"), Just("except E as e:\n"), Just("raise\n"), Just("pass\n"),
            Just("for i in xs:\n"), Just("requests.post(f\"http://a/{x}\")\n"),
            Just("\"%s\" % x"), Just("\"{}\".format(y)"), Just("x = Session()\n"),
            Just("with tracer.start_as_current_span(\"s\") as s:\n"), Just("[g(y) for y in z]"),
            Just("from . import m\n"), Just("import a.b as c\n"), Just("\n"), Just("lambda: h()"),
            Just("return jsonify(), 500\n"), Just("\"\"\"doc"),
        ],
        0..120,
    )) {
        let source: String = tokens.concat();
        let facts = extract(&SPEC, "x.py", &source);
        assert_invariants(&facts, &source);
    }

    #[test]
    fn mutated_samples_never_panic(
        file in 0usize..64,
        cut_start in 0usize..4000,
        cut_len in 0usize..300,
        insert in "[ -~\n]{0,20}",
    ) {
        let sources = sample_sources();
        let source = &sources[file % sources.len()];
        let mutated = splice(source, cut_start, cut_len, &insert);
        let first = extract(&SPEC, "m.py", &mutated);
        assert_invariants(&first, &mutated);
        prop_assert_eq!(first, extract(&SPEC, "m.py", &mutated));
    }
}

#[test]
fn deeply_nested_input_does_not_overflow() {
    let source = format!(
        "def f():\n    x = {}\"a\"{}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let facts = extract(&SPEC, "deep.py", &source);
    assert_invariants(&facts, &source);
    let concat = format!("def f():\n    g({}\"a\")\n", "x + ".repeat(20000));
    let facts = extract(&SPEC, "long.py", &concat);
    assert_invariants(&facts, &concat);
}
