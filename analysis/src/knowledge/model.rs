//! The shape of the data files: frameworks (`frameworks/<language>/<id>.toml`: which
//! calls leave the process, which functions serve requests) and instrumentation
//! profiles (`profiles/<id>.toml`: the span names an agent gives each kind of site).
//! Every field is documented here; `docs/architecture.md` shows how to add a file.

use crate::facts::Language;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Attribute templates: attribute name → templates (each may expand to several values).
pub type AttrTemplates = BTreeMap<String, Vec<String>>;

/// A framework or library file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkFile {
    /// Unique id, the file's name without extension.
    pub id: String,
    /// Language of the code it reads.
    pub language: Language,
    /// One line on what it covers.
    pub title: String,
    /// Where the conventions come from (documentation, source files and versions).
    #[serde(default)]
    pub cites: Vec<String>,
    /// Calls that leave the process or reach a store.
    #[serde(default)]
    pub calls: Vec<CallRule>,
    /// Functions that serve requests, declared by annotations or decorators.
    #[serde(default)]
    pub entries: Vec<EntryRule>,
    /// Interfaces whose methods are remote calls (declarative HTTP clients).
    #[serde(default)]
    pub clients: Vec<ClientRule>,
    /// Calls that register a handler for a route or an RPC service.
    #[serde(default)]
    pub registrations: Vec<RegistrationRule>,
    /// Router objects that carry a route prefix, and calls that mount them under one.
    #[serde(default)]
    pub routers: Vec<RouterRule>,
    /// Service attributes read from configuration files (context paths, database names).
    #[serde(default)]
    pub config: Vec<ConfigRule>,
    /// Service attributes implied by build dependencies (the database vendor of a
    /// driver).
    #[serde(default)]
    pub dependencies: Vec<DependencyRule>,
    /// Spans the framework's own code opens inside the requests its entries serve.
    #[serde(default)]
    pub inner: Vec<InnerRule>,
    /// Requests the framework serves by itself, with no handler in the code (a
    /// gateway's routing from configuration).
    #[serde(default)]
    pub served: Vec<ServedRule>,
    /// Calls that open a span named by one of their arguments.
    #[serde(default)]
    pub spans: Vec<SpanRule>,
}

/// A call that makes a span named by one of its arguments: a tracing middleware given
/// its operation name (go-kit's `kitot.TraceServer(tracer, "GET /catalogue")`). Each
/// matching call is a `manual` site (attributes `name`, `api`), like a span opened by
/// hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpanRule {
    /// Patterns on the called function or method.
    pub callees: Vec<String>,
    /// The calling file must import a module matching one of these.
    pub file_imports: Vec<String>,
    /// Index of the argument naming the span (a string pattern; a call whose argument
    /// is not one makes no site).
    pub name_arg: usize,
    /// The tracing API, the site's `api` attribute (`opentracing`).
    pub api: String,
}

/// An entry the framework serves without a handler in the code, when the service
/// depends on it. It is anchored to the function that starts the application (the
/// code it reaches is that function's), which a framework's `inner` spans join.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServedRule {
    /// What it serves.
    pub kind: EntryKind,
    /// Framework name, usable in profiles (`framework`) and by `inner` rules.
    pub framework: String,
    /// The service must depend on one of these (patterns on dependency names).
    pub requires_dependency: Vec<String>,
    /// Patterns on the annotations of the anchoring function's owner type.
    pub anchor_owner_annotations: Vec<String>,
    /// Patterns on the anchoring function's name.
    pub anchor_functions: Vec<String>,
    /// Attributes of the entry (`method`, and `class`/`function` of the framework's
    /// handler, which then name it instead of the anchor).
    #[serde(default)]
    pub attrs: AttrTemplates,
    /// HTTP routes it serves, each joined under the service's `context_path` and the
    /// service attribute `service_prefix` names; none: the entry has no route (only
    /// profile rules written for its `framework` name it).
    #[serde(default)]
    pub routes: Vec<String>,
    /// A service attribute whose value prefixes every route (a base path from config).
    #[serde(default)]
    pub service_prefix: Option<String>,
}

