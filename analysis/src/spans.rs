//! Span sites and span names: the places in code that produce spans (server entries,
//! message listeners, scheduled methods, HTTP/RPC/database/messaging exit calls,
//! manual spans) and the names each selected instrumentation profile gives them. One
//! site carries a name per profile (SkyWalking, OpenTelemetry agent 1.x and 2.x, ...);
//! a name is what a policy rule must match.

use crate::conventions::{
    self, EffectKind, EntryKind, PredictedName, SiteView, path_matcher, url_path,
};
use crate::facts::{Function, Language};
use crate::graph::{CallGraph, Program};
use crate::knowledge::model::{ProfileFile, SiteClass};
use crate::knowledge::pattern::Attrs;
use crate::knowledge::{self, Knowledge};
use petgraph::graph::NodeIndex;
use policy_schema::Matcher;

/// What kind of span a site produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SiteKind {
    /// Server entry (HTTP route, RPC method).
    Server,
    /// Message listener.
    Consumer,
    /// Scheduled method.
    Scheduled,
    /// Span opened by hand.
    Manual,
    /// HTTP or RPC client call.
    Client,
    /// Database call.
    Database,
    /// Message sent.
    Producer,
    /// A span a framework's own code opens inside a request (error page, response).
    Internal,
}

impl SiteKind {
    /// Entry-like sites own the code they reach; exit sites own one call.
    pub fn is_entry(self) -> bool {
        matches!(
            self,
            SiteKind::Server | SiteKind::Consumer | SiteKind::Scheduled | SiteKind::Manual
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
    /// Readable label, unique per site family within the service: the rule id after
    /// `service:`.
    pub label: String,
    /// The label of the rule that gathers every site of the service sharing a name
    /// that does not tell sites apart (`HTTP GET` for `GET` and `HTTP GET` clients).
    pub shared_label: Option<String>,
    /// Names under each profile, the profile's order.
    pub names: Vec<PredictedName>,
    /// Index into [`CallGraph::effects`] for exit sites.
    pub effect: Option<usize>,
    /// An internal span that happens in every request of its entry, not only in
    /// failing ones.
    pub every_request: bool,
}

/// The profiles that name the spans of a service's code in a language: those recorded
/// in the program for it, else every profile of the language.
pub fn service_profiles<'k>(
    knowledge: &'k Knowledge,
    program: &Program,
    service: &str,
    language: Language,
) -> Vec<&'k ProfileFile> {
    match program.profiles.get(&(service.to_string(), language)) {
        Some(ids) => knowledge
            .profiles_of(language)
            .filter(|p| ids.contains(&p.id))
            .collect(),
        None => knowledge.profiles_of(language).collect(),
    }
}

fn set(attrs: &mut Attrs, name: &str, value: impl Into<String>) {
    attrs.insert(name.to_string(), vec![value.into()]);
}

/// The function's own attributes: `class` (qualified owner) and `function`.
fn function_attrs(function: &Function, attrs: &mut Attrs) {
    if let Some(owner) = &function.owner {
        set(attrs, "class", owner.clone());
    }
    set(attrs, "function", function.name.clone());
}

