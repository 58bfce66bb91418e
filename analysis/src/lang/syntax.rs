//! Small helpers shared by the language modules: running a facts query into items,
//! node text and positions, and non-recursive tree walks (hostile input can nest deeply,
//! so nothing here recurses).

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator};

use crate::facts::Position;

/// One query match: the main capture's name and node, and the other captures.
pub(crate) struct Item<'t> {
    /// The main capture's name (`definition.function`, `reference.call`, ...).
    pub kind: &'static str,
    /// The main capture's node.
    pub node: Node<'t>,
    /// The other captures of the match.
    pub captures: Vec<(&'static str, Node<'t>)>,
}

impl<'t> Item<'t> {
    /// The node of capture `name`, if the match has it.
    pub fn get(&self, name: &str) -> Option<Node<'t>> {
        self.captures
            .iter()
            .find(|(capture, _)| *capture == name)
            .map(|(_, node)| *node)
    }
}

/// Runs `query` over `root`; a match becomes an [`Item`] when one of its captures is in
/// `main_captures`. Items are sorted by position (outer before inner at equal starts? no:
/// shorter first), so lists built from them are in source order.
pub(crate) fn run_query<'t>(
    query: &'static Query,
    main_captures: &[&str],
    root: Node<'t>,
    source: &str,
) -> Vec<Item<'t>> {
    let names = query.capture_names();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, root, source.as_bytes());
    let mut items = Vec::new();
    while let Some(found) = matches.next() {
        let mut main = None;
        let mut captures = Vec::new();
        for capture in found.captures() {
            let name: &'static str = names[capture.index as usize];
            if main_captures.contains(&name) {
                main = Some((name, capture.node));
            } else {
                captures.push((name, capture.node));
            }
        }
        if let Some((kind, node)) = main {
            items.push(Item {
                kind,
                node,
                captures,
            });
        }
    }
    items.sort_by_key(|item| (item.node.start_byte(), item.node.end_byte()));
    items
}

/// The source text of `node` (empty if the range is not valid in `source`).
pub(crate) fn text<'s>(node: Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// 1-based position of the start of `node`.
pub(crate) fn position(node: Node<'_>) -> Position {
    let point = node.start_position();
    Position {
        line: u32::try_from(point.row).unwrap_or(u32::MAX - 1) + 1,
        column: u32::try_from(point.column).unwrap_or(u32::MAX - 1) + 1,
    }
}

/// `text` cut to at most `max` bytes on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Where the first syntax error is (in document order), without recursion, entering
/// only subtrees with errors. An ERROR node often wraps everything from the start of
/// the file to where the parser recovered; what could not be placed in it shows as a
/// bare token among its children, so the first such token (or nested error) is the
/// place reported.
pub(crate) fn first_syntax_error(root: Node<'_>) -> Option<Position> {
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_missing() {
            return Some(position(node));
        }
        if node.is_error() {
            return Some(position(stray_token(node)));
        }
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

/// Inside an ERROR node: the first child that is a bare token or holds an error,
/// descending; the node itself when it has neither.
fn stray_token(error: Node<'_>) -> Node<'_> {
    let mut node = error;
    loop {
        let mut cursor = node.walk();
        let next = node
            .children(&mut cursor)
            .find(|child| child.child_count() == 0 || child.is_error() || child.has_error());
        match next {
            Some(child) if child.child_count() > 0 => node = child,
            Some(token) => return token,
            None => return node,
        }
    }
}

/// Counts ERROR and MISSING nodes without recursion, entering only subtrees with errors.
pub(crate) fn count_syntax_errors(root: Node<'_>) -> u32 {
    let mut cursor = root.walk();
    let mut count = 0u32;
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count = count.saturating_add(1);
        }
        // Only subtrees that contain an error are worth entering.
        if node.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return count;
            }
        }
    }
}

/// Calls `visit` on every descendant of `node` (not `node` itself), without recursion.
pub(crate) fn for_each_descendant<'t>(node: Node<'t>, mut visit: impl FnMut(Node<'t>)) {
    let mut cursor = node.walk();
    if !cursor.goto_first_child() {
        return;
    }
    loop {
        visit(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() || cursor.node().id() == node.id() {
                return;
            }
        }
    }
}

/// Number of lines (a last line without newline counts).
pub(crate) fn lines_of(source: &str) -> u32 {
    let newlines = source.bytes().filter(|b| *b == b'\n').count();
    let last_unterminated = usize::from(!source.is_empty() && !source.ends_with('\n'));
    u32::try_from(newlines + last_unterminated).unwrap_or(u32::MAX)
}

