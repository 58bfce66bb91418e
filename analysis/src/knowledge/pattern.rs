//! The one string-pattern evaluator and the one template expander every data file
//! uses.
//!
//! A *pattern* matches text: literal characters, `*` (any run of characters, possibly
//! empty) and `{name}` (a non-empty run, captured under `name`). `{{` and `}}` are
//! literal braces. `Register{service}Server` matches `RegisterGeoServer` with
//! `service = Geo`; `*Repository` matches any name ending in `Repository`.
//!
//! A *template* builds text from attributes: `{name}` is replaced by the attribute's
//! value, `{name:upper}`, `{name:lower}`, `{name:simple}` (after the last `.`) and
//! `{name:snake}` (`FoodOrder` → `food_order`), `{name:nolead}` (without leading `/`),
//! `{name:word}` (the first word: `select id from t` → `select`), `{name:lowerfirst}` and
//! `{name:upperfirst}` (the first letter's case: `GetStock` ↔ `getStock`),
//! `{name:parent}` (before the last `.`: `a.b.C` → `a.b`)
//! and `{name:else=TEXT}` (TEXT for an empty value) transform it. An attribute may have
//! several values: the template expands to every combination. A template naming an
//! attribute that is absent expands to nothing, so a name is only predicted when
//! everything it needs is known.

use std::collections::BTreeMap;

/// Attribute values by name: what a span site knows (route, method, table, ...).
pub type Attrs = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Any,
    Capture(String),
}

/// A compiled pattern (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pieces: Vec<Piece>,
}

/// Why a pattern or template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: {message}")]
pub struct PatternError {
    /// The pattern or template.
    pub text: String,
    /// What is wrong.
    pub message: String,
}

fn pieces_of(text: &str, allow_any: bool) -> Result<Vec<Piece>, PatternError> {
    let error = |message: &str| PatternError {
        text: text.to_string(),
        message: message.to_string(),
    };
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(error("unclosed `{`")),
                    }
                }
                if name.is_empty() {
                    return Err(error("empty `{}`"));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Capture(name));
            }
            '}' => return Err(error("unmatched `}`")),
            '*' if allow_any => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Any);
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

impl Pattern {
    /// Parses a pattern.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        Ok(Self {
            pieces: pieces_of(text, true)?,
        })
    }

    /// The captures when `text` matches, `None` otherwise.
    pub fn captures(&self, text: &str) -> Option<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        match_from(&self.pieces, text, &mut out).then_some(out)
    }

    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        self.captures(text).is_some()
    }
}

/// Matches pieces against text, backtracking over `*` and captures (names and routes
/// are short; the pieces are few).
fn match_from(pieces: &[Piece], text: &str, out: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return text.is_empty();
    };
    match first {
        Piece::Literal(literal) => text
            .strip_prefix(literal.as_str())
            .is_some_and(|after| match_from(rest, after, out)),
        Piece::Any | Piece::Capture(_) => {
            let minimum = usize::from(matches!(first, Piece::Capture(_)));
            let ends: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .filter(|&end| end >= minimum)
                .collect();
            for end in ends {
                if end < minimum {
                    continue;
                }
                if match_from(rest, &text[end..], out) {
                    if let Piece::Capture(name) = first {
                        out.insert(name.clone(), text[..end].to_string());
                    }
                    return true;
                }
            }
            false
        }
    }
}

/// Whether any of `patterns` matches `text` (an empty list matches nothing).
pub fn any_matches(patterns: &[Pattern], text: &str) -> bool {
    patterns.iter().any(|pattern| pattern.matches(text))
}

/// A compiled template (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// The transformations a template field may ask for (`else=TEXT` too).
const TRANSFORMS: [&str; 10] = [
    "",
    "upper",
    "lower",
    "simple",
    "snake",
    "nolead",
    "word",
    "lowerfirst",
    "upperfirst",
    "parent",
];

