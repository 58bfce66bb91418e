//! The cost model of a policy, read from the call graph: which span sites can be the
//! parent of which (within a service along calls, across services from a client span
//! to the server span it calls), how many spans each site makes per request (loops
//! multiply, see [`LOOP_ITERATIONS`]), and how many spans hang below one span of a site.
//!
//! Rates are made monotone on the parent relation (a parent's rate is at least its
//! child's), so with one randomness per trace a span kept by its rule has its parent
//! kept by its own rule: ancestors are paid for by their own rates, and the expected
//! kept volume of rule `r` is `volume × (rate + (1 - rate) × P(override below))`, where
//! an override (error or latency outlier) anywhere in the span's subtree keeps it as an
//! ancestor. [`expected_kept_share`] is that formula.

use crate::conventions::EntryKind;
use crate::graph::{CallGraph, EdgeKind, Program};
use crate::spans::{SiteKind, SpanSite};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

/// Iterations assumed for a call inside a loop (a repository call per item, a message
/// per order): the code does not say how many items there are.
pub const LOOP_ITERATIONS: f64 = 10.0;
/// Share of spans assumed to end in error when no trace sample tells.
pub const STATIC_ERROR_SHARE: f64 = 0.005;
/// Spans above a span site without a parent in the code that are kept with it: its
/// caller's client span and, behind a gateway or a front end, the server span that made
/// the call — code the analysis does not see, sampled by the default action, but kept as
/// ancestors whenever anything below is kept.
pub const UNSEEN_CALLER_SPANS: f64 = 2.0;
/// Upper bound on spans per request and descendants per span (recursion, nested loops).
const MAX_SPANS: f64 = 1e6;
/// Nodes one upward walk visits at most.
const MAX_WALK: usize = 20_000;

/// A site that can be the parent of another, and how many child spans one of its spans
/// makes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParentLink {
    /// Index of the parent site.
    pub parent: usize,
    /// Child spans per parent span.
    pub calls: f64,
}

/// The span sites as a graph of possible parents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteGraph {
    /// Possible parents of each site, by parent index.
    pub parents: Vec<Vec<ParentLink>>,
    /// Estimated spans per round of requests (one to every entry point) of each site (a
    /// site without parents: 1).
    pub volume: Vec<f64>,
    /// Estimated spans below one span of each site.
    pub descendants: Vec<f64>,
    /// Possible parents the estimates leave out: the requests a framework forwards with
    /// no destination the code shows (a gateway's), parents of every HTTP entry of
    /// another service that has no parent in the code. They bind rates (monotone) but
    /// not volumes: such an entry's callers still count as unseen.
    pub forwarded_from: Vec<Vec<usize>>,
}

fn call_in_loop(program: &Program, graph: &CallGraph, node: NodeIndex, call: usize) -> bool {
    let n = &graph.graph[node];
    program.files[n.file].functions[n.function]
        .calls
        .get(call)
        .is_some_and(|c| c.in_loop)
}

