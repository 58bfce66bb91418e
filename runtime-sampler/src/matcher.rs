//! The compiled form of a policy's matchers: which rule decides a (service, name) pair.
//!
//! Precedence (documented on `policy_schema::Policy::rules`): matcher kind first (exact,
//! then template, then prefix, then glob), then a rule naming the span's service before a
//! service-less one, then a rule with conditions (span kind, start attributes) before
//! one without, then rule order. Each candidate gets a `Rank` encoding exactly that
//! order, and the lowest rank wins; the kinds are tried cheapest first and the search
//! stops at the first kind with a hit, since no later kind can beat it. A candidate
//! whose conditions fail is no hit: the search goes on past it. Conditions are checked
//! only on candidates whose name (and service) matched, and a rule without conditions
//! costs one branch for them, so attributes are looked up only when a candidate rule has
//! conditions.
//!
//! - exact names: one probe of an open-addressing table (hashed with a folded multiply,
//!   compared with [`bytes_eq`]; a name whose length no exact name has skips even the
//!   hash), the entries for a name pre-sorted by rank;
//! - templates: a radix trie over their literal prefixes (text before the first
//!   placeholder); walking the span name down the trie yields only the templates whose
//!   prefix it starts with, and only those are run;
//! - prefixes: the same trie shape, where reaching a node is the match;
//! - globs: a list in rank order, the first match wins.

use crate::canonical::{CanonicalBuf, canonical_text};
use crate::span::{NO_ATTRIBUTES, SpanKind, SpanStart};
use policy_schema::{Matcher, Policy, Rule, Template};
use std::collections::BTreeMap;

/// Order of a candidate: lower wins. Packs (kind, service-less, unconditional, rule
/// index).
pub(crate) type Rank = u64;

/// The kind of matcher that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// `exact`.
    Exact,
    /// `template`.
    Template,
    /// `prefix`.
    Prefix,
    /// `glob`.
    Glob,
}

/// Which rule and which of its matchers matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleMatch {
    /// Index of the rule in `Policy::rules`.
    pub rule: u32,
    /// Index of the matcher within the rule's `match` list.
    pub matcher: u32,
    /// Its kind.
    pub kind: MatchKind,
    /// Whether the rule names a service (then the span's service is the rule's).
    pub service_specific: bool,
    /// A dense index of the matcher over the whole policy (rule by rule, matcher by
    /// matcher), handy for per-matcher tables.
    pub matcher_id: u32,
}

fn rank(kind: MatchKind, has_service: bool, has_conditions: bool, rule: u32) -> Rank {
    ((kind as u64) << 40)
        | (u64::from(!has_service) << 33)
        | (u64::from(!has_conditions) << 32)
        | u64::from(rule)
}

#[derive(Debug, Clone)]
struct Entry {
    rank: Rank,
    service: Option<Box<str>>,
    /// The rule's conditions; `None` for a rule without (the common, fast case).
    conditions: Option<std::sync::Arc<Conditions>>,
    hit: RuleMatch,
}

impl Entry {
    #[inline]
    fn applies_to(&self, service: &str) -> bool {
        self.service
            .as_deref()
            .is_none_or(|s| bytes_eq(s.as_bytes(), service.as_bytes()))
    }

    /// The service matches and the conditions hold.
    #[inline]
    fn applies(&self, start: &SpanStart<'_>) -> bool {
        self.applies_to(start.service) && self.conditions_hold(start)
    }

    /// The rule's conditions hold (no conditions: one branch, no attribute lookup).
    #[inline]
    fn conditions_hold(&self, start: &SpanStart<'_>) -> bool {
        match &self.conditions {
            None => true,
            Some(conditions) => conditions.hold(start),
        }
    }
}

/// A rule's conditions on kind and start attributes, compiled.
#[derive(Debug)]
pub struct Conditions {
    kind: Option<SpanKind>,
    attributes: Vec<(Box<str>, ValueMatcher)>,
}

impl Conditions {
    /// Compiles a rule's conditions; `None` when it has none.
    fn compile(rule: &Rule, rule_index: usize) -> Result<Option<Self>, BadTemplate> {
        if !rule.has_conditions() {
            return Ok(None);
        }
        let mut attributes = Vec::with_capacity(rule.attributes.len());
        for condition in &rule.attributes {
            let matcher = match &condition.matcher {
                Matcher::Exact(text) => ValueMatcher::Exact(text.as_str().into()),
                Matcher::Prefix(text) => ValueMatcher::Prefix(text.as_str().into()),
                Matcher::Glob(pattern) => ValueMatcher::Glob(Glob::new(pattern)),
                Matcher::Template(text) => {
                    ValueMatcher::Template(Template::parse(text).map_err(|error| BadTemplate {
                        rule: rule_index,
                        template: text.clone(),
                        error,
                    })?)
                }
            };
            attributes.push((condition.key.as_str().into(), matcher));
        }
        Ok(Some(Self {
            kind: rule.kind,
            attributes,
        }))
    }