/// The named children of `node`.
pub(crate) fn named_children(node: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// True when `inner` lies within `outer`.
pub(crate) fn contains(outer: Node<'_>, inner: Node<'_>) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// Runs of whitespace (newlines in multi-line receivers) become one space.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One assignment of a string pattern to a name.
struct Binding {
    /// Byte offset of the assignment.
    at: usize,
    /// Byte range of the block holding the assignment: uses inside it see this value
    /// on every path; uses after it (outside) may see an earlier one.
    scope: std::ops::Range<usize>,
    pattern: String,
}

/// String values assigned to names in one function (or module), in source order, for
/// turning `requests.get(url)` into the pattern of `url`.
#[derive(Default)]
pub(crate) struct StringEnv {
    bindings: std::collections::HashMap<String, Vec<Binding>>,
}

impl StringEnv {
    /// Records `name = pattern` at byte `at`, inside the block spanning `scope`.
    pub fn bind(&mut self, name: &str, at: usize, scope: std::ops::Range<usize>, pattern: String) {
        self.bindings
            .entry(name.to_string())
            .or_default()
            .push(Binding { at, scope, pattern });
    }

    /// The last pattern assigned to `name` before byte `before`.
    pub fn lookup(&self, name: &str, before: usize) -> Option<&str> {
        self.bindings
            .get(name)?
            .iter()
            .rev()
            .find(|binding| binding.at < before)
            .map(|binding| binding.pattern.as_str())
    }

    /// The last pattern of each name (for package- or module-level values).
    pub fn last_values(&self) -> impl Iterator<Item = (&str, &str)> {
        self.bindings
            .iter()
            .filter_map(|(name, bindings)| Some((name.as_str(), bindings.last()?.pattern.as_str())))
    }

    /// Different patterns `name` may hold at byte `at` when the last assignment sits in
    /// a branch that does not contain `at` (`if a { url = x } else { url = y }; get(url)`):
    /// the assignments back to one whose block contains `at`, distinct, in source order.
    /// `None` when one value reaches `at`.
    pub fn alternatives(&self, name: &str, at: usize) -> Option<Vec<String>> {
        let before: Vec<&Binding> = self
            .bindings
            .get(name)?
            .iter()
            .filter(|binding| binding.at < at)
            .collect();
        let last = before.last()?;
        if last.scope.contains(&at) {
            return None;
        }
        let mut patterns: Vec<String> = Vec::new();
        for binding in before.iter().rev() {
            if !patterns.contains(&binding.pattern) {
                patterns.push(binding.pattern.clone());
            }
            if binding.scope.contains(&at) {
                break;
            }
        }
        patterns.reverse();
        (patterns.len() > 1).then_some(patterns)
    }
}

/// The context nodes inherit from their ancestors, computed in one walk:
/// `rule(parent, cursor_at_child, parent_context)` gives a child's context (the cursor
/// gives the child's field name, asked only where it matters). Contexts are kept for
/// the nodes whose kind satisfies `keep`. Lookups replace walks up the tree
/// (`Node::parent` searches down from the root, so upward walks cost depth × width
/// per step on large files).
pub(crate) fn inherited_contexts<'t, C: Copy + Default>(
    root: Node<'t>,
    keep: impl Fn(&str) -> bool,
    rule: impl Fn(Node<'t>, &tree_sitter::TreeCursor<'t>, C) -> C,
) -> std::collections::HashMap<usize, C> {
    let mut contexts = std::collections::HashMap::new();
    contexts.insert(root.id(), C::default());
    let mut cursor = root.walk();
    let mut path: Vec<(Node<'t>, C)> = vec![(root, C::default())];
    loop {
        let (node, context) = *path.last().expect("path holds the current node");
        if cursor.goto_first_child() {
            let child = cursor.node();
            let child_context = rule(node, &cursor, context);
            if keep(child.kind()) {
                contexts.insert(child.id(), child_context);
            }
            path.push((child, child_context));
            continue;
        }
        loop {
            path.pop();
            if cursor.goto_next_sibling() {
                let Some(&(parent, parent_context)) = path.last() else {
                    return contexts;
                };
                let sibling = cursor.node();
                let sibling_context = rule(parent, &cursor, parent_context);
                if keep(sibling.kind()) {
                    contexts.insert(sibling.id(), sibling_context);
                }
                path.push((sibling, sibling_context));
                break;
            }
            if !cursor.goto_parent() {
                return contexts;
            }
        }
    }
}

/// True for the nodes whose byte range is the scope of the statements directly inside.
pub(crate) fn is_statement_block(kind: &str) -> bool {
    matches!(
        kind,
        "block" | "statement_list" | "module" | "source_file" | "if_statement"
    )
}

/// Byte ranges that nest or are disjoint (the ranges of tree nodes), indexed to find
/// the innermost one containing a range in logarithmic time plus nesting depth: a
/// scan over every range for every lookup is quadratic on large files.
#[derive(Default)]
pub(crate) struct Nested {
    /// Ranges sorted by start, longer first at equal starts.
    ranges: Vec<std::ops::Range<usize>>,
    /// Original index of each sorted range.
    original: Vec<usize>,
    /// The innermost other range containing each range.
    parent: Vec<Option<usize>>,
}

impl Nested {
    /// Indexes ranges (any order).
    pub fn new(ranges: impl IntoIterator<Item = std::ops::Range<usize>>) -> Self {
        let mut indexed: Vec<(usize, std::ops::Range<usize>)> =
            ranges.into_iter().enumerate().collect();
        indexed.sort_by(|(ia, a), (ib, b)| {
            a.start
                .cmp(&b.start)
                .then(b.end.cmp(&a.end))
                .then(ia.cmp(ib))
        });
        let original: Vec<usize> = indexed.iter().map(|(i, _)| *i).collect();
        let ranges: Vec<std::ops::Range<usize>> = indexed.into_iter().map(|(_, r)| r).collect();
        let mut parent = vec![None; ranges.len()];
        let mut stack: Vec<usize> = Vec::new();
        for (i, range) in ranges.iter().enumerate() {
            while let Some(&top) = stack.last() {
                if ranges[top].start <= range.start && range.end <= ranges[top].end {
                    break;
                }
                stack.pop();
            }
            parent[i] = stack.last().copied();
            stack.push(i);
        }
        Self {
            ranges,
            original,
            parent,
        }
    }

    /// The original index of the innermost range containing `start..end`.
    pub fn innermost(&self, start: usize, end: usize) -> Option<usize> {
        let after = self.ranges.partition_point(|r| r.start <= start);
        let mut at = after.checked_sub(1);
        while let Some(i) = at {
            if end <= self.ranges[i].end {
                return Some(self.original[i]);
            }
            at = self.parent[i];
        }
        None
    }
}
