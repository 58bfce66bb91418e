//! Every data file (framework or instrumentation profile) is registered, loads, and has
//! its fixture and snapshot: `tests/fixtures/<id>/` is a small codebase using the
//! framework (or instrumented so), `tests/fixtures/<id>.snap` the rules the analyzer
//! writes for it under every profile of its language, one line per (rule, matcher).
//! Rewrite snapshots after an intended change with `AUTOSCOPE_BLESS=1 cargo test -p
//! autoscope-analysis --test data_files` and review the diff.

use autoscope_analysis::analysis::{AnalyzeOptions, analyze_path};
use autoscope_analysis::knowledge::{FRAMEWORK_FILES, PROFILE_FILES};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Data files whose fixture is still one of the sample codebases under `testdata/`
/// (their snapshot tests cover them) rather than one of their own. This list only
/// shrinks: a file added from now on comes with its fixture.
const SAMPLE_COVERED: &[&str] = &[
    "spring-web",
    "spring-cloud-openfeign",
    "spring-amqp",
    "flask",
    "django",
    "requests",
    "pymongo",
    "redis",
    "net-http",
    "grpc",
    "mongo",
    "memcache",
    "skywalking-8",
    "skywalking",
    "otel-java-1",
    "otel-java-2",
    "otel-python",
    "otel-go",
    "opentracing-go",
];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stem(path: &str) -> &str {
    path.rsplit('/')
        .next()
        .and_then(|n| n.strip_suffix(".toml"))
        .unwrap_or(path)
}

fn files_under(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("a data folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            let rel = path.strip_prefix(crate_dir()).expect("inside the crate");
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn every_data_file_on_disk_is_registered() {
    let mut on_disk = BTreeSet::new();
    files_under(&crate_dir().join("frameworks"), &mut on_disk);
    files_under(&crate_dir().join("profiles"), &mut on_disk);
    let registered: BTreeSet<String> = FRAMEWORK_FILES
        .iter()
        .chain(PROFILE_FILES)
        .map(|(path, _)| path.to_string())
        .collect();
    assert_eq!(
        on_disk, registered,
        "knowledge/mod.rs lists exactly the data files"
    );
}

/// The rules of a fixture, one line per (rule id, profile, matcher), sorted.
fn listing(root: &Path) -> String {
    let analysis = analyze_path(root, &AnalyzeOptions::default(), &|_| {}, &|| {})
        .expect("the fixture is readable");
    let mut lines: Vec<String> = Vec::new();
    for rule in &analysis.policy.rules {
        for matcher in &rule.matchers {
            lines.push(format!(
                "{} | {} | {}",
                rule.id,
                rule.profile.as_deref().unwrap_or("-"),
                serde_json::to_string(matcher).expect("a matcher serializes")
            ));
        }
    }
    lines.sort();
    lines.join("\n") + "\n"
}

#[test]
fn every_data_file_has_its_fixture_and_snapshot() {
    let fixtures = crate_dir().join("tests/fixtures");
    let bless = std::env::var_os("AUTOSCOPE_BLESS").is_some_and(|v| v == "1");
    let mut missing = Vec::new();
    for (path, _) in FRAMEWORK_FILES.iter().chain(PROFILE_FILES) {
        let id = stem(path);
        let dir = fixtures.join(id);
        if !dir.is_dir() {
            if !SAMPLE_COVERED.contains(&id) {
                missing.push(id.to_string());
            }
            continue;
        }
        assert!(
            !SAMPLE_COVERED.contains(&id),
            "{id} has its fixture now: remove it from SAMPLE_COVERED"
        );
        let actual = listing(&dir);
        let snapshot = fixtures.join(format!("{id}.snap"));
        if bless {
            std::fs::write(&snapshot, &actual).expect("write the snapshot");
            continue;
        }
        let expected = std::fs::read_to_string(&snapshot).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (create it with AUTOSCOPE_BLESS=1)",
                snapshot.display()
            )
        });
        assert_eq!(expected, actual, "{} is out of date", snapshot.display());
    }
    assert!(
        missing.is_empty(),
        "data files without a fixture: {missing:?}"
    );
}

/// `docs/frameworks.md`, the list of what the analyzer knows, as the embedded data
/// files say it: one row per framework file and per instrumentation profile, in
/// registry order (`AUTOSCOPE_BLESS=1` rewrites it).
fn frameworks_doc() -> String {
    use autoscope_analysis::facts::Language;
    let knowledge = autoscope_analysis::knowledge::embedded();
    let mut doc = String::from(
        "# What the analyzer knows\n\n\
         Generated from the data files by `cargo test -p autoscope-analysis --test data_files`\n\
         (`AUTOSCOPE_BLESS=1` rewrites it): every framework or library file under\n\
         `analysis/frameworks/` and every instrumentation profile under `analysis/profiles/`,\n\
         with its title. Each file cites the sources its conventions come from and has a\n\
         fixture and snapshot under `analysis/tests/fixtures/` (or a sample under `testdata/`).\n",
    );
    for (language, heading) in [
        (Language::Java, "Java"),
        (Language::Python, "Python"),
        (Language::Go, "Go"),
    ] {
        doc.push_str(&format!(
            "\n## {heading}\n\n| framework or library | what it covers |\n|---|---|\n"
        ));
        for file in knowledge.frameworks_of(language) {
            doc.push_str(&format!("| `{}` | {} |\n", file.id, file.title));
        }
        doc.push_str(
            "\n| instrumentation profile (`--instrumentation`) | how it names spans |\n|---|---|\n",
        );
        for profile in knowledge.profiles_of(language) {
            doc.push_str(&format!("| `{}` | {} |\n", profile.id, profile.title));
        }
    }
    doc
}

#[test]
fn the_frameworks_doc_lists_every_data_file() {
    let path = crate_dir().join("../docs/frameworks.md");
    let expected = frameworks_doc();
    if std::env::var_os("AUTOSCOPE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).expect("write docs/frameworks.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is out of date: rerun with AUTOSCOPE_BLESS=1",
        path.display()
    );
}