    /// Whether the span's kind and start attributes satisfy every condition.
    pub fn hold(&self, start: &SpanStart<'_>) -> bool {
        if self.kind.is_some() && self.kind != start.kind {
            return false;
        }
        self.attributes.iter().all(|(key, matcher)| {
            let Some(value) = start.attributes.attribute(key) else {
                return false;
            };
            let mut buf = CanonicalBuf::default();
            matcher.matches(canonical_text(&value, &mut buf))
        })
    }
}

/// A matcher on an attribute's canonical text.
#[derive(Debug)]
enum ValueMatcher {
    Exact(Box<str>),
    Template(Template),
    Prefix(Box<str>),
    Glob(Glob),
}

impl ValueMatcher {
    fn matches(&self, text: &str) -> bool {
        match self {
            Self::Exact(want) => bytes_eq(want.as_bytes(), text.as_bytes()),
            Self::Template(template) => template.matches(text),
            Self::Prefix(prefix) => text.starts_with(&**prefix),
            Self::Glob(glob) => glob.matches(text),
        }
    }
}

/// The compiled matchers of a policy.
#[derive(Debug, Clone, Default)]
pub struct CompiledMatchers {
    exact: ExactTable,
    templates: RadixTrie,
    /// Each template with the length of its literal prefix (precomputed: it is needed
    /// per candidate, and the template's own accessor chases two pointers).
    template_entries: Vec<(Entry, Template, usize)>,
    prefixes: RadixTrie,
    prefix_entries: Vec<Entry>,
    globs: Vec<(Entry, Glob)>,
}

/// A template in the policy that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTemplate {
    /// Rule index.
    pub rule: usize,
    /// The template text.
    pub template: String,
    /// Why.
    pub error: policy_schema::TemplateError,
}

impl CompiledMatchers {
    /// Compiles every matcher of every rule.
    pub fn compile(policy: &Policy) -> Result<Self, BadTemplate> {
        let mut compiled = Self::default();
        let mut exact: BTreeMap<&str, Vec<Entry>> = BTreeMap::new();
        let mut matcher_id = 0u32;
        for (rule_index, rule) in policy.rules.iter().enumerate() {
            let rule_u32 = u32::try_from(rule_index).unwrap_or(u32::MAX);
            let conditions = Conditions::compile(rule, rule_index)?.map(std::sync::Arc::new);
            for (matcher_index, matcher) in rule.matchers.iter().enumerate() {
                let kind = match matcher {
                    Matcher::Exact(_) => MatchKind::Exact,
                    Matcher::Template(_) => MatchKind::Template,
                    Matcher::Prefix(_) => MatchKind::Prefix,
                    Matcher::Glob(_) => MatchKind::Glob,
                };
                let entry = Entry {
                    rank: rank(kind, rule.service.is_some(), conditions.is_some(), rule_u32),
                    service: rule.service.as_deref().map(Box::from),
                    conditions: conditions.clone(),
                    hit: RuleMatch {
                        rule: rule_u32,
                        matcher: u32::try_from(matcher_index).unwrap_or(u32::MAX),
                        kind,
                        service_specific: rule.service.is_some(),
                        matcher_id,
                    },
                };
                matcher_id = matcher_id.saturating_add(1);
                match matcher {
                    Matcher::Exact(name) => exact.entry(name.as_str()).or_default().push(entry),
                    Matcher::Template(text) => {
                        let template = Template::parse(text).map_err(|error| BadTemplate {
                            rule: rule_index,
                            template: text.clone(),
                            error,
                        })?;
                        let id = compiled.template_entries.len() as u32;
                        compiled
                            .templates
                            .insert(template.literal_prefix().as_bytes(), id);
                        let prefix_len = template.literal_prefix().len();
                        compiled
                            .template_entries
                            .push((entry, template, prefix_len));
                    }
                    Matcher::Prefix(prefix) => {
                        let id = compiled.prefix_entries.len() as u32;
                        compiled.prefixes.insert(prefix.as_bytes(), id);
                        compiled.prefix_entries.push(entry);
                    }
                    Matcher::Glob(pattern) => compiled.globs.push((entry, Glob::new(pattern))),
                }
            }
        }
        for entries in exact.values_mut() {
            entries.sort_by_key(|e| e.rank);
        }
        compiled.exact = ExactTable::new(exact);
        let template_ranks: Vec<Rank> = compiled
            .template_entries
            .iter()
            .map(|(e, _, _)| e.rank)
            .collect();
        compiled.templates.finish(|id| template_ranks[id as usize]);
        let prefix_ranks: Vec<Rank> = compiled.prefix_entries.iter().map(|e| e.rank).collect();
        compiled.prefixes.finish(|id| prefix_ranks[id as usize]);
        compiled.globs.sort_by_key(|(e, _)| e.rank);
        Ok(compiled)
    }

