//! The invariants of `docs/architecture.md` that a test can check.

use std::path::PathBuf;

/// The engine and pipeline sources: they apply data and must name no framework,
/// library or agent (those live in `frameworks/` and `profiles/`).
const ENGINE_FILES: &[&str] = &[
    "src/conventions/mod.rs",
    "src/graph.rs",
    "src/analysis.rs",
    "src/parse.rs",
    "src/spans.rs",
    "src/policy_gen.rs",
    "src/score.rs",
];

/// Names that belong in data files only.
const FRAMEWORK_WORDS: &[&str] = &[
    "Spring",
    "RestTemplate",
    "Feign",
    "Repository",
    "Hibernate",
    "JDBC",
    "Mongo",
    "Rabbit",
    "Kafka",
    "Flask",
    "FastAPI",
    "Django",
    "SQLAlchemy",
    "pymongo",
    "requests.",
    "httpx",
    "memcache",
    "Grpc",
    "gRPC",
    "SkyWalking",
    "otel-",
    "Mapping\"",
    "Listener\"",
];

#[test]
fn engine_sources_name_no_framework() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for file in ENGINE_FILES {
        let text = std::fs::read_to_string(root.join(file)).expect("a source file");
        // Unit tests may use real names as examples; comments may explain with them.
        let code = text.split("#[cfg(test)]").next().unwrap_or(&text);
        for (number, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            let code_part = line.split("//").next().unwrap_or(line);
            for word in FRAMEWORK_WORDS {
                if code_part.contains(word) {
                    found.push(format!("{file}:{}: {word}", number + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "framework names in engine code: {found:#?}"
    );
}
