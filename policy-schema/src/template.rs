//! Route templates such as `/api/v1/orderservice/order/{orderId}`: parsing, validation
//! and matching against concrete span names.

use thiserror::Error;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Literal(String),
    /// `{name}`: one or more characters other than `/`.
    Segment(String),
    /// `{name:**}`: one or more characters, `/` included.
    Rest(String),
}

/// A parsed, validated template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
    /// Whether the one-pass matcher applies (see [`is_slash_delimited`]).
    slash_delimited: bool,
}

/// Why a template is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    /// A `{` without its `}`.
    #[error("unclosed '{{' at byte {0}")]
    Unclosed(usize),
    /// A `}` without a `{` (write `}}` for a literal brace).
    #[error("unmatched '}}' at byte {0} (write '}}}}' for a literal brace)")]
    Unmatched(usize),
    /// `{}` or a name that is not an identifier.
    #[error("invalid placeholder name {0:?} (letters, digits, '_', '-', '.')")]
    BadName(String),
    /// Two placeholders with nothing between them cannot be split.
    #[error("placeholders {0:?} and {1:?} are adjacent: their boundary is ambiguous")]
    Adjacent(String, String),
    /// The template is empty.
    #[error("empty template")]
    Empty,
}

impl Template {
    /// Parses and validates a template.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        if text.is_empty() {
            return Err(TemplateError::Empty);
        }
        let bytes = text.as_bytes();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    literal.push('{');
                    i += 2;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    literal.push('}');
                    i += 2;
                }
                b'}' => return Err(TemplateError::Unmatched(i)),
                b'{' => {
                    let close = text[i + 1..].find('}').ok_or(TemplateError::Unclosed(i))? + i + 1;
                    let inner = &text[i + 1..close];
                    let (name, rest) = match inner.strip_suffix(":**") {
                        Some(name) => (name, true),
                        None => (inner, false),
                    };
                    let valid = !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
                    if !valid {
                        return Err(TemplateError::BadName(inner.to_string()));
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    } else if let Some(Piece::Segment(prev) | Piece::Rest(prev)) = pieces.last() {
                        return Err(TemplateError::Adjacent(prev.clone(), name.to_string()));
                    }
                    pieces.push(if rest {
                        Piece::Rest(name.to_string())
                    } else {
                        Piece::Segment(name.to_string())
                    });
                    i = close + 1;
                }
                _ => {
                    let ch = text[i..].chars().next().unwrap_or_default();
                    literal.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        let slash_delimited = is_slash_delimited(&pieces);
        Ok(Self {
            pieces,
            slash_delimited,
        })
    }

    /// The parsed pieces.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The literal text before the first placeholder (useful for indexing).
    pub fn literal_prefix(&self) -> &str {
        match self.pieces.first() {
            Some(Piece::Literal(text)) => text,
            _ => "",
        }
    }

    /// Whether `name` matches the template as a whole.
    ///
    /// Runs in O(pieces x name length) on every input: a backtracking matcher would be
    /// exponential on names like `aaaa…` against `{a:**}a{b:**}a{c:**}b`.
    pub fn matches(&self, name: &str) -> bool {
        if self.slash_delimited {
            matches_slash_delimited(&self.pieces, name)
        } else {
            matches_by_positions(&self.pieces, name)
        }
    }

    /// Whether `literal_prefix() + rest` matches: for callers (an index keyed by literal
    /// prefix) that already checked the prefix.
    pub fn matches_after_prefix(&self, rest: &str) -> bool {
        let pieces = match self.pieces.split_first() {
            Some((Piece::Literal(_), after)) => after,
            _ => &self.pieces[..],
        };
        if self.slash_delimited {
            matches_slash_delimited(pieces, rest)
        } else {
            matches_by_positions(pieces, rest)
        }
    }
}

/// Whether every `{segment}` is followed by the end or by a literal starting with `/`,
/// and a `{rest:**}` can only be last: then each placeholder's extent is forced (a segment
/// ends at the next `/`), so one left-to-right scan decides the match.
fn is_slash_delimited(pieces: &[Piece]) -> bool {
    pieces.iter().enumerate().all(|(i, piece)| match piece {
        Piece::Literal(_) => true,
        Piece::Segment(_) => match pieces.get(i + 1) {
            None => true,
            Some(Piece::Literal(text)) => text.starts_with('/'),
            Some(_) => false,
        },
        Piece::Rest(_) => i + 1 == pieces.len(),
    })
}

fn matches_slash_delimited(pieces: &[Piece], name: &str) -> bool {
    let mut tail = name;
    for piece in pieces {
        match piece {
            Piece::Literal(text) => match tail.strip_prefix(text.as_str()) {
                Some(rest) => tail = rest,
                None => return false,
            },
            Piece::Segment(_) => {
                let end = tail.find('/').unwrap_or(tail.len());
                if end == 0 {
                    return false;
                }
                tail = &tail[end..];
            }
            Piece::Rest(_) => return !tail.is_empty(),
        }
    }
    tail.is_empty()
}

