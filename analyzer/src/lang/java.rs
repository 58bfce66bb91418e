//! Java: grammar, queries and extraction of facts.

use super::LanguageSpec;
use crate::facts::{FileFacts, Language};

/// The Java registration.
pub const SPEC: LanguageSpec = LanguageSpec {
    language: Language::Java,
    extensions: &["java"],
    grammar: || tree_sitter_java::LANGUAGE.into(),
    queries: &[],
    extract,
};

fn extract(path: &str, _source: &str, _tree: &tree_sitter::Tree) -> FileFacts {
    FileFacts {
        path: path.to_string(),
        language: Some(Language::Java),
        ..FileFacts::default()
    }
}
