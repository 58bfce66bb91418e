//! The committed vectors hold the runtime to its decisions, and the generator to the
//! committed vectors.
//!
//! `AUTOSCOPE_BLESS=1 cargo test -p autoscope-conformance` rewrites `conformance/v1/`
//! from the generator, but refuses to change the expectation of a case already there: a
//! change of semantics is a new version folder.

use autoscope_conformance::generate::{Generated, generate};
use autoscope_conformance::{Case, check, decide, read, version_dir};
use runtime_sampler::Decider;
use std::collections::BTreeMap;

#[test]
fn the_runtime_decides_every_committed_case_as_expected() {
    let vectors = read(&version_dir()).unwrap();
    assert!(vectors.cases.len() > 1000, "{} cases", vectors.cases.len());
    let deciders: BTreeMap<&str, Decider> = vectors
        .policies
        .iter()
        .map(|(name, policy)| (name.as_str(), Decider::new(policy).unwrap()))
        .collect();
    let wrong = check(&vectors, |name, policy, span| {
        decide(&deciders[name], policy, span)
    });
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ, e.g.\n{}",
        wrong.len(),
        vectors.cases.len(),
        wrong[..wrong.len().min(10)].join("\n")
    );
}

#[test]
fn the_vectors_cover_every_outcome() {
    let vectors = read(&version_dir()).unwrap();
    let cases = &vectors.cases;
    let count = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count();
    assert!(count(&|c| c.expect.sampled) > 100);
    assert!(count(&|c| !c.expect.sampled) > 100);
    assert!(count(&|c| c.expect.rule.is_none()) > 50);
    assert!(count(&|c| c.expect.th.is_none()) > 10);
    assert!(count(&|c| c.expect.th.as_deref() == Some("0")) > 10);
    // Every rule of every policy decides some case, except the ones an earlier rule
    // shadows by design (a longer prefix after a shorter one), which decide none.
    for (name, policy) in &vectors.policies {
        for rule in &policy.rules {
            let decides = cases
                .iter()
                .any(|c| &c.policy == name && c.expect.rule.as_deref() == Some(&rule.id));
            let shadowed = rule.id.starts_with("shadowed-");
            assert!(
                decides != shadowed,
                "rule {} of {name}: decides {decides}",
                rule.id
            );
        }
    }
}

fn write(dir: &std::path::Path, generated: &Generated) {
    let policies = dir.join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    for (name, text) in &generated.policies {
        std::fs::write(policies.join(format!("{name}.json")), text).unwrap();
    }
    std::fs::write(dir.join("cases.jsonl"), generated.cases_jsonl()).unwrap();
}

#[test]
fn the_committed_vectors_are_what_the_generator_makes() {
    let dir = version_dir();
    let generated = generate();
    if std::env::var_os("AUTOSCOPE_BLESS").is_some_and(|v| v == "1") {
        if let Ok(committed) = read(&dir) {
            let new: BTreeMap<&str, &Case> =
                generated.cases.iter().map(|c| (c.id.as_str(), c)).collect();
            for old in &committed.cases {
                if let Some(case) = new.get(old.id.as_str())
                    && case.span == old.span
                    && case.expect != old.expect
                {
                    panic!(
                        "{}: the decision changed ({:?} -> {:?}): a change of semantics \
                         goes into a new version folder, not into v1",
                        old.id, old.expect, case.expect
                    );
                }
            }
        }
        write(&dir, &generated);
    }
    for (name, text) in &generated.policies {
        let path = dir.join("policies").join(format!("{name}.json"));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            &on_disk == text,
            "{} differs from the generator's; rerun with AUTOSCOPE_BLESS=1",
            path.display()
        );
    }
    let path = dir.join("cases.jsonl");
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let first_difference = on_disk
        .lines()
        .zip(generated.cases_jsonl().lines())
        .position(|(a, b)| a != b);
    assert!(
        on_disk == generated.cases_jsonl(),
        "{} differs from the generator's (first at line {:?}); rerun with AUTOSCOPE_BLESS=1",
        path.display(),
        first_difference.map(|l| l + 1)
    );
}