    /// The rule that decides a span named `name` in `service` with no kind and no
    /// attributes, if any (rules with conditions do not match it).
    pub fn find(&self, service: &str, name: &str) -> Option<RuleMatch> {
        self.find_for(&SpanStart {
            trace_id: &[],
            trace_state: "",
            service,
            name,
            kind: None,
            attributes: &NO_ATTRIBUTES,
        })
    }

    /// The rule that decides a span at its start, if any.
    pub fn find_for(&self, start: &SpanStart<'_>) -> Option<RuleMatch> {
        let name = start.name;
        if let Some(entries) = self.exact.get(name.as_bytes())
            && let Some(entry) = entries.iter().find(|e| e.applies(start))
        {
            return Some(entry.hit);
        }
        let mut best: Option<&Entry> = None;
        self.templates.walk(name.as_bytes(), |ids| {
            for &id in ids {
                let (entry, template, prefix_len) = &self.template_entries[id as usize];
                if best.is_some_and(|b| b.rank <= entry.rank) {
                    break; // ids are sorted by rank: nothing later here can win
                }
                // The walk reached this node, so `name` starts with the template's literal
                // prefix: only the rest needs matching.
                let rest = name.get(*prefix_len..).unwrap_or_default();
                if entry.applies_to(start.service)
                    && template.matches_after_prefix(rest)
                    && entry.conditions_hold(start)
                {
                    best = Some(entry);
                    break;
                }
            }
        });
        if let Some(entry) = best {
            return Some(entry.hit);
        }
        self.prefixes.walk(name.as_bytes(), |ids| {
            if let Some(entry) = ids
                .iter()
                .map(|&id| &self.prefix_entries[id as usize])
                .take_while(|e| best.is_none_or(|b| e.rank < b.rank))
                .find(|e| e.applies(start))
            {
                best = Some(entry);
            }
        });
        if let Some(entry) = best {
            return Some(entry.hit);
        }
        self.globs
            .iter()
            .find(|(entry, glob)| {
                entry.applies_to(start.service)
                    && glob.matches(name)
                    && entry.conditions_hold(start)
            })
            .map(|(entry, _)| entry.hit)
    }
}

/// Exact names and their entries: an open-addressing table with linear probing, at
/// most half full. Span names come from traffic, but the table only holds the policy's
/// names, so no input can lengthen a probe beyond the clusters the policy made.
#[derive(Debug, Clone, Default)]
struct ExactTable {
    /// Bit `n` is set when some exact name is `n` bytes long (bit 63: 63 or more), so
    /// most names of other kinds are rejected without hashing.
    lengths: u64,
    /// Power-of-two many slots: 0 is empty, `i + 1` points at `names[i]`.
    slots: Vec<u32>,
    names: Vec<ExactName>,
    /// Every name's bytes, back to back, and every name's entries, contiguous per name:
    /// a hit reads the slot, the name's record and these, with no heap block per name.
    text: Vec<u8>,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Copy)]
struct ExactName {
    hash: u64,
    /// `text[text_start..text_start + len]`.
    text_start: u32,
    len: u32,
    /// `entries[entries_start..entries_start + entry_count]`, sorted by rank.
    entries_start: u32,
    entry_count: u32,
}

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl ExactTable {
    fn new(names: BTreeMap<&str, Vec<Entry>>) -> Self {
        let slot_count = (names.len() * 2).next_power_of_two().max(8);
        let mut table = Self {
            lengths: 0,
            slots: vec![0; slot_count],
            names: Vec::with_capacity(names.len()),
            text: Vec::new(),
            entries: Vec::new(),
        };
        for (name, entries) in names {
            let hash = name_hash(name.as_bytes());
            table.lengths |= length_bit(name.len());
            let mut slot = hash as usize & (slot_count - 1);
            while table.slots[slot] != 0 {
                slot = (slot + 1) & (slot_count - 1);
            }
            table.names.push(ExactName {
                hash,
                text_start: table.text.len() as u32,
                len: name.len() as u32,
                entries_start: table.entries.len() as u32,
                entry_count: entries.len() as u32,
            });
            table.text.extend_from_slice(name.as_bytes());
            table.entries.extend(entries);
            table.slots[slot] = table.names.len() as u32;
        }
        table
    }

    fn get(&self, name: &[u8]) -> Option<&[Entry]> {
        if self.lengths & length_bit(name.len()) == 0 {
            return None;
        }
        let hash = name_hash(name);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let found = self
                .names
                .get((self.slots[slot] as usize).checked_sub(1)?)?;
            if found.hash == hash {
                let start = found.text_start as usize;
                let text = self.text.get(start..start + found.len as usize)?;
                if bytes_eq(text, name) {
                    let start = found.entries_start as usize;
                    return self.entries.get(start..start + found.entry_count as usize);
                }
            }
            slot = (slot + 1) & mask;
        }
    }
}