impl SiteGraph {
    /// Builds the parent relation and the estimates.
    pub fn build(program: &Program, graph: &CallGraph, sites: &[SpanSite]) -> Self {
        let mut entries_at: HashMap<NodeIndex, Vec<usize>> = HashMap::new();
        let mut clients_at: HashMap<(NodeIndex, usize), Vec<usize>> = HashMap::new();
        for (i, site) in sites.iter().enumerate() {
            if site.kind.is_entry() {
                entries_at.entry(site.node).or_default().push(i);
            } else if let Some(effect) = site.effect {
                clients_at
                    .entry((site.node, graph.effects[effect].call))
                    .or_default()
                    .push(i);
            }
        }
        // Nearest entry-like sites above `start` along calls within the service.
        let walk_up = |start: NodeIndex, calls: f64, out: &mut BTreeMap<usize, f64>| {
            let mut seen = BTreeSet::from([start]);
            let mut queue = VecDeque::from([(start, calls)]);
            while let Some((node, calls)) = queue.pop_front() {
                if seen.len() > MAX_WALK {
                    break;
                }
                for edge in graph.graph.edges_directed(node, Direction::Incoming) {
                    if edge.weight().kind != EdgeKind::Call || !seen.insert(edge.source()) {
                        continue;
                    }
                    let calls = if edge.weight().in_loop {
                        (calls * LOOP_ITERATIONS).min(MAX_SPANS)
                    } else {
                        calls
                    };
                    match entries_at.get(&edge.source()) {
                        Some(parents) => {
                            for &p in parents {
                                let slot = out.entry(p).or_insert(0.0);
                                *slot = slot.max(calls);
                            }
                        }
                        None => queue.push_back((edge.source(), calls)),
                    }
                }
            }
        };
        // A consumer span's parent is the producer span of a message to its destination
        // (the agents propagate context through message headers).
        let mut producers_to: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, site) in sites.iter().enumerate() {
            if site.kind != SiteKind::Producer {
                continue;
            }
            let Some(effect) = site.effect.map(|e| &graph.effects[e].effect) else {
                continue;
            };
            if let Some(destination) = effect.attr("destination") {
                let system = effect.attr("system").unwrap_or("");
                producers_to
                    .entry((system, destination))
                    .or_default()
                    .push(i);
            }
        }
        let consumed_at = |node: NodeIndex| {
            graph
                .entries
                .iter()
                .filter(move |e| e.node == node && e.entry.kind == EntryKind::Consumer)
                .filter_map(|e| {
                    let destination = e.entry.attr("destination")?;
                    Some((e.entry.attr("system").unwrap_or(""), destination))
                })
        };
        let mut parents = Vec::with_capacity(sites.len());
        for (i, site) in sites.iter().enumerate() {
            let mut found: BTreeMap<usize, f64> = BTreeMap::new();
            if site.kind == SiteKind::Consumer {
                for key in consumed_at(site.node) {
                    for &producer in producers_to.get(&key).into_iter().flatten() {
                        found.insert(producer, 1.0);
                    }
                }
            }
            if site.kind.is_entry() {
                for edge in graph.graph.edges_directed(site.node, Direction::Incoming) {
                    if edge.weight().kind == EdgeKind::Call {
                        continue;
                    }
                    for &client in clients_at
                        .get(&(edge.source(), edge.weight().call))
                        .into_iter()
                        .flatten()
                    {
                        found.insert(client, 1.0);
                    }
                }
                walk_up(site.node, 1.0, &mut found);
            } else {
                let call = site.effect.map(|e| graph.effects[e].call);
                let calls = match call {
                    Some(call) if call_in_loop(program, graph, site.node, call) => LOOP_ITERATIONS,
                    // A framework's span inside a request (its error page) comes with
                    // the requests that fail, not with every one.
                    _ if site.kind == SiteKind::Internal && !site.every_request => {
                        STATIC_ERROR_SHARE
                    }
                    _ => 1.0,
                };
                match entries_at.get(&site.node) {
                    Some(entries) => {
                        for &p in entries {
                            found.insert(p, calls);
                        }
                    }
                    None => walk_up(site.node, calls, &mut found),
                }
            }
            found.remove(&i);
            parents.push(
                found
                    .into_iter()
                    .map(|(parent, calls)| ParentLink { parent, calls })
                    .collect(),
            );
        }
        let mut graph_sites = Self::from_parents(parents);
        let forwards: Vec<usize> = (0..sites.len())
            .filter(|&i| sites[i].kind == SiteKind::Client && sites[i].effect.is_none())
            .collect();
        if !forwards.is_empty() {
            for (i, site) in sites.iter().enumerate() {
                let http_entry = graph
                    .entries
                    .iter()
                    .any(|e| e.node == site.node && e.entry.kind == EntryKind::Http);
                if site.kind != SiteKind::Server
                    || !http_entry
                    || !graph_sites.parents[i].is_empty()
                {
                    continue;
                }
                graph_sites.forwarded_from[i] = forwards
                    .iter()
                    .copied()
                    .filter(|&f| sites[f].service != site.service)
                    .collect();
            }
        }
        graph_sites
    }

    /// The estimates of a parent relation (cycles are cut where a walk meets itself).
    pub fn from_parents(parents: Vec<Vec<ParentLink>>) -> Self {
        let n = parents.len();
        let mut children: Vec<Vec<ParentLink>> = vec![Vec::new(); n];
        for (child, links) in parents.iter().enumerate() {
            for link in links {
                children[link.parent].push(ParentLink {
                    parent: child,
                    calls: link.calls,
                });
            }
        }
        let volume = accumulate(&parents, false);
        let descendants = accumulate(&children, true);
        Self {
            forwarded_from: vec![Vec::new(); n],
            parents,
            volume,
            descendants,
        }
    }
}

