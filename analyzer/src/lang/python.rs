//! Python: grammar, queries and extraction of facts.

use super::LanguageSpec;
use crate::facts::{FileFacts, Language};

/// The Python registration.
pub const SPEC: LanguageSpec = LanguageSpec {
    language: Language::Python,
    extensions: &["py"],
    grammar: || tree_sitter_python::LANGUAGE.into(),
    queries: &[],
    extract,
};

fn extract(path: &str, _source: &str, _tree: &tree_sitter::Tree) -> FileFacts {
    FileFacts {
        path: path.to_string(),
        language: Some(Language::Python),
        ..FileFacts::default()
    }
}
