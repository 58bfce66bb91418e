//! Go: grammar, queries and extraction of facts.

use super::LanguageSpec;
use crate::facts::{FileFacts, Language};

/// The Go registration.
pub const SPEC: LanguageSpec = LanguageSpec {
    language: Language::Go,
    extensions: &["go"],
    grammar: || tree_sitter_go::LANGUAGE.into(),
    queries: &[],
    extract,
};

fn extract(path: &str, _source: &str, _tree: &tree_sitter::Tree) -> FileFacts {
    FileFacts {
        path: path.to_string(),
        language: Some(Language::Go),
        ..FileFacts::default()
    }
}
