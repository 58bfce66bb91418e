//! The structure pass over one trace: kept spans keep a path to the root.
//!
//! Input: the spans of a trace and which are kept by decision (rule or override). Output:
//! per span whether it is kept, why, and its parent in the output. Every step is a loop
//! over arrays (no recursion), each span is visited a bounded number of times, so the
//! pass is O(spans) and terminates on any input:
//!
//! 1. resolve parent ids to indices with one hash map (the first span with an id owns
//!    it; later duplicates are reported and can be nobody's parent);
//! 2. break cycles: walk up from each unvisited span, marking the path; meeting a span of
//!    the current path means a cycle, which is cut at the link that closed it (that
//!    span becomes a root); each span joins exactly one walk;
//! 3. order spans parents-first (counting sort by depth, depths found by the same walks);
//! 4. apply the mode:
//!    - `keep-ancestors`: from each kept span, walk up marking ancestors kept until a
//!      kept span is met (each span is marked at most once);
//!    - `reparent`: in parents-first order, a kept span's new parent is its parent if
//!      kept, else its parent's nearest kept ancestor; the dropped spans in between are
//!      counted.

use crate::matcher::bytes_eq;
use crate::span::SpanView;
use policy_schema::StructureMode;

/// Why a span is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeepReason {
    /// Its rule (or the default action) kept it.
    Rule,
    /// The error override kept it.
    Error,
    /// The latency override kept it.
    Latency,
    /// A kept descendant needed it (`keep-ancestors`).
    Ancestor,
}

/// A span's parent in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NewParent {
    /// No parent: write the span as a root (it was a root, or its link closed a cycle).
    Root,
    /// The span at this index of the input slice (always a kept span for kept spans).
    Span(usize),
    /// The chain ends at the span at this index, whose parent id is not in the trace
    /// (a partial trace): write that span's original `parent_span_id`.
    Missing(usize),
}

/// Structure problems found and repaired in one trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StructureRepairs {
    /// Spans with no parent id.
    pub roots: u64,
    /// Traces with more than one root (0 or 1 per trace).
    pub several_roots: u64,
    /// Spans whose parent id names no span of the trace (orphans).
    pub missing_parents: u64,
    /// Spans whose id an earlier span already had.
    pub duplicate_span_ids: u64,
    /// Parent links cut to break cycles (a span naming itself counts as one).
    pub cycles_broken: u64,
}

impl StructureRepairs {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Self) {
        self.roots += other.roots;
        self.several_roots += other.several_roots;
        self.missing_parents += other.missing_parents;
        self.duplicate_span_ids += other.duplicate_span_ids;
        self.cycles_broken += other.cycles_broken;
    }
}

/// Result of the pass for one span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Why the span is kept; `None` when dropped.
    pub kept: Option<KeepReason>,
    /// Its parent in the output (meaningful for kept spans).
    pub parent: NewParent,
    /// Dropped spans between it and its new parent (`reparent` mode; 0 otherwise).
    pub dropped_between: u32,
}