/// What kind of exit an effect is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EffectKind {
    /// An HTTP client call (attributes `method`, `url`).
    Http,
    /// A database or cache call (attributes `system`, `operation`, `target`, ...).
    Database,
    /// A message sent (attributes `system`, `exchange`, `destination`).
    Produce,
    /// An RPC stub call (attributes `package`, `service`, `method`).
    Rpc,
}

/// A rule that classifies calls. Every condition given must hold; patterns follow
/// [`super::pattern`] and their captures become attributes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRule {
    /// What the call is.
    pub effect: EffectKind,
    /// Library name, shown in evidence and usable in profiles (`library`).
    pub library: String,
    /// Patterns on the receiver's declared type, last identifier (`RestTemplate`).
    #[serde(default)]
    pub receiver_types: Vec<String>,
    /// Patterns on the receiver's declared type as written (`*.{service}Client`).
    #[serde(default)]
    pub receiver_written: Vec<String>,
    /// Patterns on the receiver type's supertypes, last identifiers (`*Repository`).
    #[serde(default)]
    pub receiver_supertypes: Vec<String>,
    /// Patterns on the import path the receiver resolves to (`requests`, `net/http`).
    #[serde(default)]
    pub receiver_imports: Vec<String>,
    /// The rule does not apply when the receiver's import path matches one of these.
    #[serde(default)]
    pub not_receiver_imports: Vec<String>,
    /// Patterns on the receiver's text, lower case.
    #[serde(default)]
    pub receiver_texts: Vec<String>,
    /// The receiver text must not match these (lower case).
    #[serde(default)]
    pub not_receiver_texts: Vec<String>,
    /// Only when neither the receiver's type nor its import is known.
    #[serde(default)]
    pub untyped: bool,
    /// Only when the receiver's type has no declaration in the tree (its name is all
    /// there is to go by).
    #[serde(default)]
    pub undeclared: bool,
    /// Only when the receiver is an imported package or module itself (`http.Get`).
    #[serde(default)]
    pub package_call: bool,
    /// The calling file must import a module matching one of these.
    #[serde(default)]
    pub file_imports: Vec<String>,
    /// The calling file must import no module matching these.
    #[serde(default)]
    pub not_file_imports: Vec<String>,
    /// Patterns on the called method; empty matches any.
    #[serde(default)]
    pub callees: Vec<String>,
    /// Methods never classified (`toString`, ...).
    #[serde(default)]
    pub not_callees: Vec<String>,
    /// Fewest arguments.
    #[serde(default)]
    pub min_args: Option<usize>,
    /// Most arguments.
    #[serde(default)]
    pub max_args: Option<usize>,
    /// Attributes of the effect: templates over the call's attributes (`callee`,
    /// `receiver`, `receiver_type`, `receiver_import`, `receiver_type_path`: the
    /// qualified name the receiver type's first identifier stands for
    /// (`conventions::written_type_path`), `arg0`, `arg1`, ...,
    /// `method_arg`: an HTTP method named in the arguments, `store`: the store of a
    /// repository's entity or service) and the captures of the patterns above.
    #[serde(default)]
    pub attrs: AttrTemplates,
    /// More attributes by called method, the first matching entry wins.
    #[serde(default)]
    pub by_callee: Vec<ByCallee>,
    /// More attributes by the type of an argument, the first matching entry wins: the
    /// type created in place (`execute(new HttpGet(url))`) or the declared type of the
    /// local or parameter passed (`execute(get)` after `HttpGet get = ...`).
    #[serde(default)]
    pub by_arg_type: Vec<ByArgType>,
    /// The other calls of this call's fluent chain in the same function: calls made on
    /// its result further down (`client.get().uri(url)`: `uri`) and calls it is made on
    /// (`new Builder().get().url(u)`: `get`, for the rule on `url`). For each entry, the
    /// nearest such call matching `callees` adds `attrs`, templates over that call's own
    /// attributes (`callee`, `arg0`, ..., `method_arg`); they replace the rule's
    /// attributes of the same name.
    #[serde(default)]
    pub chained: Vec<ByCallee>,
    /// The `system` attribute from the receiver's supertypes, the first match wins.
    #[serde(default)]
    pub system_by_supertype: Vec<(String, String)>,
    /// Which generic argument of the receiver's supertype names the entity it stores
    /// (`CrudRepository<Order, String>`: 0); gives `entity`, `entity_qualified`,
    /// `table` and `store`.
    #[serde(default)]
    pub entity_arg: Option<usize>,
    /// Entity annotations and the store each implies (`Document` → `mongo`).
    #[serde(default)]
    pub entity_stores: Vec<(String, String)>,
    /// (annotation, argument) pairs naming the entity's table; otherwise the table is
    /// the entity's name in snake case.
    #[serde(default)]
    pub entity_tables: Vec<(String, String)>,
    /// Field annotations of the entity whose values live in a table of their own,
    /// named by `entity_collection_tables`, else `<entity name>_<field>` in snake case
    /// (the entity's name, not its table's); added to `table`.
    #[serde(default)]
    pub entity_collection_annotations: Vec<String>,
    /// (field annotation, argument) naming a collection table explicitly
    /// (`@CollectionTable(name = "...")`).
    #[serde(default)]
    pub entity_collection_tables: Vec<(String, String)>,
    /// Index of the argument holding a SQL statement (`jdbc.update("UPDATE stock ...")`):
    /// its operation and main table become `statement` and `table`.
    #[serde(default)]
    pub sql_arg: Option<usize>,
    /// (annotation, argument) on the called method holding its query statement; its
    /// operation and main table become `query_statement` and `query_target`.
    #[serde(default)]
    pub query_annotation: Option<(String, String)>,
    /// Argument of that annotation that marks the statement as native SQL: its table
    /// and operation then replace `table` and `statement`.
    #[serde(default)]
    pub native_query_arg: Option<String>,
    /// (field annotation, argument) marking an entity's generated identifier and the
    /// argument naming its strategy: gives `id_generation`, the strategy's last
    /// identifier (`GenerationType.IDENTITY` → `IDENTITY`), `AUTO` when not given.
    #[serde(default)]
    pub entity_generated_id: Option<(String, String)>,
    /// SQL statements the call issues, each a span of its own (the sequence query
    /// before an insert; the scripts and schema a framework runs at startup).
    #[serde(default)]
    pub statements: Vec<StatementRule>,
    /// The call has no span of its own: only its `statements` are spans.
    #[serde(default)]
    pub statements_only: bool,
}

