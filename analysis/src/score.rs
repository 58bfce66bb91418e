//! Scores: how much a span is worth keeping, from the code behind it.
//!
//! An entry-like site (server, listener, manual span) owns the code it reaches through
//! calls within its service without crossing into another span-opening function; an
//! exit site (HTTP, gRPC, database, messaging call) owns its call. Signals, each with
//! its reason and source line: error handling +10, external call +8, database +7,
//! messaging +8, business-critical names +6, hot (called in a loop, or frequent in
//! traces) -3.
//!
//! Deduplication: each signal kind counts once per function reached (forty catch
//! blocks in one function are one signal), and at most [`MAX_PER_KIND`] functions
//! count per kind, so a controller that reaches a large service layer saturates
//! instead of growing without bound.

use crate::conventions::{Effect, EffectKind, url_path};
use crate::facts::Position;
use crate::graph::{CallGraph, EdgeKind, Program};
use crate::spans::{SiteKind, SpanSite};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use policy_schema::Reason;
use std::collections::{BTreeSet, VecDeque};

/// Points per signal.
pub const ERROR_HANDLING: f64 = 10.0;
/// Points for an external call (HTTP, gRPC).
pub const EXTERNAL_CALL: f64 = 8.0;
/// Points for a database call.
pub const DATABASE: f64 = 7.0;
/// Points for sending a message.
pub const MESSAGING: f64 = 8.0;
/// Points for a business-critical name.
pub const BUSINESS_CRITICAL: f64 = 6.0;
/// Points (negative) for hot code.
pub const HOT: f64 = -3.0;
/// Functions that may count for one signal kind in one site's score.
pub const MAX_PER_KIND: usize = 3;
/// Functions reached from one site at most (bounds the walk on huge graphs).
const MAX_REACH: usize = 200;

/// Default business-critical words.
pub const DEFAULT_CRITICAL_NAMES: [&str; 5] = ["payment", "order", "checkout", "auth", "security"];

/// Scoring options.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Words that make a name business-critical (lower case).
    pub critical_names: Vec<String>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            critical_names: DEFAULT_CRITICAL_NAMES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// A site's score and its reasons.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// Total.
    pub total: f64,
    /// Contributions, in order found.
    pub reasons: Vec<Reason>,
}

fn reason(kind: &str, points: f64, detail: String, file: &str, position: Position) -> Reason {
    Reason {
        kind: kind.to_string(),
        points,
        detail,
        file: Some(file.to_string()),
        line: (position.line > 0).then_some(position.line),
    }
}

struct Scorer<'a> {
    program: &'a Program,
    graph: &'a CallGraph,
    options: &'a ScoreOptions,
    /// Functions that open spans of their own (entry-like sites).
    span_roots: BTreeSet<NodeIndex>,
    /// Effects per node, as indices into graph.effects.
    effects_of: Vec<Vec<usize>>,
}

