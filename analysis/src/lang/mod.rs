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

#[cfg(test)]
mod tests {
    use super::*;

    /// The grammar/runtime ABI bridge fails only at run time: load every registered
    /// grammar, compile every query file, and parse a line with each.
    #[test]
    fn every_grammar_loads_and_every_query_compiles() {
        for spec in all() {
            let grammar = (spec.grammar)();
            assert!(
                !spec.queries.is_empty(),
                "{:?} has no queries",
                spec.language
            );
            for (name, source) in spec.queries {
                if let Err(error) = tree_sitter::Query::new(&grammar, source) {
                    panic!("{:?} {name}: {error}", spec.language);
                }
            }
            let mut parser = tree_sitter::Parser::new();
            parser
                .set_language(&grammar)
                .unwrap_or_else(|e| panic!("{:?}: {e}", spec.language));
            let tree = parser.parse("x", None).expect("a tree");
            assert!(tree.root_node().child_count() <= 1);
        }
    }

    #[test]
    fn extensions_map_to_their_language() {
        assert_eq!(
            for_extension("java").map(|s| s.language),
            Some(Language::Java)
        );
        assert_eq!(
            for_extension("py").map(|s| s.language),
            Some(Language::Python)
        );
        assert_eq!(for_extension("go").map(|s| s.language), Some(Language::Go));
        assert!(for_extension("rs").is_none());
    }
}