/// Finds every span site, sorted by (service, label, file, line, kind).
pub fn span_sites(program: &Program, graph: &CallGraph) -> Vec<SpanSite> {
    let knowledge = knowledge::embedded();
    let no_attrs = Attrs::new();
    let mut sites = Vec::new();
    let base = |node: NodeIndex| {
        let n = &graph.graph[node];
        let file = &program.files[n.file];
        (n, file, &file.functions[n.function])
    };
    let names_of = |service: &str, language: Language, class: SiteClass, attrs: &Attrs| {
        let profiles = service_profiles(knowledge, program, service, language);
        let view = SiteView {
            class,
            attrs,
            dependencies: program.service_dependencies.get(service).map(Vec::as_slice),
        };
        conventions::site_names(&profiles, &view)
    };
    let service_attrs = |service: &str, language: Language| {
        program
            .service_attrs
            .get(&(service.to_string(), language))
            .unwrap_or(&no_attrs)
    };
    for entry in &graph.entries {
        let (n, file, function) = base(entry.node);
        let language = file.language.unwrap_or(Language::Java);
        let mut attrs = service_attrs(&n.service, language).clone();
        // An entry a framework serves may name its own handler (`class`, `function`).
        function_attrs(function, &mut attrs);
        attrs.extend(entry.entry.attrs.clone());
        set(&mut attrs, "framework", entry.entry.framework.clone());
        let (kind, class, label) = match entry.entry.kind {
            EntryKind::Http => {
                let methods = entry.entry.methods();
                let method = if methods.is_empty() {
                    "*".to_string()
                } else {
                    methods.join(",")
                };
                let route = entry.entry.attr("route").unwrap_or("/");
                (
                    SiteKind::Server,
                    SiteClass::HttpServer,
                    format!("{method} {route}"),
                )
            }
            EntryKind::Rpc => (
                SiteKind::Server,
                SiteClass::RpcServer,
                entry.entry.attr("full_method").unwrap_or("").to_string(),
            ),
            EntryKind::Consumer => (
                SiteKind::Consumer,
                SiteClass::Consumer,
                format!(
                    "consume {} {}",
                    entry.entry.attr("system").unwrap_or("messages"),
                    entry.entry.attr("destination").unwrap_or("")
                ),
            ),
            EntryKind::Scheduled => (
                SiteKind::Scheduled,
                SiteClass::Scheduled,
                format!(
                    "scheduled {}.{}",
                    function
                        .owner
                        .as_deref()
                        .map(conventions::base_name)
                        .unwrap_or(""),
                    function.name
                ),
            ),
        };
        if entry.entry.kind == EntryKind::Http {
            let dependencies = program.service_dependencies.get(&n.service);
            for inner in conventions::inner_spans(
                language,
                &entry.entry.framework,
                dependencies.map(Vec::as_slice),
            ) {
                let mut inner_attrs = service_attrs(&n.service, language).clone();
                inner_attrs.extend(inner.attrs);
                let names = names_of(&n.service, language, inner.class, &inner_attrs);
                if names.is_empty() {
                    continue;
                }
                let first = |name: &str| {
                    inner_attrs
                        .get(name)
                        .and_then(|v| v.first())
                        .map_or("", String::as_str)
                };
                let (kind, label) = if inner.class == SiteClass::HttpClient {
                    // The framework sends the request on: one family per service.
                    (SiteKind::Client, format!("forward {}", first("framework")))
                } else {
                    // One family per service: the span happens in whichever request fails.
                    (
                        SiteKind::Internal,
                        format!(
                            "{}.{}",
                            conventions::base_name(first("class")),
                            first("function")
                        ),
                    )
                };
                sites.push(SpanSite {
                    service: n.service.clone(),
                    kind,
                    node: entry.node,
                    file: file.path.clone(),
                    line: entry.position.line,
                    label,
                    shared_label: None,
                    names,
                    effect: None,
                    every_request: inner.every_request,
                });
            }
        }
        let names = names_of(&n.service, language, class, &attrs);
        if names.is_empty() {
            continue;
        }
        sites.push(SpanSite {
            service: n.service.clone(),
            kind,
            node: entry.node,
            file: file.path.clone(),
            line: entry.position.line,
            label,
            shared_label: None,
            names,
            effect: None,
            every_request: false,
        });
    }
    for (index, site) in graph.effects.iter().enumerate() {
        let (n, file, function) = base(site.node);
        let language = file.language.unwrap_or(Language::Java);
        let call = &function.calls[site.call];
        let effect = &site.effect;
        let mut attrs = service_attrs(&n.service, language).clone();
        attrs.extend(effect.attrs.clone());
        set(&mut attrs, "library", effect.library.clone());
        function_attrs(function, &mut attrs);
        let path = effect.attr("url").and_then(url_path);
        if let Some(path) = &path {
            set(&mut attrs, "path", path.clone());
        }
        let (kind, class) = match effect.kind {
            EffectKind::Http => (SiteKind::Client, SiteClass::HttpClient),
            EffectKind::Rpc => (SiteKind::Client, SiteClass::RpcClient),
            EffectKind::Database => (SiteKind::Database, SiteClass::Database),
            EffectKind::Produce => (SiteKind::Producer, SiteClass::Producer),
        };
        let names = names_of(&n.service, language, class, &attrs);
        if names.is_empty() {
            continue;
        }
        let method = effect.attr("method").unwrap_or("*");
        let (label, shared_label) = match effect.kind {
            EffectKind::Http => {
                let path = path.map_or_else(
                    || "<dynamic>".to_string(),
                    |p| match path_matcher(&p) {
                        Matcher::Template(t) | Matcher::Exact(t) => t,
                        _ => p,
                    },
                );
                (format!("{method} {path}"), Some(format!("HTTP {method}")))
            }
            EffectKind::Rpc => (
                format!("call {}", effect.attr("full_method").unwrap_or("")),
                None,
            ),
            EffectKind::Database => {
                let target = effect
                    .attr("target")
                    .map(conventions::base_name)
                    .unwrap_or(&effect.library);
                (
                    format!("{target}.{}", effect.attr("operation").unwrap_or("")),
                    None,
                )
            }
            EffectKind::Produce => (
                format!(
                    "send {} {}{}",
                    effect.attr("system").unwrap_or("messages"),
                    effect
                        .attr("exchange")
                        .map(|e| format!("{e}/"))
                        .unwrap_or_default(),
                    effect.attr("destination").unwrap_or("<dynamic>")
                ),
                None,
            ),
        };
        sites.push(SpanSite {
            service: n.service.clone(),
            kind,
            node: site.node,
            file: file.path.clone(),
            line: call.position.line,
            label,
            shared_label,
            names,
            effect: Some(index),
            every_request: false,
        });
    }
    for node in graph.graph.node_indices() {
        let (n, file, function) = base(node);
        let language = file.language.unwrap_or(Language::Java);
        let declared = conventions::declared_spans(language, file, function);
        for span in function.manual_spans.iter().chain(&declared) {
            let mut attrs = Attrs::new();
            function_attrs(function, &mut attrs);
            // `@WithSpan` without a value: the instrumentation names it Class.method.
            let name = if span.name.is_empty() {
                match &function.owner {
                    Some(owner) => format!("{}.{}", conventions::base_name(owner), function.name),
                    None => function.name.clone(),
                }
            } else {
                span.name.clone()
            };
            // A name that is all placeholders would match every span: useless as a rule.
            let literal = name.replace("{}", "");
            if literal.trim().len() < 2 {
                continue;
            }
            set(&mut attrs, "name", name.clone());
            set(&mut attrs, "api", span.api.clone());
            let mut names = names_of(&n.service, language, SiteClass::Manual, &attrs);
            if name.contains("{}") {
                for predicted in &mut names {
                    if let Matcher::Exact(text) = &predicted.matcher {
                        predicted.matcher = path_matcher(text);
                    }
                }
            }
            if names.is_empty() {
                continue;
            }
            sites.push(SpanSite {
                service: n.service.clone(),
                kind: SiteKind::Manual,
                node,
                file: file.path.clone(),
                line: span.position.line,
                label: name,
                shared_label: None,
                names,
                effect: None,
                every_request: false,
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