/// A fast 64-bit hash of a short byte string through folded multiplies (the full
/// 128-bit product's halves xored, as in aHash's fallback), which mix every input bit
/// into the low bits that pick a slot. A name of 8 to 32 bytes is read as four
/// overlapping words (the first 16 bytes and the last 16, so every byte is read) on one
/// path, whatever its length: names of 16 and 17 bytes both occur, and a branch on the
/// length there mispredicts (measured under callgrind's branch simulation); the two
/// multiplies are independent. Longer names take one multiply per 16 bytes more.
#[inline]
fn name_hash(bytes: &[u8]) -> u64 {
    const KEYS: [u64; 5] = [
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
        0x4528_21e6_38d0_1377,
    ];
    let fold = |a: u64, b: u64| {
        let product = u128::from(a) * u128::from(b);
        (product as u64) ^ ((product >> 64) as u64)
    };
    let len = bytes.len();
    let mut hash = KEYS[0] ^ len as u64;
    let (a, b, c, d) = if len >= 8 {
        // Every read stays inside the name: `8.min(len - 8) + 8 <= len`.
        (
            word_at(bytes, 0),
            word_at(bytes, 8.min(len - 8)),
            word_at(bytes, len.saturating_sub(16)),
            word_at(bytes, len - 8),
        )
    } else {
        let small = match len {
            0 => 0,
            1..=3 => {
                u64::from(bytes[0])
                    | u64::from(bytes[len / 2]) << 8
                    | u64::from(bytes[len - 1]) << 16
            }
            _ => u64::from(half_word_at(bytes, 0)) | u64::from(half_word_at(bytes, len - 4)) << 32,
        };
        (small, 0, 0, 0)
    };
    // The middle of a name longer than 32 bytes, 16 bytes at a time.
    let mut at = 16;
    while at + 16 < len {
        hash = fold(
            word_at(bytes, at) ^ hash ^ KEYS[1],
            word_at(bytes, at + 8) ^ KEYS[2],
        );
        at += 16;
    }
    let head = fold(a ^ hash ^ KEYS[1], b ^ KEYS[2]);
    let tail = fold(c ^ KEYS[3], d ^ KEYS[4]);
    fold(head ^ tail.rotate_left(23), KEYS[1])
}

/// A radix trie from byte strings to lists of entry ids: edges carry whole runs of bytes,
/// so a walk compares slices rather than single bytes.
#[derive(Debug, Clone)]
struct RadixTrie {
    nodes: Vec<TrieNode>,
    /// Every edge label, back to back: one allocation, so a walk's labels sit near each
    /// other in cache instead of in one heap block each.
    labels: Vec<u8>,
}

