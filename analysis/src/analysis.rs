//! The whole analysis, stage after stage: discover → parse → services → call graph →
//! span sites → scores → policy. [`analyze_path`] does the IO at the start (reading
//! files); [`analyze_facts`] is the pure rest, usable on hand-built facts.

use crate::budget::{RuleCosts, SiteGraph};
use crate::diagnostics::Diagnostic;
use crate::discover::{self, ConfigFile, DiscoverError, DiscoverOptions};
use crate::facts::{FileFacts, Language};
use crate::graph::{self, CallGraph, Program};
use crate::parse;
use crate::policy_gen::{self, PolicyOptions, RuleDraft, Volumes};
use crate::score::{self, Score, ScoreOptions};
use crate::services::ServiceMap;
use crate::spans::{self, SpanSite};
use policy_schema::Policy;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything `analyze` can be told.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    /// What files to read.
    pub discover: DiscoverOptions,
    /// How to score.
    pub score: ScoreOptions,
    /// Share of span volume to remove.
    pub target_reduction: f64,
    /// Source root as recorded in the policy.
    pub source_root_label: Option<String>,
    /// Spans of a trace sample, as (service, name), to measure volume; spans with
    /// error status are not listed but counted in `trace_error_spans`.
    pub trace_spans: Vec<(String, String)>,
    /// Error spans in the trace sample: the error override keeps them whatever the
    /// rules say, so they use up part of the kept-volume budget.
    pub trace_error_spans: u64,
    /// Instrumentation profiles to name spans with (`otel-java@2`, `skywalking`);
    /// empty: detected per service from build files, every profile of the language
    /// where nothing is detected.
    pub instrumentation: Vec<String>,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        Self {
            discover: DiscoverOptions::default(),
            score: ScoreOptions::default(),
            target_reduction: 0.8,
            source_root_label: None,
            trace_spans: Vec::new(),
            trace_error_spans: 0,
            instrumentation: Vec::new(),
        }
    }
}

/// Counts for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Files parsed per language.
    pub files: BTreeMap<Language, usize>,
    /// Lines parsed.
    pub lines: u64,
    /// Functions (graph nodes).
    pub functions: usize,
    /// Call edges, all kinds.
    pub call_edges: usize,
    /// Cross-service edges.
    pub cross_service_edges: usize,
    /// Span sites.
    pub span_sites: usize,
    /// Rules in the policy.
    pub rules: usize,
    /// Syntax errors tolerated.
    pub syntax_errors: u64,
    /// Services.
    pub services: usize,
}

/// The result of an analysis.
#[derive(Debug)]
pub struct Analysis {
    /// The policy.
    pub policy: Policy,
    /// Counts.
    pub stats: Stats,
    /// Warnings and notes, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Facts and services.
    pub program: Program,
    /// Call graph.
    pub graph: CallGraph,
    /// Span sites.
    pub sites: Vec<SpanSite>,
    /// Score of each site.
    pub scores: Vec<Score>,
    /// Rule drafts (the policy's rules before actions).
    pub drafts: Vec<RuleDraft>,
    /// Span volumes per draft on the trace sample, when one was given.
    pub volumes: Option<Volumes>,
    /// Which span sites can be the parent of which, and volume estimates.
    pub site_graph: SiteGraph,
    /// The cost model per draft.
    pub costs: RuleCosts,
}

/// Analyzes the tree at `root`. `on_file` is called as files are parsed; `on_start`
/// gets the number of files first.
pub fn analyze_path(
    root: &Path,
    options: &AnalyzeOptions,
    on_start: &dyn Fn(usize),
    on_file: &(dyn Fn() + Sync),
) -> Result<Analysis, DiscoverError> {
    let found = discover::discover(root, &options.discover)?;
    on_start(found.sources.len());
    let parsed = parse::parse_all(&found.sources, on_file);
    let root_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "root".into());
    let mut analysis = analyze_facts(parsed.facts, &found.configs, &root_name, options);
    analysis.diagnostics.extend(found.diagnostics);
    analysis.diagnostics.extend(parsed.diagnostics);
    analysis.diagnostics.sort();
    Ok(analysis)
}