/// Runs the pass. `decided[i]` says whether span `i` is kept by its decision and why;
/// the result has one [`Placement`] per span, in input order. (Allocates its scratch
/// space; [`StructurePass`] reuses it across traces.)
pub fn structure_pass(
    spans: &[SpanView<'_>],
    decided: &[Option<KeepReason>],
    mode: StructureMode,
) -> (Vec<Placement>, StructureRepairs) {
    let mut placements = Vec::new();
    let repairs = StructurePass::default().run(spans, decided, mode, &mut placements);
    (placements, repairs)
}

/// No span / not seen.
const NONE: usize = usize::MAX;
const UNSEEN: u32 = u32::MAX;
const ON_PATH: u32 = u32::MAX - 1;

/// The structure pass with scratch space kept between traces, so a stream of small
/// traces does not allocate per trace.
#[derive(Debug, Default)]
pub struct StructurePass {
    /// Open-addressing table of span indices by span id (linear probing).
    table: Vec<usize>,
    parent: Vec<usize>,
    missing: Vec<bool>,
    depth: Vec<u32>,
    path: Vec<usize>,
    order: Vec<usize>,
    starts: Vec<usize>,
    kept: Vec<Option<KeepReason>>,
    new_parent: Vec<NewParent>,
    between: Vec<u32>,
    hasher: ahash::RandomState,
}

impl StructurePass {
    /// Runs the pass (see [`structure_pass`]), writing placements into `out` (cleared
    /// first). If the slices differ in length, the extra elements of the longer are
    /// ignored.
    pub fn run(
        &mut self,
        spans: &[SpanView<'_>],
        decided: &[Option<KeepReason>],
        mode: StructureMode,
        out: &mut Vec<Placement>,
    ) -> StructureRepairs {
        let count = spans.len().min(decided.len());
        let spans = &spans[..count];
        let decided = &decided[..count];
        let mut repairs = StructureRepairs::default();
        out.clear();

        // 1. Resolve parents. The first span with an id owns it.
        let capacity = (count * 2).next_power_of_two().max(16);
        let mask = capacity - 1;
        self.table.clear();
        self.table.resize(capacity, NONE);
        for (index, span) in spans.iter().enumerate() {
            let mut slot = self.hasher.hash_one(span.span_id) as usize & mask;
            loop {
                match self.table[slot] {
                    NONE => {
                        self.table[slot] = index;
                        break;
                    }
                    other if bytes_eq(spans[other].span_id, span.span_id) => {
                        repairs.duplicate_span_ids += 1;
                        break;
                    }
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
        self.parent.clear();
        self.missing.clear();
        self.missing.resize(count, false);
        for (index, span) in spans.iter().enumerate() {
            let resolved = match span.parent() {
                None => {
                    repairs.roots += 1;
                    NONE
                }
                Some(id) => {
                    let mut slot = self.hasher.hash_one(id) as usize & mask;
                    loop {
                        match self.table[slot] {
                            NONE => {
                                repairs.missing_parents += 1;
                                self.missing[index] = true;
                                break NONE;
                            }
                            other if bytes_eq(spans[other].span_id, id) => break other,
                            _ => slot = (slot + 1) & mask,
                        }
                    }
                }
            };
            self.parent.push(resolved);
        }
        if repairs.roots > 1 {
            repairs.several_roots = 1;
        }

        // 2 and 3. Break cycles and find depths.
        let parent = &mut self.parent;
        let depth = &mut self.depth;
        depth.clear();
        depth.resize(count, UNSEEN);
        for start in 0..count {
            if depth[start] != UNSEEN {
                continue;
            }
            self.path.clear();
            let mut at = start;
            let mut base_depth = 0u32;
            loop {
                depth[at] = ON_PATH;
                self.path.push(at);
                let p = parent[at];
                if p == NONE {
                    break;
                } else if depth[p] == ON_PATH {
                    parent[at] = NONE;
                    repairs.cycles_broken += 1;
                    break;
                } else if depth[p] != UNSEEN {
                    base_depth = depth[p] + 1;
                    break;
                }
                at = p;
            }
            // The top of the path is at `base_depth`; depths grow downwards.
            for (offset, &index) in self.path.iter().rev().enumerate() {
                depth[index] = base_depth.saturating_add(offset as u32).min(ON_PATH - 1);
            }
        }

        // 4. Apply the mode.
        self.kept.clear();
        self.kept.extend_from_slice(decided);
        let kept = &mut self.kept;
        let missing = &self.missing;
        let top_parent = |index: usize| {
            if missing[index] {
                NewParent::Missing(index)
            } else {
                NewParent::Root
            }
        };
        match mode {
            StructureMode::KeepAncestors => {
                for index in 0..count {
                    if decided[index].is_none() {
                        continue;
                    }
                    let mut up = parent[index];
                    while up != NONE && kept[up].is_none() {
                        kept[up] = Some(KeepReason::Ancestor);
                        up = parent[up];
                    }
                }
                out.extend((0..count).map(|index| Placement {
                    kept: kept[index],
                    parent: match parent[index] {
                        NONE => top_parent(index),
                        p => NewParent::Span(p),
                    },
                    dropped_between: 0,
                }));
            }
            StructureMode::Reparent => {
                parents_first(depth, &mut self.starts, &mut self.order);
                let new_parent = &mut self.new_parent;
                let between = &mut self.between;
                new_parent.clear();
                new_parent.resize(count, NewParent::Root);
                between.clear();
                between.resize(count, 0);
                for &index in &self.order {
                    match parent[index] {
                        NONE => new_parent[index] = top_parent(index),
                        p if kept[p].is_some() => new_parent[index] = NewParent::Span(p),
                        p => {
                            new_parent[index] = new_parent[p];
                            between[index] = between[p].saturating_add(1);
                        }
                    }
                }
                out.extend((0..count).map(|index| Placement {
                    kept: kept[index],
                    parent: new_parent[index],
                    dropped_between: between[index],
                }));
            }
        }
        repairs
    }
}

/// Indices sorted by depth into `order` (a counting sort: O(spans)).
fn parents_first(depth: &[u32], starts: &mut Vec<usize>, order: &mut Vec<usize>) {
    let max_depth = depth.iter().copied().max().unwrap_or(0) as usize;
    starts.clear();
    starts.resize(max_depth + 2, 0);
    for &d in depth {
        starts[d as usize + 1] += 1;
    }
    for level in 1..starts.len() {
        starts[level] += starts[level - 1];
    }
    order.clear();
    order.resize(depth.len(), 0);
    for (index, &d) in depth.iter().enumerate() {
        let slot = &mut starts[d as usize];
        order[*slot] = index;
        *slot += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span<'a>(id: &'a str, parent: Option<&'a str>) -> SpanView<'a> {
        SpanView {
            trace_id: b"t",
            span_id: id.as_bytes(),
            parent_span_id: parent.map(str::as_bytes),
            name: id,
            service: "s",
            is_error: false,
            start_unix_nano: 0,
            duration_nanos: 0,
            ..SpanView::default()
        }
    }

    const RULE: Option<KeepReason> = Some(KeepReason::Rule);

    #[test]
    fn keep_ancestors_marks_the_chain() {
        // root <- a <- b <- c, and root <- d.
        let spans = [
            span("c", Some("b")),
            span("b", Some("a")),
            span("a", Some("root")),
            span("root", None),
            span("d", Some("root")),
        ];
        let (placements, repairs) = structure_pass(
            &spans,
            &[RULE, None, None, None, None],
            StructureMode::KeepAncestors,
        );
        let kept: Vec<_> = placements.iter().map(|p| p.kept).collect();
        let ancestor = Some(KeepReason::Ancestor);
        assert_eq!(kept, [RULE, ancestor, ancestor, ancestor, None]);
        assert_eq!(placements[0].parent, NewParent::Span(1));
        assert_eq!(placements[3].parent, NewParent::Root);
        assert_eq!(repairs.roots, 1);
    }

    #[test]
    fn reparent_skips_dropped_spans() {
        let spans = [
            span("root", None),
            span("a", Some("root")),
            span("b", Some("a")),
            span("c", Some("b")),
        ];
        let (placements, _) =
            structure_pass(&spans, &[RULE, None, None, RULE], StructureMode::Reparent);
        assert_eq!(placements[3].parent, NewParent::Span(0));
        assert_eq!(placements[3].dropped_between, 2);
        assert_eq!(placements[1].kept, None);
    }

    #[test]
    fn repairs_are_reported() {
        let spans = [
            span("a", Some("b")),
            span("b", Some("a")),
            span("self", Some("self")),
            span("orphan", Some("nowhere")),
            span("x", None),
            span("x", None),
            span("child", Some("orphan")),
        ];
        let decided = [RULE, None, RULE, None, None, None, RULE];
        let (placements, repairs) = structure_pass(&spans, &decided, StructureMode::Reparent);
        assert_eq!(
            repairs,
            StructureRepairs {
                roots: 2,
                several_roots: 1,
                missing_parents: 1,
                duplicate_span_ids: 1,
                cycles_broken: 2,
            }
        );
        assert_eq!(placements[6].parent, NewParent::Missing(3));
        assert_eq!(placements[6].dropped_between, 1);
        assert_eq!(placements[2].parent, NewParent::Root);
    }

    #[test]
    fn deep_chain_of_100k_spans() {
        let ids: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
        let spans: Vec<SpanView> = (0..ids.len())
            .map(|i| span(&ids[i], (i > 0).then(|| ids[i - 1].as_str())))
            .collect();
        let mut decided = vec![None; spans.len()];
        decided[spans.len() - 1] = RULE;
        let (placements, _) = structure_pass(&spans, &decided, StructureMode::KeepAncestors);
        assert!(placements.iter().all(|p| p.kept.is_some()));
        let (placements, _) = structure_pass(&spans, &decided, StructureMode::Reparent);
        assert_eq!(placements[99_999].parent, NewParent::Root);
        assert_eq!(placements[99_999].dropped_between, 99_999);
    }
}