impl Scorer<'_> {
    /// The first critical word found in the texts, with the text it was found in.
    fn critical_in<'t>(&self, texts: &[&'t str]) -> Option<(&str, &'t str)> {
        texts
            .iter()
            .find_map(|text| self.critical_word(text).map(|word| (word, *text)))
    }

    fn critical_word(&self, text: &str) -> Option<&str> {
        let lower = text.to_ascii_lowercase();
        self.options
            .critical_names
            .iter()
            .find(|w| !w.is_empty() && lower.contains(w.as_str()))
            .map(String::as_str)
    }

    fn reach(&self, start: NodeIndex) -> Vec<NodeIndex> {
        let mut seen = BTreeSet::from([start]);
        let mut order = vec![start];
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            let mut next: Vec<NodeIndex> = self
                .graph
                .graph
                .edges_directed(node, Direction::Outgoing)
                .filter(|e| e.weight().kind == EdgeKind::Call)
                .map(|e| petgraph::visit::EdgeRef::target(&e))
                .filter(|t| !self.span_roots.contains(t))
                .collect();
            next.sort();
            for target in next {
                if order.len() >= MAX_REACH {
                    return order;
                }
                if seen.insert(target) {
                    order.push(target);
                    queue.push_back(target);
                }
            }
        }
        order
    }

    fn entry_score(&self, site: &SpanSite) -> Score {
        let mut reasons = Vec::new();
        let mut counts = [0usize; 4];
        for node in self.reach(site.node) {
            let n = &self.graph.graph[node];
            let file = &self.program.files[n.file];
            let function = &file.functions[n.function];
            let first_handler = function
                .error_handlers
                .iter()
                .map(|h| (h.position, format!("{} in {}", h.kind, function.qualified)))
                .chain(
                    function
                        .error_exits
                        .iter()
                        .map(|e| (e.position, format!("{} in {}", e.kind, function.qualified))),
                )
                .min_by_key(|(p, _)| *p);
            if let Some((position, detail)) = first_handler
                && counts[0] < MAX_PER_KIND
            {
                counts[0] += 1;
                reasons.push(reason(
                    "error-handling",
                    ERROR_HANDLING,
                    detail,
                    &file.path,
                    position,
                ));
            }
            let mut kinds_done = BTreeSet::new();
            for &effect_index in &self.effects_of[node.index()] {
                let effect_site = &self.graph.effects[effect_index];
                let kind = effect_site.effect.reason_kind();
                let slot = match kind {
                    "external-call" => 1,
                    "database" => 2,
                    _ => 3,
                };
                if !kinds_done.insert(kind) || counts[slot] >= MAX_PER_KIND {
                    continue;
                }
                counts[slot] += 1;
                let call = &function.calls[effect_site.call];
                let points = match slot {
                    1 => EXTERNAL_CALL,
                    2 => DATABASE,
                    _ => MESSAGING,
                };
                reasons.push(reason(
                    kind,
                    points,
                    describe(&effect_site.effect, &function.qualified),
                    &file.path,
                    call.position,
                ));
            }
        }
        let n = &self.graph.graph[site.node];
        let file = &self.program.files[n.file];
        let function = &file.functions[n.function];
        if let Some((word, text)) = self.critical_in(&[&site.label, &function.qualified]) {
            reasons.push(reason(
                "business-critical",
                BUSINESS_CRITICAL,
                format!("{word:?} in {text}"),
                &file.path,
                function.position,
            ));
        }
        let called_in_loop = self
            .graph
            .graph
            .edges_directed(site.node, Direction::Incoming)
            .find(|e| e.weight().in_loop && e.weight().kind == EdgeKind::Call);
        if let Some(edge) = called_in_loop {
            let caller = &self.graph.graph[petgraph::visit::EdgeRef::source(&edge)];
            let caller_file = &self.program.files[caller.file];
            let call = &caller_file.functions[caller.function].calls[edge.weight().call];
            reasons.push(reason(
                "hot",
                HOT,
                format!("called in a loop by {}", caller.qualified),
                &caller_file.path,
                call.position,
            ));
        }
        total(reasons)
    }

    /// A framework's span inside a request (its error page) is on the error path of
    /// the handler it serves, and only there: scored as error handling, not by the
    /// handler's own work.
    fn inner_score(&self, site: &SpanSite) -> Score {
        let n = &self.graph.graph[site.node];
        let function = &self.program.files[n.file].functions[n.function];
        total(vec![Reason {
            kind: "error-handling".into(),
            points: ERROR_HANDLING,
            detail: format!(
                "{} answers failing requests of {}",
                site.label, function.qualified
            ),
            file: Some(site.file.clone()),
            line: Some(site.line),
        }])
    }

    fn exit_score(&self, site: &SpanSite, effect_index: usize) -> Score {
        let effect_site = &self.graph.effects[effect_index];
        let n = &self.graph.graph[effect_site.node];
        let file = &self.program.files[n.file];
        let function = &file.functions[n.function];
        let call = &function.calls[effect_site.call];
        let mut reasons = Vec::new();
        let points = match site.kind {
            SiteKind::Database => DATABASE,
            SiteKind::Producer => MESSAGING,
            _ => EXTERNAL_CALL,
        };
        reasons.push(reason(
            effect_site.effect.reason_kind(),
            points,
            describe(&effect_site.effect, &function.qualified),
            &file.path,
            call.position,
        ));
        let handler = function
            .error_handlers
            .iter()
            .find(|h| h.position.line >= call.position.line)
            .or(function.error_handlers.first());
        if let Some(handler) =
            handler.filter(|_| call.in_handler || !function.error_handlers.is_empty())
        {
            reasons.push(reason(
                "error-handling",
                ERROR_HANDLING,
                format!("{} around the call in {}", handler.kind, function.qualified),
                &file.path,
                handler.position,
            ));
        }
        if let Some((word, text)) = self.critical_in(&[&site.label, &function.qualified]) {
            reasons.push(reason(
                "business-critical",
                BUSINESS_CRITICAL,
                format!("{word:?} in {text}"),
                &file.path,
                call.position,
            ));
        }
        if call.in_loop {
            reasons.push(reason(
                "hot",
                HOT,
                format!("called in a loop in {}", function.qualified),
                &file.path,
                call.position,
            ));
        }
        total(reasons)
    }
}

fn total(reasons: Vec<Reason>) -> Score {
    let sum: f64 = reasons.iter().map(|r| r.points).sum();
    // Never negative, and never -0.0 (an empty float sum), which would print as "-0.0".
    let total = if sum > 0.0 { sum } else { 0.0 };
    Score { total, reasons }
}

fn describe(effect: &Effect, function: &str) -> String {
    let attr = |name: &str| effect.attr(name);
    match effect.kind {
        EffectKind::Http => format!(
            "{} {} {} in {function}",
            effect.library,
            attr("method").unwrap_or("request"),
            attr("url")
                .and_then(url_path)
                .unwrap_or_else(|| "<dynamic url>".into())
        ),
        EffectKind::Database => format!(
            "{} {}.{} in {function}",
            effect.library,
            attr("target").unwrap_or(""),
            attr("operation").unwrap_or("")
        ),
        EffectKind::Produce => format!(
            "{} send to {} in {function}",
            attr("system").unwrap_or(&effect.library),
            attr("destination").unwrap_or("<dynamic>")
        ),
        EffectKind::Rpc => format!(
            "{} {}.{}/{} in {function}",
            effect.library,
            attr("package").unwrap_or(""),
            attr("service").unwrap_or(""),
            attr("method").unwrap_or("")
        ),
    }
}

/// Scores every site (same order as `sites`).
pub fn score_sites(
    program: &Program,
    graph: &CallGraph,
    sites: &[SpanSite],
    options: &ScoreOptions,
) -> Vec<Score> {
    let mut effects_of = vec![Vec::new(); graph.graph.node_count()];
    for (i, site) in graph.effects.iter().enumerate() {
        effects_of[site.node.index()].push(i);
    }
    let scorer = Scorer {
        program,
        graph,
        options,
        span_roots: sites
            .iter()
            .filter(|s| s.kind.is_entry())
            .map(|s| s.node)
            .collect(),
        effects_of,
    };
    sites
        .iter()
        .map(|site| match site.effect {
            Some(effect) => scorer.exit_score(site, effect),
            None if site.kind == SiteKind::Internal => scorer.inner_score(site),
            None => scorer.entry_score(site),
        })
        .collect()
}