/// Analyzes facts (any order: they are sorted by path first).
pub fn analyze_facts(
    mut files: Vec<FileFacts>,
    configs: &[ConfigFile],
    root_name: &str,
    options: &AnalyzeOptions,
) -> Analysis {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let services_map = ServiceMap::build(configs, files.iter().map(|f| f.path.as_str()), root_name);
    let services: Vec<String> = files
        .iter()
        .map(|f| services_map.service_of(&f.path))
        .collect();
    let mut diagnostics = Vec::new();
    for file in &files {
        if file.syntax_errors > 0 {
            let mut diagnostic = Diagnostic::warning(
                file.path.clone(),
                format!(
                    "{} syntax error(s), the first here; facts were read around them",
                    file.syntax_errors
                ),
            );
            diagnostic.line = file.first_syntax_error.map(|p| p.line);
            diagnostics.push(diagnostic);
        }
    }
    let mut program = Program::new(files, services, configs);
    describe_services(
        &mut program,
        &services_map,
        configs,
        &options.instrumentation,
    );
    let graph = graph::build(&program);
    diagnostics.extend(graph.diagnostics.iter().cloned());
    let sites = spans::span_sites(&program, &graph);
    let scores = score::score_sites(&program, &graph, &sites, &options.score);
    let mut drafts = policy_gen::draft_rules(&program, &graph, &sites, &scores);
    let policy_options = PolicyOptions {
        target_reduction: options.target_reduction,
        static_target_reduction: None,
        source_root: options.source_root_label.clone(),
    };
    let volumes = (!options.trace_spans.is_empty()).then(|| Volumes {
        errors: options.trace_error_spans,
        ..measure_volumes(&drafts, &options.trace_spans)
    });
    if let Some(volumes) = &volumes {
        policy_gen::apply_trace_frequency(&mut drafts, volumes);
    }
    let site_graph = SiteGraph::build(&program, &graph, &sites);
    let members: Vec<Vec<usize>> = drafts.iter().map(|d| d.sites.clone()).collect();
    let costs = RuleCosts::of(&members, &site_graph);
    let policy = policy_gen::generate(&drafts, &policy_options, volumes.as_ref(), &costs);
    let mut stats = Stats {
        functions: graph.graph.node_count(),
        call_edges: graph.graph.edge_count(),
        cross_service_edges: graph.cross_service_edges(),
        span_sites: sites.len(),
        rules: policy.rules.len(),
        services: program
            .services
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        ..Stats::default()
    };
    for file in &program.files {
        if let Some(language) = file.language {
            *stats.files.entry(language).or_default() += 1;
        }
        stats.lines += u64::from(file.lines);
        stats.syntax_errors += u64::from(file.syntax_errors);
    }
    diagnostics.sort();
    Analysis {
        policy,
        stats,
        diagnostics,
        program,
        graph,
        sites,
        scores,
        drafts,
        volumes,
        site_graph,
        costs,
    }
}

