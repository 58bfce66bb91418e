//! Span sites and span names: the places in code that produce spans (server entries,
//! message listeners, HTTP/gRPC/database/messaging exit calls, manual spans) and the
//! names each tracing agent gives them. One site can carry several names (SkyWalking,
//! OpenTelemetry, OpenTracing); a name is what a policy rule must match.

use crate::conventions::{self, Effect, Entry, path_matcher, url_path};
use crate::facts::Language;
use crate::graph::{CallGraph, Program};
use petgraph::graph::NodeIndex;
use policy_schema::Matcher;

/// What kind of span a site produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SiteKind {
    /// Server entry (HTTP route, gRPC method).
    Server,
    /// Message listener.
    Consumer,
    /// Span opened by hand.
    Manual,
    /// HTTP or gRPC client call.
    Client,
    /// Database call.
    Database,
    /// Message sent.
    Producer,
}

impl SiteKind {
    /// Entry-like sites own the code they reach; exit sites own one call.
    pub fn is_entry(self) -> bool {
        matches!(
            self,
            SiteKind::Server | SiteKind::Consumer | SiteKind::Manual
        )
    }
}

/// A place in code that produces a span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanSite {
    /// Service that records the span (the caller for exit spans).
    pub service: String,
    /// Kind.
    pub kind: SiteKind,
    /// Function that produces it.
    pub node: NodeIndex,
    /// File, relative.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Readable label, unique per span name family within the service: the rule id
    /// after `service:`.
    pub label: String,
    /// Names under each agent, the first being the most specific.
    pub names: Vec<Matcher>,
    /// Index into [`CallGraph::effects`] for exit sites.
    pub effect: Option<usize>,
}

/// Finds every span site, in node order.
pub fn span_sites(program: &Program, graph: &CallGraph) -> Vec<SpanSite> {
    let mut sites = Vec::new();
    let base = |node: NodeIndex| {
        let n = &graph.graph[node];
        let file = &program.files[n.file];
        (n, file, &file.functions[n.function])
    };
    for entry in &graph.entries {
        let (n, file, function) = base(entry.node);
        let language = file.language.unwrap_or(Language::Java);
        let names = conventions::entry_names(language, &entry.entry, function);
        if names.is_empty() {
            continue;
        }
        let (kind, label) = match &entry.entry {
            Entry::Http { methods, route, .. } => {
                let method = if methods.is_empty() {
                    "*".to_string()
                } else {
                    methods.join(",")
                };
                (SiteKind::Server, format!("{method} {route}"))
            }
            Entry::Grpc { full_method } => (SiteKind::Server, full_method.clone()),
            Entry::Consumer {
                system,
                destination,
            } => (
                SiteKind::Consumer,
                format!("consume {system} {destination}"),
            ),
        };
        sites.push(SpanSite {
            service: n.service.clone(),
            kind,
            node: entry.node,
            file: file.path.clone(),
            line: entry.position.line,
            label,
            names,
            effect: None,
        });
    }
    for (index, site) in graph.effects.iter().enumerate() {
        let (n, file, function) = base(site.node);
        let language = file.language.unwrap_or(Language::Java);
        let call = &function.calls[site.call];
        let (kind, names) = match &site.effect {
            Effect::GrpcClient {
                package,
                service,
                method,
            } => (
                SiteKind::Client,
                conventions::go::grpc_names(&conventions::go::grpc_full_method(
                    package, service, method,
                )),
            ),
            effect @ Effect::Http { .. } => (
                SiteKind::Client,
                conventions::effect_names(language, effect),
            ),
            effect @ Effect::Database { .. } => (
                SiteKind::Database,
                conventions::effect_names(language, effect),
            ),
            effect @ Effect::Produce { .. } => (
                SiteKind::Producer,
                conventions::effect_names(language, effect),
            ),
        };
        if names.is_empty() {
            continue;
        }
        let label = match &site.effect {
            // Agents that name client spans by method only: one family per method.
            Effect::Http { method, .. }
                if !names.iter().any(|n| matcher_text(n).starts_with('/')) =>
            {
                format!("HTTP {}", method.as_deref().unwrap_or("*"))
            }
            Effect::Http { method, url, .. } => {
                let path = url.as_deref().and_then(url_path).map_or_else(
                    || "<dynamic>".to_string(),
                    |p| match path_matcher(&p) {
                        Matcher::Template(t) | Matcher::Exact(t) => t,
                        _ => p,
                    },
                );
                format!("{} {path}", method.as_deref().unwrap_or("*"))
            }
            Effect::GrpcClient {
                package,
                service,
                method,
            } => {
                format!(
                    "call {}",
                    conventions::go::grpc_full_method(package, service, method)
                )
            }
            _ => matcher_text(&names[0]).to_string(),
        };
        sites.push(SpanSite {
            service: n.service.clone(),
            kind,
            node: site.node,
            file: file.path.clone(),
            line: call.position.line,
            label,
            names,
            effect: Some(index),
        });
    }
    for node in graph.graph.node_indices() {
        let (n, file, function) = base(node);
        for span in &function.manual_spans {
            // A name that is all placeholders would match every span: useless as a rule.
            let literal = span.name.replace("{}", "");
            if literal.trim().len() < 2 {
                continue;
            }
            let name = if span.name.contains("{}") {
                path_matcher(&span.name)
            } else {
                Matcher::Exact(span.name.clone())
            };
            sites.push(SpanSite {
                service: n.service.clone(),
                kind: SiteKind::Manual,
                node,
                file: file.path.clone(),
                line: span.position.line,
                label: span.name.clone(),
                names: vec![name],
                effect: None,
            });
        }
    }
    sites.sort_by(|a, b| {
        (&a.service, &a.label, &a.file, a.line, a.kind)
            .cmp(&(&b.service, &b.label, &b.file, b.line, b.kind))
    });
    sites
}

/// The text of a matcher, whatever its kind.
pub fn matcher_text(matcher: &Matcher) -> &str {
    match matcher {
        Matcher::Exact(t) | Matcher::Template(t) | Matcher::Prefix(t) | Matcher::Glob(t) => t,
    }
}