/// SQL a classified call issues besides its own span. Each statement becomes an effect
/// of its own: the rule's `library`, the call rule's `attrs`, and the statement's
/// summary (`statement` and `table` for DML; `ddl`, `ddl_object` as written,
/// `ddl_keyword` upper case and `table` for DDL).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementRule {
    /// Library of the statement spans (`jdbc`).
    pub library: String,
    /// Conditions on the call's attributes (service attributes included, and with
    /// `per_entity` the entity's): each named attribute must have a value matching one
    /// of the patterns (`[]`: the attribute must be absent).
    #[serde(default)]
    pub when: BTreeMap<String, Vec<String>>,
    /// SQL text templates over the same attributes.
    #[serde(default)]
    pub sql: Vec<String>,
    /// Patterns on the paths of the service's SQL scripts (relative to the source
    /// root): every statement of each matching script, scripts in path order.
    #[serde(default)]
    pub scripts: Vec<String>,
    /// Expands `sql` once per entity of the service: every type carrying one of these
    /// annotations, with its `entity`, `entity_qualified`, `table` and `id_generation`
    /// (by the call rule's `entity_tables` and `entity_generated_id`).
    #[serde(default)]
    pub per_entity: Vec<String>,
}

/// A span the framework's own code opens inside every request one of its entries
/// serves, when the service depends on it (Spring Boot's error page controller, the
/// servlet container's response object, a gateway's forwarded request): one site per
/// entry, of class `site`, named by the profiles from `attrs`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InnerRule {
    /// The entries it happens in: an [`EntryRule`]'s `framework`.
    pub entry_framework: String,
    /// The service must depend on one of these (patterns on dependency names).
    pub requires_dependency: Vec<String>,
    /// ... and on none of these.
    #[serde(default)]
    pub not_dependency: Vec<String>,
    /// Attributes of the site (`class`, `function`, `role`, ...); the entry's
    /// `framework` joins them.
    pub attrs: AttrTemplates,
    /// The span happens in every request the entry serves (a gateway's handler), not
    /// only in those that fail: costed at the entry's volume.
    #[serde(default)]
    pub every_request: bool,
    /// The site class the profiles name it as: `internal` (default) or `http.client`
    /// (a request the framework itself sends on, such as a gateway's forward).
    #[serde(default = "internal_site")]
    pub site: SiteClass,
}