/// Fills what the program knows of each service from its build and configuration
/// files: dependencies, attributes the frameworks read (context path, database name
/// and vendor, store) and the instrumentation profiles that name its spans.
fn describe_services(
    program: &mut Program,
    services_map: &ServiceMap,
    configs: &[ConfigFile],
    instrumentation: &[String],
) {
    use crate::discover::ConfigKind;
    use std::collections::BTreeSet;
    let services: BTreeSet<String> = program.services.iter().cloned().collect();
    // A build file applies to the service owning it and to every service below it.
    let roots: Vec<(&String, &String)> = services_map.roots().iter().collect();
    let applies_to = |rel_path: &str| -> BTreeSet<String> {
        let dir = crate::services::parent_dir(rel_path);
        let mut out: BTreeSet<String> = roots
            .iter()
            .filter(|(root, _)| {
                dir.is_empty() || *root == dir || root.starts_with(&format!("{dir}/"))
            })
            .map(|(_, name)| (*name).clone())
            .collect();
        out.insert(services_map.service_of(rel_path));
        out.retain(|s| services.contains(s));
        out
    };
    let mut dependencies: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut deployment: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut config: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    // Each service's own pom (the first, by path): a WAR's name is its context path.
    let mut war_poms: BTreeMap<String, String> = BTreeMap::new();
    // `application.yml` before profile-specific files.
    let mut ordered: Vec<&ConfigFile> = configs.iter().collect();
    ordered.sort_by_key(|c| {
        let name = c.rel_path.rsplit('/').next().unwrap_or("");
        let stem = name.split('.').next().unwrap_or("");
        (
            !matches!(stem, "application" | "bootstrap"),
            c.rel_path.clone(),
        )
    });
    for file in ordered {
        match file.kind {
            kind if kind.is_application_config() => config
                .entry(services_map.service_of(&file.rel_path))
                .or_default()
                .extend(crate::services::config_pairs(file)),
            ConfigKind::SqlScript => program
                .service_scripts
                .entry(services_map.service_of(&file.rel_path))
                .or_default()
                .push((file.rel_path.clone(), file.text.clone())),
            // A manifest outside the services' folders names the services it deploys
            // (container names, images); one that names none is a template over all
            // of them (a Helm chart's `range` over its values).
            ConfigKind::Manifest => {
                let dir = crate::services::parent_dir(&file.rel_path);
                let owner = roots
                    .iter()
                    .filter(|(root, _)| {
                        !root.is_empty()
                            && (dir == root.as_str() || dir.starts_with(&format!("{root}/")))
                    })
                    .max_by_key(|(root, _)| root.len())
                    .map(|(_, name)| (*name).clone())
                    .filter(|name| services.contains(name));
                // Per YAML document (`---`): the services it names, or every service
                // when it names none (a template over all of them).
                for document in file.text.split("\n---") {
                    let deployed: BTreeSet<String> = match &owner {
                        Some(name) => BTreeSet::from([name.clone()]),
                        None => {
                            let named: BTreeSet<String> = services
                                .iter()
                                .filter(|s| names_word(document, s))
                                .cloned()
                                .collect();
                            if named.is_empty() {
                                services.clone()
                            } else {
                                named
                            }
                        }
                    };
                    let lines: Vec<String> = document
                        .lines()
                        .map(|l| l.trim().to_ascii_lowercase())
                        .collect();
                    for service in deployed {
                        deployment
                            .entry(service)
                            .or_default()
                            .extend(lines.iter().cloned());
                    }
                }
            }
            ConfigKind::Dockerfile | ConfigKind::Compose => {
                for service in applies_to(&file.rel_path) {
                    deployment
                        .entry(service)
                        .or_default()
                        .extend(file.text.lines().map(|l| l.trim().to_ascii_lowercase()));
                }
            }
            _ => {
                let found = crate::services::dependencies_of(file);
                if file.kind == ConfigKind::MavenPom {
                    war_poms
                        .entry(services_map.service_of(&file.rel_path))
                        .or_insert_with(|| file.text.clone());
                }
                if matches!(
                    file.kind,
                    ConfigKind::MavenPom
                        | ConfigKind::Gradle
                        | ConfigKind::GoMod
                        | ConfigKind::Requirements
                        | ConfigKind::PythonProject
                ) {
                    for service in applies_to(&file.rel_path) {
                        dependencies
                            .entry(service)
                            .or_default()
                            .extend(found.clone());
                    }
                }
            }
        }
    }
    let no_pairs = Vec::new();
    let mut detector = crate::conventions::ProfileDetector::new(crate::knowledge::embedded());
    for service in &services {
        let deps: Vec<String> = dependencies
            .get(service)
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default();
        let lines = deployment.get(service).cloned().unwrap_or_default();
        let mut pairs = config.get(service).unwrap_or(&no_pairs).clone();
        // The servlet container's context path, as the deployment copies the WAR.
        if let Some(path) = war_poms
            .get(service)
            .and_then(|pom| crate::services::war_context_path(pom, &lines))
        {
            pairs.push(("servlet.context-path".into(), path));
        }
        let pairs = &pairs;
        for language in [Language::Java, Language::Python, Language::Go] {
            let mut attrs = crate::conventions::service_attrs(language, pairs, &deps);
            let service_types = program
                .files
                .iter()
                .zip(&program.services)
                .filter(|(file, owner)| *owner == service && file.language == Some(language))
                .flat_map(|(file, _)| &file.types);
            crate::conventions::annotation_service_attrs(language, service_types, &mut attrs);
            if !attrs.is_empty() {
                program
                    .service_attrs
                    .insert((service.clone(), language), attrs);
            }
            let knowledge = crate::knowledge::embedded();
            let profiles: Vec<String> = if instrumentation.is_empty() {
                detector
                    .detect(language, &deps, &lines)
                    .into_iter()
                    .map(|p| p.id.clone())
                    .collect()
            } else {
                crate::conventions::profiles_for(knowledge, language, instrumentation)
                    .into_iter()
                    .map(|p| p.id.clone())
                    .collect()
            };
            if !profiles.is_empty() || !instrumentation.is_empty() {
                program
                    .profiles
                    .insert((service.clone(), language), profiles);
            }
        }
        if dependencies.contains_key(service) {
            program.service_dependencies.insert(service.clone(), deps);
        }
    }
}

/// Counts trace spans per draft rule with the runtime sampler's matcher (same
/// precedence as at run time).
pub fn measure_volumes(drafts: &[RuleDraft], spans: &[(String, String)]) -> Volumes {
    let policy = policy_gen::keep_all_policy(drafts);
    let mut volumes = Volumes {
        per_rule: vec![0; drafts.len()],
        unmatched: 0,
        errors: 0,
    };
    let Ok(matchers) = runtime_sampler::matcher::CompiledMatchers::compile(&policy) else {
        volumes.unmatched = spans.len() as u64;
        return volumes;
    };
    for (service, name) in spans {
        match matchers.find(service, name) {
            // Start-form rules (after the drafts' own) have conditions, which `find`
            // never meets; counted as unmatched should one ever match.
            Some(hit) => match volumes.per_rule.get_mut(hit.rule as usize) {
                Some(count) => *count += 1,
                None => volumes.unmatched += 1,
            },
            None => volumes.unmatched += 1,
        }
    }
    volumes
}

/// Whether `text` contains `word` bounded by characters that cannot continue a service
/// name (letters, digits, `-`, `_`).
fn names_word(text: &str, word: &str) -> bool {
    let continues = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(word).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(continues)
            && !text[at + word.len()..]
                .chars()
                .next()
                .is_some_and(continues)
    })
}
