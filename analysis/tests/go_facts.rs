//! Go facts against the `// expect:` comments of testdata/go-hotel, a snapshot of one
//! file's facts, and property tests: extraction never panics and keeps its invariants.

mod facts_expect;

use autoscope_analysis::lang::go::SPEC;
use facts_expect::{assert_invariants, check_all, extract, samples, snapshot, splice, testdata};
use proptest::prelude::*;

#[test]
fn go_hotel_facts_match_expect_comments() {
    let samples = samples(&SPEC, &testdata("go-hotel"), "go", "//");
    assert!(
        samples.len() >= 12,
        "go-hotel has {} .go files",
        samples.len()
    );
    let checked = check_all(&samples);
    assert!(checked >= 60, "only {checked} expectations");
}

#[test]
fn go_hotel_counts() {
    let samples = samples(&SPEC, &testdata("go-hotel"), "go", "//");
    let broken: Vec<&str> = samples
        .iter()
        .filter(|s| s.facts.syntax_errors > 0)
        .map(|s| s.path.as_str())
        .collect();
    assert_eq!(broken, ["services/profile/cache.go"]);
    // The function after the broken one is still found.
    let cache = samples
        .iter()
        .find(|s| s.path == "services/profile/cache.go")
        .unwrap();
    assert!(
        cache
            .facts
            .functions
            .iter()
            .any(|f| f.qualified == "profile.(*Server).Evict")
    );
    let rate = samples
        .iter()
        .find(|s| s.path == "services/rate/server.go")
        .unwrap();
    let get_rates = rate
        .facts
        .functions
        .iter()
        .find(|f| f.name == "GetRates")
        .unwrap();
    let memcached_in_loop = get_rates
        .calls
        .iter()
        .filter(|c| c.in_loop && c.receiver.as_deref() == Some("s.MemcClient"))
        .count();
    // One memcached Get per hotel id; the Set happens in cache(), a call of its own.
    assert_eq!(memcached_in_loop, 1);
}

#[test]
fn go_hotel_rate_snapshot() {
    let root = testdata("go-hotel");
    let source = std::fs::read_to_string(root.join("services/rate/server.go")).unwrap();
    let facts = extract(&SPEC, "services/rate/server.go", &source);
    let json = serde_json::to_string_pretty(&facts).unwrap() + "\n";
    snapshot(&testdata("go-hotel.rate-server.facts.json"), &json);
}

fn sample_sources() -> Vec<String> {
    samples(&SPEC, &testdata("go-hotel"), "go", "//")
        .into_iter()
        .map(|s| s.source)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_text_never_panics(source in "\\PC{0,400}") {
        let facts = extract(&SPEC, "x.go", &source);
        assert_invariants(&facts, &source);
    }

    #[test]
    fn go_like_tokens_never_panic(tokens in proptest::collection::vec(
        prop_oneof![
            Just("package p\n"), Just("func "), Just("(s *S) "), Just("F"), Just("("),
            Just(")"), Just("{"), Just("}"), Just("if err != nil "), Just("return nil, err\n"),
            Just("for _, x := range xs "), Just("x := pb.NewC(c)\n"), Just("\"a\" + b"),
            Just("fmt.Sprintf(\"%s\", x)"), Just("log.Error().Msg(\"x\")"), Just("panic(1)"),
            Just("tracer.Start(ctx, \"s\")"), Just(","), Just("\n"), Just("type T struct "),
            Just("`raw`"), Just("go func() "), Just("var v T = "),
        ],
        0..120,
    )) {
        let source: String = tokens.concat();
        let facts = extract(&SPEC, "x.go", &source);
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
        let first = extract(&SPEC, "m.go", &mutated);
        assert_invariants(&first, &mutated);
        prop_assert_eq!(first, extract(&SPEC, "m.go", &mutated));
    }
}

#[test]
fn deeply_nested_input_does_not_overflow() {
    let source = format!(
        "package p\nfunc F() {{ x := {}\"a\"{} }}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let facts = extract(&SPEC, "deep.go", &source);
    assert_invariants(&facts, &source);
    let concat = format!(
        "package p\nfunc F() {{ g({}\"a\") }}\n",
        "x + ".repeat(20000)
    );
    let facts = extract(&SPEC, "long.go", &concat);
    assert_invariants(&facts, &concat);
}