fn internal_site() -> SiteClass {
    SiteClass::Internal
}

/// Attributes that apply when the called method matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByCallee {
    /// Patterns on the called method (case-insensitive: matched in lower case).
    pub callees: Vec<String>,
    /// Attribute templates.
    pub attrs: AttrTemplates,
}

/// Attributes that apply when an argument's type matches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByArgType {
    /// Index of the argument.
    pub arg: usize,
    /// Patterns on the argument's type, last identifier (captures join the templates'
    /// attributes, and `created_arg0`: the first argument of an object created in place
    /// when it is a string literal, `new ProducerRecord<>("orders", v)` → `orders`).
    pub types: Vec<String>,
    /// Attribute templates.
    pub attrs: AttrTemplates,
}

/// What kind of entry a function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// Serves an HTTP route (attributes `route`, `method`).
    Http,
    /// Serves an RPC method (attribute `full_method`).
    Rpc,
    /// Handles messages (attributes `system`, `destination`).
    Consumer,
    /// Runs on a schedule.
    Scheduled,
}

/// Entries declared by an annotation or decorator on the function.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRule {
    /// What the function serves.
    pub kind: EntryKind,
    /// Framework name, usable in profiles (`framework`).
    pub framework: String,
    /// Patterns on the owner type's annotations: one must be present.
    #[serde(default)]
    pub owner_annotations: Vec<String>,
    /// Patterns on the owner type's supertypes as written (`*Grpc.{service}ImplBase`):
    /// one must match; its captures join the templates' attributes, with
    /// `supertype_import`, the qualified name the supertype's first identifier
    /// resolves to through the file's imports (the file's own package otherwise). An
    /// RPC entry with a `service` attribute serves the methods of the owner that are
    /// that service's RPCs by the `.proto` files (`graph::resolve_rpc_entries`).
    #[serde(default)]
    pub owner_supertypes: Vec<String>,
    /// Patterns on the declared types of the function's parameters, as written without
    /// generic arguments: one parameter must match (`StreamObserver`).
    #[serde(default)]
    pub param_types: Vec<String>,
    /// Function annotation patterns and the attributes each implies (captures too).
    #[serde(default)]
    pub annotations: BTreeMap<String, AttrTemplates>,
    /// The service attribute, a template over `owner` (the owner type's qualified
    /// name), whose values are the paths the owner serves (`servlet_mapping.{owner}`:
    /// the routes a web.xml maps to the servlet class, set by a `config` rule with
    /// `key_prefix`). The rule applies only to owners it names; the values replace the
    /// `path` arguments.
    #[serde(default)]
    pub owner_paths_from: Option<String>,
    /// Function name patterns and the attributes each implies, for methods the owner
    /// type serves by their name (a servlet's `doGet`); needs `owner_annotations`,
    /// `owner_supertypes` or `owner_paths_from`.
    /// Annotation arguments come from `args_from_owner`.
    #[serde(default)]
    pub functions: BTreeMap<String, AttrTemplates>,
    /// Read the arguments of this owner annotation instead of the function's own
    /// (a class-level listener whose methods carry a marker annotation).
    #[serde(default)]
    pub args_from_owner: Option<String>,
    /// Read the arguments of this other annotation of the function, when it has one,
    /// instead of the matched one's (JAX-RS: `@GET` says the method, a sibling `@Path`
    /// the path; without it the method serves the owner's path).
    #[serde(default)]
    pub args_from_function: Option<String>,
    /// Attribute → annotation argument names giving its values (`""`: positional).
    #[serde(default)]
    pub args: BTreeMap<String, Vec<String>>,
    /// Attribute defaults when neither the annotation table nor the arguments give one.
    /// Templates here and in `annotations` may use the pattern's captures, `function`
    /// (the decorated function's name) and `module` (its file's dotted module path).
    #[serde(default)]
    pub defaults: AttrTemplates,
    /// Owner annotation whose path arguments (`value`, `path`, positional) prefix the
    /// route.
    #[serde(default)]
    pub prefix_annotation: Option<String>,
    /// Service attribute (set by a `config` rule) prefixing every route between the
    /// context path and the owner's prefix (JAX-RS `@ApplicationPath`).
    #[serde(default)]
    pub service_prefix: Option<String>,
    /// Attribute (a capture of the annotation pattern) naming a router variable whose
    /// prefix applies (Python blueprints and routers).
    #[serde(default)]
    pub router_capture: Option<String>,
}

