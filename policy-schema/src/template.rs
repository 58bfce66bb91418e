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
                    let close = text[i + 1..]
                        .find('}')
                        .ok_or(TemplateError::Unclosed(i))?
                        + i
                        + 1;
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
        Ok(Self { pieces })
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
    pub fn matches(&self, name: &str) -> bool {
        matches_from(&self.pieces, name)
    }
}

fn matches_from(pieces: &[Piece], name: &str) -> bool {
    match pieces.split_first() {
        None => name.is_empty(),
        Some((Piece::Literal(text), rest)) => name
            .strip_prefix(text.as_str())
            .is_some_and(|tail| matches_from(rest, tail)),
        Some((Piece::Segment(_), rest)) => {
            // The placeholder takes one or more non-'/' chars; the next literal decides
            // where it ends. Try each boundary: templates are short, so this is cheap.
            let limit = name.find('/').unwrap_or(name.len());
            (1..=limit)
                .filter(|&end| name.is_char_boundary(end))
                .any(|end| matches_from(rest, &name[end..]))
        }
        Some((Piece::Rest(_), rest)) => (1..=name.len())
            .filter(|&end| name.is_char_boundary(end))
            .any(|end| matches_from(rest, &name[end..])),
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
        assert!(matches!(Template::parse("/a/{}"), Err(TemplateError::BadName(_))));
        assert!(matches!(
            Template::parse("/a/{x}{y}"),
            Err(TemplateError::Adjacent(_, _))
        ));
    }
}