impl Default for RadixTrie {
    fn default() -> Self {
        Self {
            nodes: vec![TrieNode::default()],
            labels: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    /// `edges[i].label[0]`, contiguous so finding the edge to follow is one short scan
    /// of bytes, without chasing pointers.
    firsts: Vec<u8>,
    /// For nodes with many edges: per byte value, 1 + the index of the edge starting
    /// with it (0: none). A linear scan there exits at an unpredictable position (the
    /// digit after `svc` in `/svc7/...`), and its mispredicted branches cost more than
    /// this one load.
    edge_by_first: Box<[u16]>,
    edges: Vec<Edge>,
    ids: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Edge {
    /// The label is `labels[label_start..label_start + label_len]`.
    label_start: u32,
    label_len: u32,
    child: u32,
}

impl RadixTrie {
    fn label(&self, edge: &Edge) -> &[u8] {
        let start = edge.label_start as usize;
        self.labels
            .get(start..start + edge.label_len as usize)
            .unwrap_or_default()
    }

    fn insert(&mut self, key: &[u8], id: u32) {
        let mut node = 0usize;
        let mut rest = key;
        loop {
            let Some(&first) = rest.first() else {
                self.nodes[node].ids.push(id);
                return;
            };
            let found = self.nodes[node].firsts.iter().position(|&b| b == first);
            let Some(edge_index) = found else {
                let child = self.nodes.len() as u32;
                self.nodes.push(TrieNode {
                    ids: vec![id],
                    ..TrieNode::default()
                });
                let label_start = self.labels.len() as u32;
                self.labels.extend_from_slice(rest);
                self.nodes[node].firsts.push(first);
                self.nodes[node].edges.push(Edge {
                    label_start,
                    label_len: rest.len() as u32,
                    child,
                });
                return;
            };
            let label = self.label(&self.nodes[node].edges[edge_index]);
            let common = label.iter().zip(rest).take_while(|(a, b)| a == b).count();
            if common < label.len() {
                // Split the edge: node -label[..common]-> middle -label[common..]-> child.
                let tail_first = label[common];
                let middle = self.nodes.len() as u32;
                let edge = &mut self.nodes[node].edges[edge_index];
                let tail = Edge {
                    label_start: edge.label_start + common as u32,
                    label_len: edge.label_len - common as u32,
                    child: edge.child,
                };
                edge.label_len = common as u32;
                edge.child = middle;
                self.nodes.push(TrieNode {
                    firsts: vec![tail_first],
                    edges: vec![tail],
                    ..TrieNode::default()
                });
            }
            node = self.nodes[node].edges[edge_index].child as usize;
            rest = &rest[common..];
        }
    }

    /// Sorts each node's ids by rank and indexes the edges of busy nodes; call once
    /// every key is inserted.
    fn finish(&mut self, rank_of: impl Fn(u32) -> Rank) {
        /// Nodes with at least this many edges get a byte-indexed table.
        const INDEXED_FROM: usize = 4;
        for node in &mut self.nodes {
            node.ids.sort_by_key(|&id| rank_of(id));
            if node.edges.len() >= INDEXED_FROM {
                let mut table = vec![0u16; 256];
                for (i, &first) in node.firsts.iter().enumerate() {
                    table[usize::from(first)] = (i + 1) as u16;
                }
                node.edge_by_first = table.into();
            }
        }
    }

    /// Calls `visit` with the ids of every key that is a prefix of `text`, shortest first.
    fn walk(&self, text: &[u8], mut visit: impl FnMut(&[u32])) {
        let mut node = &self.nodes[0];
        let mut rest = text;
        loop {
            if !node.ids.is_empty() {
                visit(&node.ids);
            }
            let Some(&first) = rest.first() else { return };
            let edge_index = match node.edge_by_first.get(usize::from(first)) {
                Some(&slot) => usize::from(slot).checked_sub(1),
                None => node.firsts.iter().position(|&b| b == first),
            };
            let Some(edge) = edge_index.and_then(|i| node.edges.get(i)) else {
                return;
            };
            match rest.split_at_checked(edge.label_len as usize) {
                Some((head, tail)) if bytes_eq(head, self.label(edge)) => {
                    rest = tail;
                    node = &self.nodes[edge.child as usize];
                }
                _ => return,
            }
        }
    }
}

/// Equality of short byte strings, eight bytes at a time, inline: span names, services
/// and trie labels are short, and a call into libc's `memcmp` per comparison cost more
/// than the comparison (measured: 40% of matching time). The tail is compared as one
/// overlapping word rather than byte by byte (the byte loop was 9% of decision time).
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let len = a.len();
    if len >= 8 {
        let mut at = 0;
        while at + 8 < len {
            if word_at(a, at) != word_at(b, at) {
                return false;
            }
            at += 8;
        }
        return word_at(a, len - 8) == word_at(b, len - 8);
    }
    if len >= 4 {
        return half_word_at(a, 0) == half_word_at(b, 0)
            && half_word_at(a, len - 4) == half_word_at(b, len - 4);
    }
    // 0 to 3 bytes: the first, middle and last byte cover them all.
    len == 0 || (a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1])
}

/// The eight bytes of `bytes` at `at` as one word (callers keep `at + 8 <= len`).
fn word_at(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}

/// The four bytes of `bytes` at `at` as one word (callers keep `at + 4 <= len`).
fn half_word_at(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

/// A glob: `*` matches any run of characters, `?` exactly one, everything else itself.
#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<GlobToken>,
    /// Literal text every match starts with (before the first `*` or `?`).
    fixed_prefix: String,
    /// Literal text every match ends with (after the last `*` or `?`).
    fixed_suffix: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobToken {
    Star,
    AnyChar,
    Char(char),
}

impl Glob {
    /// Compiles a pattern (every pattern is valid).
    pub fn new(pattern: &str) -> Self {
        let mut tokens = Vec::new();
        for c in pattern.chars() {
            let token = match c {
                '*' => GlobToken::Star,
                '?' => GlobToken::AnyChar,
                c => GlobToken::Char(c),
            };
            // Consecutive stars are one star.
            if !(token == GlobToken::Star && tokens.last() == Some(&GlobToken::Star)) {
                tokens.push(token);
            }
        }
        let literal = |tokens: &mut dyn Iterator<Item = &GlobToken>| -> Vec<char> {
            tokens
                .map_while(|t| match t {
                    GlobToken::Char(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        let fixed_prefix: String = literal(&mut tokens.iter()).into_iter().collect();
        let fixed_suffix: String = if fixed_prefix.chars().count() == tokens.len() {
            String::new() // no wildcard: the prefix is the whole pattern
        } else {
            literal(&mut tokens.iter().rev())
                .into_iter()
                .rev()
                .collect()
        };
        Self {
            tokens,
            fixed_prefix,
            fixed_suffix,
        }
    }

    /// Whether the whole of `text` matches. Linear-time backtracking to the last star
    /// (the classic wildcard algorithm): O(pattern x text) worst case, no recursion.
    pub fn matches(&self, text: &str) -> bool {
        // Cheap rejections first: most names fail on the literal ends.
        let (text_bytes, prefix, suffix) = (
            text.as_bytes(),
            self.fixed_prefix.as_bytes(),
            self.fixed_suffix.as_bytes(),
        );
        if text_bytes.len() < prefix.len().max(suffix.len())
            || !bytes_eq(&text_bytes[..prefix.len()], prefix)
            || !bytes_eq(&text_bytes[text_bytes.len() - suffix.len()..], suffix)
        {
            return false;
        }
        let tokens = &self.tokens;
        let mut token_at = 0;
        let mut text_at = 0;
        let mut resume: Option<(usize, usize)> = None;
        while text_at < text.len() {
            let c = text[text_at..].chars().next().unwrap_or_default();
            match tokens.get(token_at) {
                Some(GlobToken::Star) => {
                    token_at += 1;
                    resume = Some((token_at, text_at));
                    continue;
                }
                Some(GlobToken::AnyChar) => {
                    token_at += 1;
                    text_at += c.len_utf8();
                    continue;
                }
                Some(GlobToken::Char(want)) if *want == c => {
                    token_at += 1;
                    text_at += c.len_utf8();
                    continue;
                }
                _ => {}
            }
            match resume {
                Some((after_star, star_text_at)) => {
                    let skipped = text[star_text_at..].chars().next().unwrap_or_default();
                    let next = star_text_at + skipped.len_utf8();
                    resume = Some((after_star, next));
                    token_at = after_star;
                    text_at = next;
                }
                None => return false,
            }
        }
        tokens[token_at..].iter().all(|t| *t == GlobToken::Star)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::AttributeValue;
    use policy_schema::{Action, Generator};

    fn rule(id: &str, service: Option<&str>, matchers: Vec<Matcher>) -> Rule {
        Rule {
            id: id.into(),
            service: service.map(Into::into),
            matchers,
            action: Action::Keep,
            profile: None,
            kind: None,
            attributes: Vec::new(),
            evidence: None,
        }
    }

    fn policy(rules: Vec<Rule>) -> Policy {
        Policy {
            schema: None,
            version: 1,
            generator: Generator {
                tool: "test".into(),
                version: "0".into(),
                source_root: None,
                arguments: Vec::new(),
            },
            target_reduction: 0.5,
            default_action: Action::Keep,
            overrides: Default::default(),
            structure: Default::default(),
            budget: None,
            rules,
        }
    }

    fn winner(matchers: &CompiledMatchers, service: &str, name: &str) -> Option<u32> {
        matchers.find(service, name).map(|m| m.rule)
    }

    #[test]
    fn precedence_is_kind_then_service_then_order() {
        use Matcher::*;
        let compiled = CompiledMatchers::compile(&policy(vec![
            rule("glob", Some("a"), vec![Glob("/orders*".into())]),
            rule("prefix-any", None, vec![Prefix("/orders".into())]),
            rule("prefix-a", Some("a"), vec![Prefix("/ord".into())]),
            rule("template-any", None, vec![Template("/orders/{id}".into())]),
            rule(
                "template-a",
                Some("a"),
                vec![Template("/orders/{id}".into())],
            ),
            rule("exact-any", None, vec![Exact("/orders/1".into())]),
            rule("exact-a", Some("a"), vec![Exact("/orders/1".into())]),
        ]))
        .unwrap();
        assert_eq!(winner(&compiled, "a", "/orders/1"), Some(6));
        assert_eq!(winner(&compiled, "b", "/orders/1"), Some(5));
        assert_eq!(winner(&compiled, "a", "/orders/2"), Some(4));
        assert_eq!(winner(&compiled, "b", "/orders/2"), Some(3));
        assert_eq!(winner(&compiled, "a", "/orders"), Some(2));
        assert_eq!(winner(&compiled, "b", "/orders"), Some(1));
        assert_eq!(winner(&compiled, "b", "/ord"), None);
        assert_eq!(winner(&compiled, "a", "/ordersX"), Some(2));
    }

    fn conditional(
        id: &str,
        service: Option<&str>,
        matchers: Vec<Matcher>,
        kind: Option<SpanKind>,
        attributes: &[(&str, Matcher)],
    ) -> Rule {
        Rule {
            kind,
            attributes: attributes
                .iter()
                .map(|(key, matcher)| policy_schema::AttributeCondition {
                    key: (*key).into(),
                    matcher: matcher.clone(),
                })
                .collect(),
            ..rule(id, service, matchers)
        }
    }

    fn winner_of(
        matchers: &CompiledMatchers,
        service: &str,
        name: &str,
        kind: Option<SpanKind>,
        attributes: &[(&str, AttributeValue<'_>)],
    ) -> Option<u32> {
        matchers
            .find_for(&SpanStart {
                trace_id: b"",
                trace_state: "",
                service,
                name,
                kind,
                attributes: &attributes,
            })
            .map(|m| m.rule)
    }

    #[test]
    fn conditions_come_after_kind_and_service_and_before_order() {
        use crate::span::AttributeValue as V;
        use Matcher::*;
        let compiled = CompiledMatchers::compile(&policy(vec![
            rule("get-any", None, vec![Exact("GET".into())]),
            conditional(
                "get-payments",
                None,
                vec![Exact("GET".into())],
                Some(SpanKind::Client),
                &[("server.address", Exact("payments".into()))],
            ),
            rule("get-a", Some("a"), vec![Exact("GET".into())]),
            conditional(
                "get-route",
                None,
                vec![Template("{verb}".into())],
                None,
                &[("http.route", Template("/orders/{id}".into()))],
            ),
        ]))
        .unwrap();
        let payments = [("server.address", V::Str("payments"))];
        // The conditional rule beats the earlier unconditional one of the same kind.
        assert_eq!(
            winner_of(&compiled, "b", "GET", Some(SpanKind::Client), &payments),
            Some(1)
        );
        // A failing condition (kind, value, absence) falls through to the next rank.
        assert_eq!(
            winner_of(&compiled, "b", "GET", Some(SpanKind::Server), &payments),
            Some(0)
        );
        assert_eq!(winner_of(&compiled, "b", "GET", None, &payments), Some(0));
        let other = [("server.address", V::Str("orders"))];
        assert_eq!(
            winner_of(&compiled, "b", "GET", Some(SpanKind::Client), &other),
            Some(0)
        );
        assert_eq!(
            winner_of(&compiled, "b", "GET", Some(SpanKind::Client), &[]),
            Some(0)
        );
        // A service-specific rule beats a service-less conditional one.
        assert_eq!(
            winner_of(&compiled, "a", "GET", Some(SpanKind::Client), &payments),
            Some(2)
        );
        // `find` sees no attributes: conditional rules never match there.
        assert_eq!(winner(&compiled, "b", "GET"), Some(0));
        assert_eq!(winner(&compiled, "b", "POST"), None);
        // A template condition on a name the exact rules do not cover.
        let route = [("http.route", V::Str("/orders/7"))];
        assert_eq!(winner_of(&compiled, "b", "POST", None, &route), Some(3));
        let route = [("http.route", V::Str("/orders/7/items"))];
        assert_eq!(winner_of(&compiled, "b", "POST", None, &route), None);
    }

    #[test]
    fn conditions_compare_canonical_text_of_every_type() {
        use crate::span::AttributeValue as V;
        use Matcher::*;
        let compiled = CompiledMatchers::compile(&policy(vec![
            conditional(
                "int",
                None,
                vec![Prefix("op".into())],
                None,
                &[("n", Exact("-12".into()))],
            ),
            conditional(
                "bool",
                None,
                vec![Prefix("op".into())],
                None,
                &[("b", Exact("true".into()))],
            ),
            conditional(
                "double",
                None,
                vec![Prefix("op".into())],
                None,
                &[("d", Glob("0.5*".into()))],
            ),
            conditional(
                "both",
                None,
                vec![Glob("x*".into())],
                Some(SpanKind::Producer),
                &[("q", Prefix("".into())), ("q", Exact("".into()))],
            ),
        ]))
        .unwrap();
        assert_eq!(
            winner_of(&compiled, "s", "op", None, &[("n", V::Int(-12))]),
            Some(0)
        );
        assert_eq!(
            winner_of(&compiled, "s", "op", None, &[("n", V::Str("-12"))]),
            Some(0)
        );
        assert_eq!(
            winner_of(&compiled, "s", "op", None, &[("n", V::Int(12))]),
            None
        );
        assert_eq!(
            winner_of(&compiled, "s", "op", None, &[("b", V::Bool(true))]),
            Some(1)
        );
        assert_eq!(
            winner_of(&compiled, "s", "op", None, &[("d", V::Double(0.5))]),
            Some(2)
        );
        assert_eq!(
            winner_of(&compiled, "s", "op", None, &[("d", V::Double(0.25))]),
            None
        );
        let empty = [("q", V::Str(""))];
        assert_eq!(
            winner_of(&compiled, "s", "xy", Some(SpanKind::Producer), &empty),
            Some(3)
        );
        assert_eq!(
            winner_of(&compiled, "s", "xy", Some(SpanKind::Consumer), &empty),
            None
        );
        assert_eq!(
            winner_of(&compiled, "s", "xy", Some(SpanKind::Producer), &[]),
            None
        );
    }

    #[test]
    fn earlier_prefix_beats_longer_prefix() {
        use Matcher::*;
        let compiled = CompiledMatchers::compile(&policy(vec![
            rule("short", None, vec![Prefix("/a".into())]),
            rule("long", None, vec![Prefix("/a/b/c".into())]),
        ]))
        .unwrap();
        assert_eq!(winner(&compiled, "s", "/a/b/c/d"), Some(0));
    }

    #[test]
    fn templates_sharing_prefixes() {
        use Matcher::*;
        let compiled = CompiledMatchers::compile(&policy(vec![
            rule("items", None, vec![Template("/api/v1/items/{id}".into())]),
            rule(
                "item-parts",
                None,
                vec![Template("/api/v1/items/{id}/parts".into())],
            ),
            rule(
                "any-api",
                None,
                vec![Template("/api/{version}/{rest:**}".into())],
            ),
            rule("verb", None, vec![Template("{verb} /x".into())]),
        ]))
        .unwrap();
        assert_eq!(winner(&compiled, "s", "/api/v1/items/3"), Some(0));
        assert_eq!(winner(&compiled, "s", "/api/v1/items/3/parts"), Some(1));
        assert_eq!(winner(&compiled, "s", "/api/v2/other/3"), Some(2));
        assert_eq!(winner(&compiled, "s", "GET /x"), Some(3));
        assert_eq!(winner(&compiled, "s", "/apx"), None);
    }

    #[test]
    fn byte_equality() {
        // Every length up to 20, a difference at every position.
        for len in 0..20usize {
            let a: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            assert!(bytes_eq(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 1;
                assert!(!bytes_eq(&a, &b), "len {len}, difference at {at}");
            }
        }
        assert!(bytes_eq(b"", b""));
        assert!(bytes_eq(b"0123456789abcdefXYZ", b"0123456789abcdefXYZ"));
        assert!(!bytes_eq(b"0123456789abcdefXYZ", b"0123456789abcdefXYz"));
        assert!(!bytes_eq(b"0123456x89", b"0123456789"));
        assert!(!bytes_eq(b"ab", b"abc"));
    }

    #[test]
    fn exact_table_finds_every_name_and_nothing_else() {
        let names: Vec<String> = (0..1000).map(|i| format!("Service.method{i}")).collect();
        let entry = |i: u32| Entry {
            rank: u64::from(i),
            service: None,
            conditions: None,
            hit: RuleMatch {
                rule: i,
                matcher: 0,
                kind: MatchKind::Exact,
                service_specific: false,
                matcher_id: i,
            },
        };
        let table = ExactTable::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), vec![entry(i as u32)]))
                .collect(),
        );
        for (i, name) in names.iter().enumerate() {
            let found = table.get(name.as_bytes()).map(|e| e[0].hit.rule);
            assert_eq!(found, Some(i as u32), "{name}");
        }
        for missing in [
            "Service.method1000",
            "Service.method",
            "",
            "x",
            "Service.method12 ",
        ] {
            assert!(table.get(missing.as_bytes()).is_none(), "{missing}");
        }
    }

    #[test]
    fn name_hash_reads_every_byte() {
        // Every length up to 80 (one word, two overlapping words, 16-byte blocks with an
        // overlapping last block), a change at every position changes the hash.
        for len in 1..80usize {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let hash = name_hash(&name);
            for at in 0..len {
                let mut changed = name.clone();
                changed[at] = b'Z';
                assert_ne!(name_hash(&changed), hash, "len {len}, change at {at}");
            }
            let longer = [name.as_slice(), b"a"].concat();
            assert_ne!(name_hash(&longer), hash, "len {len}, one byte more");
        }
    }

    #[test]
    fn globs() {
        let glob = Glob::new("*/health?");
        assert!(glob.matches("/a/b/healthz"));
        assert!(!glob.matches("/a/b/health"));
        assert!(Glob::new("*.css").matches("/static/é.css"));
        assert!(Glob::new("**").matches(""));
        assert!(!Glob::new("a*b*c").matches("abcb"));
        assert!(Glob::new("a*b*c").matches("aXbYbZc"));
    }
}