/// Interfaces whose methods call a remote service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientRule {
    /// Library name.
    pub library: String,
    /// The interface annotation.
    pub annotation: String,
    /// Arguments holding a full base URL.
    #[serde(default)]
    pub url_args: Vec<String>,
    /// Arguments holding a service name (`""`: positional), called as `http://name`.
    #[serde(default)]
    pub name_args: Vec<String>,
    /// Arguments holding a path prefix.
    #[serde(default)]
    pub path_args: Vec<String>,
    /// The framework (an [`EntryRule`] of it) whose mapping annotations give each
    /// method's HTTP method and path.
    pub mappings_of: String,
}

/// A call that registers handlers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRule {
    /// What the handlers serve.
    pub kind: EntryKind,
    /// Framework name.
    pub framework: String,
    /// Patterns on the called function or method (captures become attributes).
    pub callees: Vec<String>,
    /// The calling file must import a module matching one of these (which router
    /// library a `r.GET(...)` belongs to).
    #[serde(default)]
    pub file_imports: Vec<String>,
    /// Whether the call has a receiver (`mux.HandleFunc`) or is bare (`path(...)`);
    /// `None`: either.
    #[serde(default)]
    pub receiver: Option<bool>,
    /// Patterns on the receiver's text as written (`web`); empty: any.
    #[serde(default)]
    pub receiver_texts: Vec<String>,
    /// Only calls at the top level of a file (module bodies, package `var`s).
    #[serde(default)]
    pub top_level: bool,
    /// Index of an argument holding a list of tuples, one route each
    /// (`Application([(r"/a", A), (r"/b/(\d+)", B)])`): the rule reads every tuple of
    /// it as a call of its own, `route_arg` and `handler_arg` indexing the tuple.
    #[serde(default)]
    pub tuples_arg: Option<usize>,
    /// The route is a regular expression, reversed as the framework reverses it: the
    /// `^`/`$` anchors dropped, `\`-escapes outside groups unescaped, each group
    /// `{name}` after the handler method's parameters (past `self`) in order, or `%s`
    /// when their number differs from the groups'. A route that cannot be reversed (an
    /// escape such as `\d` outside a group, `(?:...)`) is left out.
    #[serde(default)]
    pub regex_route: bool,
    /// Index of the route argument.
    #[serde(default)]
    pub route_arg: Option<usize>,
    /// Without `route_arg`: patterns on the calls of the registration's receiver chain
    /// whose first argument is its route (gorilla/mux
    /// `r.Methods("GET").Path("/x").Handler(h)`); `methods_calls` in that chain give its
    /// methods, and the prefix is that of the chain's first receiver.
    #[serde(default)]
    pub route_calls: Vec<String>,
    /// Patterns the route must match.
    #[serde(default)]
    pub route_patterns: Vec<String>,
    /// The route may begin with an HTTP method and a space (Go 1.22 `ServeMux`
    /// patterns: `"GET /items/{id}"`): the method is the entry's, the rest its route.
    #[serde(default)]
    pub method_in_route: bool,
    /// Index of the handler argument (its last identifier names the handler).
    #[serde(default)]
    pub handler_arg: Option<usize>,
    /// Keyword argument naming the handler, when given by keyword.
    #[serde(default)]
    pub handler_kwarg: Option<String>,
    /// Keyword argument listing the HTTP methods.
    #[serde(default)]
    pub methods_kwarg: Option<String>,
    /// Patterns on calls chained on the registration whose literal arguments are its
    /// HTTP methods (gorilla/mux `r.HandleFunc("/x", h).Methods("GET")`).
    #[serde(default)]
    pub methods_calls: Vec<String>,
    /// The framework names the route, its routers' prefixes joined, without a trailing
    /// slash (chi's `RoutePattern`: `Mount("/users", r)` + `r.Get("/", h)` is `/users`).
    #[serde(default)]
    pub trim_trailing_slash: bool,
    /// Patterns on the handler argument's text that include another module's routes
    /// under this route (`include("{module}")`).
    #[serde(default)]
    pub include_patterns: Vec<String>,
    /// Methods of a class handler that serve the HTTP method of their name.
    #[serde(default)]
    pub class_handler_methods: Vec<String>,
    /// Text after the handler's name to ignore (`.as_view()`).
    #[serde(default)]
    pub handler_suffixes: Vec<String>,
    /// For RPC registrations: the capture naming the service, whose methods come from
    /// the `.proto` files.
    #[serde(default)]
    pub service_capture: Option<String>,
    /// Attribute templates over `callee`, the callee pattern's captures and the literal
    /// arguments `arg0`, `arg1`, ... (a `method` attribute gives the HTTP method).
    #[serde(default)]
    pub attrs: AttrTemplates,
}