/// Over parent links (`descending` false): volume = Σ calls × parent volume, 1 without
/// parents. Over child links (`descending` true): descendants = Σ calls × (1 + child
/// descendants). Iterative depth-first order; a link back into the node's own walk
/// counts 0 (a cycle says nothing about how often it turns).
fn accumulate(links: &[Vec<ParentLink>], descending: bool) -> Vec<f64> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let n = links.len();
    let mut value = vec![0.0; n];
    let mut state = vec![State::New; n];
    for root in 0..n {
        if state[root] != State::New {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = State::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(link) = links[node].get(*next) {
                *next += 1;
                if state[link.parent] == State::New {
                    state[link.parent] = State::Open;
                    stack.push((link.parent, 0));
                }
                continue;
            }
            let sum: f64 = links[node]
                .iter()
                .filter(|l| state[l.parent] == State::Done)
                .map(|l| {
                    let linked = value[l.parent];
                    l.calls * if descending { 1.0 + linked } else { linked }
                })
                .sum();
            let own = if descending || !links[node].is_empty() {
                sum
            } else {
                1.0
            };
            value[node] = own.min(MAX_SPANS);
            state[node] = State::Done;
            stack.pop();
        }
    }
    value
}

/// What keeping one rule's spans costs, per span: its own rate plus the chance that an
/// override fires on the span or on one of `descendants` spans below it (then the span
/// is kept as an ancestor), with `override_share` of spans firing independently.
pub fn expected_kept_share(rate: f64, descendants: f64, override_share: f64) -> f64 {
    let rate = rate.clamp(0.0, 1.0);
    let fired = 1.0 - (1.0 - override_share.clamp(0.0, 1.0)).powf(1.0 + descendants.max(0.0));
    rate + (1.0 - rate) * fired
}

/// Share of spans the latency override flags on healthy traffic: for durations with an
/// exponential tail, `P(d > median + t × 1.4826 × MAD) = ½ e^(-0.7134 t)` (the MAD of an
/// exponential is 0.4812 / λ and its median ln 2 / λ).
pub fn latency_outlier_share(threshold: f64) -> f64 {
    0.5 * (-1.4826 * 0.4812 * threshold.max(0.0)).exp()
}

/// A parent relation between rules, with one site pair that shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleEdge {
    /// The rule that can be the parent.
    pub parent: usize,
    /// A site of the child rule.
    pub child_site: usize,
    /// A site of the parent rule that can be its parent.
    pub parent_site: usize,
}

/// The cost model per rule draft.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleCosts {
    /// Estimated spans per round of requests matched by each rule.
    pub volume: Vec<f64>,
    /// Estimated spans below one span of each rule (volume-weighted over its sites).
    pub descendants: Vec<f64>,
    /// Rules that can be the parent of each rule (never itself).
    pub parents: Vec<Vec<RuleEdge>>,
    /// Rules whose spans have no parent in the code (their callers are unseen, whatever
    /// forwarded requests bind their rates).
    pub unseen_callers: Vec<bool>,
}

impl RuleCosts {
    /// Rules of one span each, unrelated: for callers without a call graph.
    pub fn flat(rules: usize) -> Self {
        Self {
            volume: vec![1.0; rules],
            descendants: vec![0.0; rules],
            parents: vec![Vec::new(); rules],
            unseen_callers: vec![true; rules],
        }
    }

    /// The model of rules whose member sites are `members` (a site in several rules,
    /// one per profile naming it, splits its volume among them).
    pub fn of(members: &[Vec<usize>], sites: &SiteGraph) -> Self {
        let mut rules_of_site: HashMap<usize, Vec<usize>> = HashMap::new();
        for (rule, sites) in members.iter().enumerate() {
            for &site in sites {
                rules_of_site.entry(site).or_default().push(rule);
            }
        }
        let mut out = Self::flat(members.len());
        for (rule, member_sites) in members.iter().enumerate() {
            let (mut volume, mut weighted) = (0.0, 0.0);
            let mut edges: BTreeMap<usize, RuleEdge> = BTreeMap::new();
            for &site in member_sites {
                let share = sites.volume[site] / rules_of_site[&site].len() as f64;
                volume += share;
                weighted += share * sites.descendants[site];
                let parent_sites = sites.parents[site]
                    .iter()
                    .map(|link| link.parent)
                    .chain(sites.forwarded_from[site].iter().copied());
                for parent_site in parent_sites {
                    for &parent in rules_of_site.get(&parent_site).into_iter().flatten() {
                        if parent != rule {
                            edges.entry(parent).or_insert(RuleEdge {
                                parent,
                                child_site: site,
                                parent_site,
                            });
                        }
                    }
                }
            }
            out.unseen_callers[rule] = member_sites
                .iter()
                .all(|&site| sites.parents[site].is_empty());
            out.volume[rule] = volume;
            out.descendants[rule] = if volume > 0.0 { weighted / volume } else { 0.0 };
            out.parents[rule] = edges.into_values().collect();
        }
        out
    }