impl Template {
    /// Parses a template; unknown transformations are errors.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let pieces = pieces_of(text, false)?;
        for piece in &pieces {
            if let Piece::Capture(field) = piece {
                let transform = field.split_once(':').map_or("", |(_, t)| t);
                if !TRANSFORMS.contains(&transform) && !transform.starts_with("else=") {
                    return Err(PatternError {
                        text: text.to_string(),
                        message: format!("unknown transformation `{transform}`"),
                    });
                }
            }
        }
        Ok(Self { pieces })
    }

    /// The attribute names the template uses.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Capture(field) => Some(field.split(':').next().unwrap_or(field)),
            _ => None,
        })
    }

    /// Every expansion, in order; empty when an attribute is missing or has no value.
    pub fn expand(&self, attrs: &Attrs) -> Vec<String> {
        let mut out = vec![String::new()];
        for piece in &self.pieces {
            match piece {
                Piece::Literal(literal) => out.iter_mut().for_each(|s| s.push_str(literal)),
                Piece::Any => {}
                Piece::Capture(field) => {
                    let (name, transform) = field.split_once(':').unwrap_or((field, ""));
                    let Some(values) = attrs.get(name).filter(|v| !v.is_empty()) else {
                        return Vec::new();
                    };
                    let mut next = Vec::with_capacity(out.len() * values.len());
                    for prefix in &out {
                        for value in values {
                            next.push(format!("{prefix}{}", apply(transform, value)));
                        }
                    }
                    out = next;
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        out.retain(|s| seen.insert(s.clone()));
        out
    }
}

fn apply(transform: &str, value: &str) -> String {
    match transform {
        "upper" => value.to_ascii_uppercase(),
        "lower" => value.to_ascii_lowercase(),
        "simple" => value.rsplit('.').next().unwrap_or(value).to_string(),
        "snake" => snake_case(value),
        "nolead" => value.trim_start_matches('/').to_string(),
        "word" => value.split_whitespace().next().unwrap_or("").to_string(),
        "lowerfirst" => first_letter(value, char::to_ascii_lowercase),
        "upperfirst" => first_letter(value, char::to_ascii_uppercase),
        "parent" => value
            .rsplit_once('.')
            .map_or("", |(parent, _)| parent)
            .to_string(),
        other => match other.strip_prefix("else=") {
            Some(fallback) if value.is_empty() => fallback.to_string(),
            _ => value.to_string(),
        },
    }
}

fn first_letter(value: &str, case: fn(&char) -> char) -> String {
    let mut chars = value.chars();
    chars
        .next()
        .map(|c| case(&c).to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `FoodOrder` → `food_order`, `HTTPServer` → `httpserver`... as Spring's physical
/// naming strategy does: an underscore before an upper-case letter that follows a
/// lower-case one, then lower case.
pub fn snake_case(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let mut previous_lower = false;
    for c in value.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &[&str])]) -> Attrs {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn patterns_match_and_capture() {
        let p = Pattern::parse("Register{service}Server").unwrap();
        assert_eq!(
            p.captures("RegisterGeoServer").unwrap()["service"],
            "Geo".to_string()
        );
        assert!(!p.matches("RegisterServer"));
        assert!(Pattern::parse("*Repository").unwrap().matches("Repository"));
        assert!(
            Pattern::parse("*Repository")
                .unwrap()
                .matches("OrderRepository")
        );
        assert!(
            !Pattern::parse("*Repository")
                .unwrap()
                .matches("RepositoryX")
        );
        let jdbc = Pattern::parse("jdbc:*//*/{db}?*").unwrap();
        assert_eq!(
            jdbc.captures("jdbc:mysql://h:3306/ts?useSSL=false")
                .unwrap()["db"],
            "ts"
        );
        assert!(Pattern::parse("a{{b}}").unwrap().matches("a{b}"));
        assert!(Pattern::parse("{x").is_err());
    }

    #[test]
    fn first_letter_and_parent_transforms() {
        let a = attrs(&[
            ("m", &["GetStock"]),
            ("j", &["getStock"]),
            ("c", &["a.b.CGrpc"]),
        ]);
        let expand = |t: &str| Template::parse(t).unwrap().expand(&a);
        assert_eq!(expand("{m:lowerfirst}"), ["getStock"]);
        assert_eq!(expand("{j:upperfirst}"), ["GetStock"]);
        assert_eq!(expand("{c:parent}.{m}"), ["a.b.GetStock"]);
        let none = attrs(&[("c", &["CGrpc"])]);
        assert_eq!(Template::parse("{c:parent}").unwrap().expand(&none), [""]);
    }

    #[test]
    fn word_takes_the_first_word_as_written() {
        let t = Template::parse("{sql:word}").unwrap();
        let a = attrs(&[("sql", &["\n  select id\nfrom t", "INSERT INTO t"])]);
        assert_eq!(t.expand(&a), ["select", "INSERT"]);
    }

    #[test]
    fn templates_expand_every_combination_or_nothing() {
        let t = Template::parse("{op:upper} {db}.{table:snake}").unwrap();
        let a = attrs(&[
            ("op", &["select", "insert"]),
            ("db", &["ts"]),
            ("table", &["FoodOrder"]),
        ]);
        assert_eq!(
            t.expand(&a),
            ["SELECT ts.food_order", "INSERT ts.food_order"]
        );
        assert!(t.expand(&attrs(&[("op", &["x"])])).is_empty());
        assert_eq!(
            Template::parse("{e:simple}")
                .unwrap()
                .expand(&attrs(&[("e", &["a.b.C"])])),
            ["C"]
        );
        assert!(Template::parse("{x:shout}").is_err());
        assert_eq!(snake_case("HTTPServer"), "httpserver");
    }
}