/// Router objects and where they are mounted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouterRule {
    /// Router constructors (type or callee name): `Blueprint`, `APIRouter`.
    #[serde(default)]
    pub types: Vec<String>,
    /// Keyword arguments of the constructor holding its prefix.
    #[serde(default)]
    pub prefix_kwargs: Vec<String>,
    /// Calls that mount a router (first argument) under a prefix.
    #[serde(default)]
    pub mounts: Vec<String>,
    /// Patterns on calls on a router that return a sub-router serving under the path
    /// of their first argument, after the router's own prefix (gin and echo
    /// `r.Group("/api")`, gorilla/mux `r.PathPrefix("/api")`): routes registered on the
    /// result, through the variable it is assigned to or a call chained on it, take
    /// that prefix. Read within one function (`conventions::receiver_prefix`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Patterns on calls on a router that return a router with the same prefix
    /// (gorilla/mux `.Subrouter()`, chi `.With(middleware)`).
    #[serde(default)]
    pub same_prefix: Vec<String>,
    /// Patterns on calls whose function-literal argument receives, as its first
    /// parameter, a sub-router under the path of the call's first argument when that
    /// is a string (chi `r.Route("/api", func(r chi.Router) {...})`), else under the
    /// router's own prefix (chi `r.Group(func(r chi.Router) {...})`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Patterns on calls that mount the router given as second argument (a variable of
    /// the same function), or the router a function called there builds, under the
    /// path of the first (chi `r.Mount("/api", api)`, `r.Mount("/users",
    /// usersRouter())`).
    #[serde(default)]
    pub mounts_at: Vec<String>,
}

/// A service attribute from a configuration key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigRule {
    /// Attribute to set.
    pub attr: String,
    /// Dotted configuration keys (YAML paths or properties keys), first found wins.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Every configuration key that begins with this prefix sets the attribute
    /// `<attr>.<rest of the key>` to all the key's values in order (a web.xml's
    /// `servlet-mapping.<servlet class>` routes); `pattern` and `value` do not apply.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Type annotations (on any type of the service) whose `value` or positional
    /// argument gives the attribute when no key does (JAX-RS `@ApplicationPath`).
    #[serde(default)]
    pub type_annotations: Vec<String>,
    /// A pattern the value must match; its capture named like the attribute is the
    /// value (the whole value when absent).
    #[serde(default)]
    pub pattern: Option<String>,
    /// Value to use instead of the matched one (`mongo` for a MongoDB URI).
    #[serde(default)]
    pub value: Option<String>,
}

/// Service attributes implied by a build dependency.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyRule {
    /// Patterns on dependency names (`group:artifact`, Go module paths, Python
    /// distributions, lower case).
    pub dependencies: Vec<String>,
    /// Attributes.
    pub attrs: BTreeMap<String, Vec<String>>,
}

/// An instrumentation profile: how one agent (and version range) names spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    /// Id as given to `--instrumentation` (`otel-java@2`).
    pub id: String,
    /// Language it instruments.
    pub language: Language,
    /// One line.
    pub title: String,
    /// The agent's own naming code this follows: repository, version, file.
    pub cites: Vec<String>,
    /// Build-file evidence that a service runs under this instrumentation.
    #[serde(default)]
    pub detect: Detect,
    /// Naming rules, in order.
    pub names: Vec<NameRule>,
}

