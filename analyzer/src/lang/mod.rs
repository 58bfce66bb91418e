//! The languages Autoscope reads, registered in one place: each has a grammar, its
//! query files (data, embedded with `include_str!`) and an extractor that turns a
//! tree into [`FileFacts`](crate::facts::FileFacts).

use crate::facts::{FileFacts, Language};

pub mod go;
pub mod java;
pub mod python;
pub(crate) mod syntax;

/// One registered language.
pub struct LanguageSpec {
    /// Which language.
    pub language: Language,
    /// File extensions, without the dot.
    pub extensions: &'static [&'static str],
    /// The tree-sitter grammar.
    pub grammar: fn() -> tree_sitter::Language,
    /// Query files: (file name, source).
    pub queries: &'static [(&'static str, &'static str)],
    /// Extracts facts from a parsed file. `path` is relative to the source root.
    pub extract: fn(path: &str, source: &str, tree: &tree_sitter::Tree) -> FileFacts,
}

/// Every registered language.
pub fn all() -> &'static [LanguageSpec] {
    &[java::SPEC, python::SPEC, go::SPEC]
}

/// The language for a file extension.
pub fn for_extension(ext: &str) -> Option<&'static LanguageSpec> {
    all().iter().find(|spec| spec.extensions.contains(&ext))
}

/// The spec of a language.
pub fn spec(language: Language) -> &'static LanguageSpec {
    all()
        .iter()
        .find(|spec| spec.language == language)
        .expect("every Language variant is registered")
}