    /// Spans kept per kept span of `rule`: itself, plus the callers the code does not
    /// show when no rule can be its parent ([`UNSEEN_CALLER_SPANS`]).
    pub fn spans_per_kept(&self, rule: usize) -> f64 {
        if self.unseen_callers[rule] {
            1.0 + UNSEEN_CALLER_SPANS
        } else {
            1.0
        }
    }

    /// Estimated spans of a round of requests: every rule's volume with the unseen
    /// callers of those without a parent (they exist whether kept or not).
    pub fn total_volume(&self) -> f64 {
        (0..self.volume.len())
            .map(|rule| self.volume[rule] * self.spans_per_kept(rule))
            .sum()
    }

    /// Raises every rule's rate to at least that of each rule it can be the parent of,
    /// until nothing changes: the monotone closure (a rate only grows, to a rate some
    /// rule already has, so it ends).
    pub fn make_monotone(&self, rates: &mut [f64]) {
        let mut changed = true;
        while changed {
            changed = false;
            for child in 0..rates.len() {
                for edge in &self.parents[child] {
                    if rates[edge.parent] < rates[child] {
                        rates[edge.parent] = rates[child];
                        changed = true;
                    }
                }
            }
        }
    }

    /// Pairs (child rule, edge) where the child is sampled at a higher rate than a rule
    /// that can be its parent.
    pub fn violations(&self, rates: &[Option<f64>]) -> Vec<(usize, RuleEdge)> {
        let mut out = Vec::new();
        for (child, edges) in self.parents.iter().enumerate() {
            let Some(child_rate) = rates[child] else {
                continue;
            };
            for edge in edges {
                if let Some(parent_rate) = rates[edge.parent]
                    && parent_rate < child_rate
                {
                    out.push((child, *edge));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(parent: usize, calls: f64) -> ParentLink {
        ParentLink { parent, calls }
    }

    #[test]
    fn loops_multiply_volume_and_descendants_add_up() {
        // 0: server; 1: repository call in a loop under it; 2: client call under it;
        // 3: the server it calls (also an entry of its own, no: only called).
        let sites = SiteGraph::from_parents(vec![
            vec![],
            vec![link(0, 10.0)],
            vec![link(0, 1.0)],
            vec![link(2, 1.0)],
        ]);
        assert_eq!(sites.volume, [1.0, 10.0, 1.0, 1.0]);
        assert_eq!(sites.descendants, [12.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn cycles_end() {
        let sites = SiteGraph::from_parents(vec![vec![link(1, 1.0)], vec![link(0, 1.0)]]);
        assert!(sites.volume.iter().all(|v| v.is_finite()));
        assert!(sites.descendants.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn monotone_closure_raises_every_possible_ancestor() {
        let sites = SiteGraph::from_parents(vec![
            vec![],
            vec![link(0, 1.0)],
            vec![link(1, 1.0)],
            vec![link(2, 1.0), link(0, 1.0)],
        ]);
        let costs = RuleCosts::of(&[vec![0], vec![1], vec![2], vec![3]], &sites);
        let mut rates = [0.01, 0.2, 0.05, 1.0];
        assert_eq!(
            costs
                .violations(&rates.map(Some))
                .iter()
                .map(|(child, edge)| (*child, edge.parent))
                .collect::<Vec<_>>(),
            [(1, 0), (3, 0), (3, 2)]
        );
        costs.make_monotone(&mut rates);
        assert_eq!(rates, [1.0, 1.0, 1.0, 1.0]);
        assert!(costs.violations(&rates.map(Some)).is_empty());
        let mut rates = [0.5, 0.2, 0.3, 0.1];
        costs.make_monotone(&mut rates);
        assert_eq!(rates, [0.5, 0.3, 0.3, 0.1]);
    }

    #[test]
    fn overrides_below_a_span_make_it_an_ancestor() {
        assert_eq!(expected_kept_share(1.0, 50.0, 0.01), 1.0);
        assert_eq!(expected_kept_share(0.1, 0.0, 0.0), 0.1);
        let leaf = expected_kept_share(0.1, 0.0, 0.01);
        let root = expected_kept_share(0.1, 50.0, 0.01);
        assert!((leaf - (0.1 + 0.9 * 0.01)).abs() < 1e-12);
        assert!(root > 0.45, "{root}");
        let share = latency_outlier_share(6.0);
        assert!((0.005..0.01).contains(&share), "{share}");
    }
}