/// Evidence of an instrumentation in build and deployment files, in three strengths
/// (`conventions::ProfileDetector`): evidence that pins this profile (its agent and
/// version) beats evidence of the agent without a version, which beats the agent's
/// API in the code.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Detect {
    /// Patterns on dependency names (lower case) that pin this profile.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Patterns on Dockerfile and manifest lines (lower case) that pin this profile.
    #[serde(default)]
    pub deployment: Vec<String>,
    /// Patterns on dependency names showing the agent without its version (a jar
    /// copied by name): every profile listing a matching pattern applies, unless a
    /// pinning pattern of some profile of the language matches.
    #[serde(default)]
    pub any_version_dependencies: Vec<String>,
    /// Patterns on Dockerfile and manifest lines showing the agent without its version
    /// (`-javaagent:/otel-agent/otel-agent.jar`), read like `any_version_dependencies`.
    #[serde(default)]
    pub any_version_deployment: Vec<String>,
    /// Patterns on dependency names of the agent's API or toolkit (annotations,
    /// cross-thread helpers): the code was written with the agent in mind, but the API
    /// does nothing without it. Evidence only when no agent is found otherwise.
    #[serde(default)]
    pub api_dependencies: Vec<String>,
}

/// Site kinds a naming rule can apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub enum SiteClass {
    /// An HTTP route's server span.
    #[serde(rename = "http.server")]
    HttpServer,
    /// An RPC server method.
    #[serde(rename = "rpc.server")]
    RpcServer,
    /// A message listener.
    #[serde(rename = "messaging.consumer")]
    Consumer,
    /// A scheduled method.
    #[serde(rename = "scheduled")]
    Scheduled,
    /// An HTTP client call.
    #[serde(rename = "http.client")]
    HttpClient,
    /// An RPC stub call.
    #[serde(rename = "rpc.client")]
    RpcClient,
    /// A database or cache call.
    #[serde(rename = "db")]
    Database,
    /// A message sent.
    #[serde(rename = "messaging.producer")]
    Producer,
    /// A span opened by hand.
    #[serde(rename = "manual")]
    Manual,
    /// A span a framework's own code opens inside a request ([`InnerRule`]).
    #[serde(rename = "internal")]
    Internal,
}

/// How a predicted name matches span names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchAs {
    /// Literally (a `*` value makes it a glob).
    #[default]
    Exact,
    /// As a path whose `{}` and `{var}` parts stand for any segment text.
    Path,
    /// As a glob: `*` in the template's literal text matches any run of characters.
    Glob,
}

/// One naming rule of a profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRule {
    /// The kind of site.
    pub site: SiteClass,
    /// Attribute conditions: each named attribute must have a value matching one of
    /// the patterns (`[]`: the attribute must be absent).
    #[serde(default)]
    pub when: BTreeMap<String, Vec<String>>,
    /// The rule does not apply when a named attribute has a value matching one of the
    /// patterns.
    #[serde(default)]
    pub unless: BTreeMap<String, Vec<String>>,
    /// The service must depend on one of these (patterns on dependency names), when
    /// its build files are known: the instrumentation only names clients it wraps.
    #[serde(default)]
    pub requires_dependency: Vec<String>,
    /// Name templates.
    pub names: Vec<String>,
    /// How the names match.
    #[serde(default, rename = "match")]
    pub match_as: MatchAs,
    /// The names do not tell call sites apart (`GET`, `HTTP GET`): one rule per
    /// (service, name) gathers every site behind it.
    #[serde(default)]
    pub shared: bool,
    /// How the instrumentation names the span when it starts, if not by these names:
    /// what a head sampler (the SDKs) sees.
    #[serde(default)]
    pub start: Option<StartForm>,
}

/// A span's name and attributes at its start, when the instrumentation renames it
/// later (agents start HTTP server spans before routing and name them by the route
/// once it is known).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartForm {
    /// Name templates at start (exact).
    pub names: Vec<String>,
    /// The span kind (`server`, `client`, ...).
    pub kind: policy_schema::SpanKind,
    /// Start attribute → template of its value, matched as a path (`{x}` one segment).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}