/// The general matcher: the set of byte positions reachable after each piece.
fn matches_by_positions(pieces: &[Piece], name: &str) -> bool {
    let len = name.len();
    let bytes = name.as_bytes();
    let mut current = PositionSet::new(len + 1);
    current.insert(0);
    let mut next = PositionSet::new(len + 1);
    for piece in pieces {
        next.clear();
        match piece {
            Piece::Literal(text) => {
                for at in current.iter() {
                    if bytes[at..].starts_with(text.as_bytes()) {
                        next.insert(at + text.len());
                    }
                }
            }
            Piece::Segment(_) => {
                // A segment from `p` may end anywhere in (p, first '/' at or after p];
                // sweeping left to right, `reach` is the furthest end seen so far.
                let mut reach: Option<usize> = None;
                for at in 0..=len {
                    if reach.is_some_and(|r| at <= r) && name.is_char_boundary(at) {
                        next.insert(at);
                    }
                    if current.contains(at) {
                        let slash = bytes[at..]
                            .iter()
                            .position(|&b| b == b'/')
                            .map_or(len, |off| at + off);
                        reach = Some(reach.map_or(slash, |r| r.max(slash)));
                    }
                }
            }
            Piece::Rest(_) => {
                if let Some(first) = current.iter().next() {
                    for at in first + 1..=len {
                        if name.is_char_boundary(at) {
                            next.insert(at);
                        }
                    }
                }
            }
        }
        std::mem::swap(&mut current, &mut next);
        if current.is_empty() {
            return false;
        }
    }
    current.contains(len)
}

/// A set of positions in `0..capacity`; stays on the stack for names up to 255 bytes.
struct PositionSet {
    words: PositionWords,
}

enum PositionWords {
    Inline([u64; 4]),
    Heap(Vec<u64>),
}

impl PositionSet {
    fn new(capacity: usize) -> Self {
        let words = if capacity <= 256 {
            PositionWords::Inline([0; 4])
        } else {
            PositionWords::Heap(vec![0; capacity.div_ceil(64)])
        };
        Self { words }
    }

    fn words(&self) -> &[u64] {
        match &self.words {
            PositionWords::Inline(words) => words,
            PositionWords::Heap(words) => words,
        }
    }

    fn words_mut(&mut self) -> &mut [u64] {
        match &mut self.words {
            PositionWords::Inline(words) => words,
            PositionWords::Heap(words) => words,
        }
    }

    fn insert(&mut self, at: usize) {
        self.words_mut()[at / 64] |= 1 << (at % 64);
    }

    fn contains(&self, at: usize) -> bool {
        self.words()[at / 64] & (1 << (at % 64)) != 0
    }

    fn clear(&mut self) {
        self.words_mut().fill(0);
    }

    fn is_empty(&self) -> bool {
        self.words().iter().all(|&w| w == 0)
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words().iter().enumerate().flat_map(|(index, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(index * 64 + bit)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_concrete_paths() {
        let t = Template::parse("/api/v1/ticketinfoservice/ticketinfo/{name}").unwrap();
        assert!(t.matches("/api/v1/ticketinfoservice/ticketinfo/Shang Hai"));
        assert!(!t.matches("/api/v1/ticketinfoservice/ticketinfo/"));
        assert!(!t.matches("/api/v1/ticketinfoservice/ticketinfo/a/b"));
        let t = Template::parse("/files/{path:**}").unwrap();
        assert!(t.matches("/files/a/b/c"));
        let t = Template::parse("{{GET}}/x/{id}").unwrap();
        assert!(t.matches("{GET}/x/1"));
    }

    #[test]
    fn rejects_bad_templates() {
        assert_eq!(Template::parse(""), Err(TemplateError::Empty));
        assert_eq!(Template::parse("/a/{id"), Err(TemplateError::Unclosed(3)));
        assert_eq!(Template::parse("/a/}"), Err(TemplateError::Unmatched(3)));
        assert!(matches!(
            Template::parse("/a/{}"),
            Err(TemplateError::BadName(_))
        ));
        assert!(matches!(
            Template::parse("/a/{x}{y}"),
            Err(TemplateError::Adjacent(_, _))
        ));
    }

    #[test]
    fn general_matcher_handles_non_slash_boundaries() {
        let t = Template::parse("/img/{name}.{ext}").unwrap();
        assert!(t.matches("/img/cat.v2.png"));
        assert!(!t.matches("/img/cat"));
        assert!(!t.matches("/img/a/b.png"));
        let t = Template::parse("{verb} /orders/{id:**}").unwrap();
        assert!(t.matches("GET /orders/1/items"));
        assert!(!t.matches("GET /orders/"));
    }

    #[test]
    fn matches_after_prefix_skips_the_literal_prefix() {
        let t = Template::parse("/orders/{id}/items").unwrap();
        assert_eq!(t.literal_prefix(), "/orders/");
        assert!(t.matches_after_prefix("7/items"));
        assert!(!t.matches_after_prefix("/items"));
        let t = Template::parse("{verb} /x").unwrap();
        assert!(t.matches_after_prefix("GET /x"));
    }

    #[test]
    fn pathological_template_is_linear() {
        let t = Template::parse("{a:**}a{b:**}a{c:**}a{d:**}a{e:**}b").unwrap();
        let name = "a".repeat(5000);
        let started = std::time::Instant::now();
        assert!(!t.matches(&name));
        assert!(started.elapsed().as_secs() < 2);
    }

    /// Reference: exhaustive backtracking, fine for short inputs.
    fn reference(pieces: &[Piece], name: &str) -> bool {
        match pieces.split_first() {
            None => name.is_empty(),
            Some((Piece::Literal(text), rest)) => name
                .strip_prefix(text.as_str())
                .is_some_and(|tail| reference(rest, tail)),
            Some((piece, rest)) => (1..=name.len())
                .filter(|&end| name.is_char_boundary(end))
                .take_while(|&end| matches!(piece, Piece::Rest(_)) || !name[..end].contains('/'))
                .any(|end| reference(rest, &name[end..])),
        }
    }

    proptest::proptest! {
        #[test]
        fn matchers_agree_with_reference(
            template in "([a/é.]|\\{x\\}|\\{y:\\*\\*\\}){1,6}",
            name in "[a/é.]{0,10}",
        ) {
            if let Ok(t) = Template::parse(&template) {
                proptest::prop_assert_eq!(t.matches(&name), reference(t.pieces(), &name), "{} {}", template, name);
            }
        }
    }
}
