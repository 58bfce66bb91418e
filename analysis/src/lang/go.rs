//! Go: grammar, queries and extraction of facts.
//!
//! The query file `queries/go/facts.scm` finds the declarations, calls, locals, `if`
//! statements and returns; this module turns its matches into [`FileFacts`], attributing
//! each item to the function or method that encloses it (function literals belong to
//! their enclosing declaration). Context that queries express poorly (inside a loop,
//! inside an `if err != nil` block, string patterns of arguments) is found by walking
//! the tree.

use std::collections::HashMap;
use std::sync::OnceLock;

use tree_sitter::{Node, Query, Tree};

use super::LanguageSpec;
use super::syntax::{
    self, Item, Nested, StringEnv, collapse_whitespace, contains, count_syntax_errors,
    for_each_descendant, lines_of, named_children, position, text, truncate,
};
use crate::facts::{
    Call, Closure, ErrorAction, ErrorExit, ErrorHandler, Field, FileFacts, Function, Import,
    Language, ManualSpan, StringConstant, TypeDecl, TypeKind,
};

const FACTS_QUERY: &str = include_str!("../../queries/go/facts.scm");

/// The Go registration.
pub const SPEC: LanguageSpec = LanguageSpec {
    language: Language::Go,
    extensions: &["go"],
    grammar,
    queries: &[("facts.scm", FACTS_QUERY)],
    extract,
};

fn grammar() -> tree_sitter::Language {
    tree_sitter_go::LANGUAGE.into()
}

/// The compiled facts query (compiled once; the query text is a fixed asset checked by
/// the tests, so a failure here is a build defect, not bad input).
fn facts_query() -> &'static Query {
    static QUERY: OnceLock<Query> = OnceLock::new();
    QUERY
        .get_or_init(|| Query::new(&grammar(), FACTS_QUERY).expect("queries/go/facts.scm compiles"))
}

/// Longest argument text kept in [`Call::arg_texts`].
const MAX_ARG_TEXT: usize = 200;
/// Recursion bound for expression walks, so hostile nesting cannot overflow the stack.
const MAX_DEPTH: usize = 48;

/// Main captures: the ones that name what a pattern found.
const MAIN_CAPTURES: &[&str] = &[
    "definition.package",
    "reference.import",
    "definition.constant",
    "definition.struct",
    "definition.interface",
    "definition.function",
    "definition.method",
    "reference.call",
    "definition.local",
    "definition.assignment",
    "definition.var",
    "handler.if",
    "exit.return",
];

fn run_query<'t>(root: Node<'t>, source: &str) -> Vec<Item<'t>> {
    syntax::run_query(facts_query(), MAIN_CAPTURES, root, source)
}

/// What a node inherits from its ancestors (see [`syntax::inherited_contexts`]).
#[derive(Debug, Clone, Copy, Default)]
struct Context {
    /// Node id of the enclosing function or method declaration.
    function: Option<usize>,
    /// In the body of a `for` loop of that function.
    in_loop: bool,
    /// Byte range of the innermost block (scope of a local assignment).
    block: (usize, usize),
}

fn contexts(root: Node<'_>) -> HashMap<usize, Context> {
    // The kinds whose context is asked for: the main captures of the facts query.
    let keep = |kind: &str| {
        matches!(
            kind,
            "call_expression"
                | "short_var_declaration"
                | "assignment_statement"
                | "var_spec"
                | "if_statement"
                | "return_statement"
        )
    };
    syntax::inherited_contexts(root, keep, |parent, cursor, context: Context| {
        let mut child = context;
        match parent.kind() {
            "function_declaration" | "method_declaration" => {
                child.function = Some(parent.id());
                child.in_loop = false;
            }
            "for_statement" if cursor.field_name() == Some("body") => child.in_loop = true,
            _ => {}
        }
        if syntax::is_statement_block(parent.kind()) {
            child.block = (parent.start_byte(), parent.end_byte());
        }
        child
    })
}

/// A variable name that conventionally holds an error.
fn is_error_name(name: &str) -> bool {
    name == "err"
        || name == "e"
        || name == "error"
        || name.ends_with("Err")
        || name.ends_with("err")
}

/// True when `condition` contains `<error variable> != nil`.
fn tests_error(condition: Node<'_>, source: &str) -> bool {
    let mut found = false;
    let mut check = |node: Node<'_>| {
        if node.kind() != "binary_expression" {
            return;
        }
        let operator = node
            .child_by_field_name("operator")
            .map(|op| text(op, source));
        if operator != Some("!=") {
            return;
        }
        let (Some(left), Some(right)) = (
            node.child_by_field_name("left"),
            node.child_by_field_name("right"),
        ) else {
            return;
        };
        let is_err = |n: Node<'_>| n.kind() == "identifier" && is_error_name(text(n, source));
        let is_nil = |n: Node<'_>| n.kind() == "nil";
        if (is_err(left) && is_nil(right)) || (is_nil(left) && is_err(right)) {
            found = true;
        }
    };
    check(condition);
    for_each_descendant(condition, check);
    found
}

/// How a call relates to error handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallEffect {
    /// Logs at error/warning level (or an unleveled standard `log.Print*`).
    Log,
    /// Panics or exits the process.
    Panic,
    /// Sends an error response (`http.Error`, `w.WriteHeader`).
    ErrorResponse,
    /// Nothing error-related.
    None,
}

const LOG_LEVEL_NAMES: &[&str] = &[
    "Error", "Errorf", "Errorw", "Errorln", "Err", "Warn", "Warnf", "Warnw", "Warning", "Warningf",
    "Warnln", "Print", "Printf", "Println",
];
const PANIC_NAMES: &[&str] = &[
    "Fatal", "Fatalf", "Fatalln", "Fatalw", "Panic", "Panicf", "Panicln", "Panicw",
];

/// Names along a call chain: `log.Error().Msgf(...)` gives `Msgf`, `Error`; also
/// whether its root looks like a logger.
fn chain_names<'s>(call: Node<'_>, source: &'s str) -> (Vec<&'s str>, bool) {
    let mut names = Vec::new();
    let mut current = Some(call);
    let mut loggerish = false;
    for _ in 0..MAX_DEPTH {
        let Some(node) = current else { break };
        match node.kind() {
            "call_expression" => current = node.child_by_field_name("function"),
            "selector_expression" => {
                if let Some(field) = node.child_by_field_name("field") {
                    names.push(text(field, source));
                    let lower = text(field, source).to_ascii_lowercase();
                    if lower.contains("log") {
                        loggerish = true;
                    }
                }
                current = node.child_by_field_name("operand");
            }
            "identifier" => {
                let root = text(node, source).to_ascii_lowercase();
                if root.contains("log") || matches!(root.as_str(), "zap" | "l") {
                    loggerish = true;
                }
                names.push(text(node, source));
                break;
            }
            _ => break,
        }
    }
    (names, loggerish)
}

fn call_effect(call: Node<'_>, source: &str) -> CallEffect {
    let (names, loggerish) = chain_names(call, source);
    let Some(callee) = names.first().copied() else {
        return CallEffect::None;
    };
    let root = names.last().copied().unwrap_or("");
    if names.len() == 1 && callee == "panic" {
        return CallEffect::Panic;
    }
    if root == "os" && callee == "Exit" {
        return CallEffect::Panic;
    }
    if root == "http" && callee == "Error" && names.len() == 2 {
        return CallEffect::ErrorResponse;
    }
    if callee == "WriteHeader" {
        return CallEffect::ErrorResponse;
    }
    if loggerish {
        if names.iter().any(|name| PANIC_NAMES.contains(name)) {
            return CallEffect::Panic;
        }
        if names.iter().any(|name| LOG_LEVEL_NAMES.contains(name)) {
            return CallEffect::Log;
        }
    }
    CallEffect::None
}

/// True when a return statement's last value is an error: an error variable or a call
/// that builds one (`fmt.Errorf`, `errors.New`, `status.Errorf`, `errors.Wrap`).
fn returns_error(ret: Node<'_>, source: &str) -> bool {
    let Some(values) = ret.named_child(0) else {
        return false;
    };
    let last = if values.kind() == "expression_list" {
        match named_children(values).last() {
            Some(last) => *last,
            None => return false,
        }
    } else {
        values
    };
    match last.kind() {
        "identifier" => is_error_name(text(last, source)),
        "call_expression" => {
            let (names, _) = chain_names(last, source);
            let callee = names.first().copied().unwrap_or("");
            let root = names.last().copied().unwrap_or("");
            matches!(
                (root, callee),
                ("fmt", "Errorf")
                    | (
                        "errors",
                        "New" | "Wrap" | "Wrapf" | "WithMessage" | "WithStack" | "Join"
                    )
                    | ("status", "Error" | "Errorf")
                    | ("grpc", "Errorf")
            )
        }
        _ => false,
    }
}

type Env = StringEnv;

struct Extractor<'s> {
    source: &'s str,
    package: String,
    /// Package-level string constants of this file.
    constants: HashMap<String, String>,
    /// Package-level `var x = "..."` values of this file (last assignment wins).
    package_strings: HashMap<String, String>,
    /// Import paths by local name.
    imports: HashMap<String, String>,
}

impl Extractor<'_> {
    fn text(&self, node: Node<'_>) -> &str {
        text(node, self.source)
    }

    /// The string pattern of an expression, if it has any literal part.
    fn pattern(&self, node: Node<'_>, env: &Env, at: usize) -> Option<String> {
        let (pattern, literal) = self.piece(node, env, at, 0);
        literal.then_some(pattern)
    }

    /// A piece of a pattern and whether it contains literal text.
    fn piece(&self, node: Node<'_>, env: &Env, at: usize, depth: usize) -> (String, bool) {
        let unknown = ("{}".to_string(), false);
        if depth > MAX_DEPTH {
            return unknown;
        }
        match node.kind() {
            "interpreted_string_literal" => (unquote(self.text(node)), true),
            "raw_string_literal" => {
                let raw = self.text(node);
                let inner = raw
                    .strip_prefix('`')
                    .and_then(|r| r.strip_suffix('`'))
                    .unwrap_or(raw);
                (inner.to_string(), true)
            }
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => self.piece(inner, env, at, depth + 1),
                None => unknown,
            },
            "binary_expression" => {
                let operator = node.child_by_field_name("operator").map(|op| self.text(op));
                match (
                    operator,
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) {
                    (Some("+"), Some(left), Some(right)) => {
                        let (l, l_lit) = self.piece(left, env, at, depth + 1);
                        let (r, r_lit) = self.piece(right, env, at, depth + 1);
                        (format!("{l}{r}"), l_lit || r_lit)
                    }
                    _ => unknown,
                }
            }
            "identifier" => {
                let name = self.text(node);
                if let Some(pattern) = env.lookup(name, at) {
                    (pattern.to_string(), true)
                } else if let Some(value) = self
                    .constants
                    .get(name)
                    .or_else(|| self.package_strings.get(name))
                {
                    (value.clone(), true)
                } else {
                    unknown
                }
            }
            "call_expression" => self.format_call(node, env, at, depth).unwrap_or(unknown),
            _ => unknown,
        }
    }

    /// `fmt.Sprintf("/x/%s", id)` → `/x/{}` (literal arguments are substituted).
    fn format_call(
        &self,
        call: Node<'_>,
        env: &Env,
        at: usize,
        depth: usize,
    ) -> Option<(String, bool)> {
        let function = call.child_by_field_name("function")?;
        let name = self.text(function);
        if !matches!(name, "fmt.Sprintf" | "fmt.Errorf") {
            return None;
        }
        let arguments = call.child_by_field_name("arguments")?;
        let mut args = named_children(arguments);
        if args.is_empty() {
            return None;
        }
        let format = args.remove(0);
        let (format, literal) = self.piece(format, env, at, depth + 1);
        if !literal {
            return None;
        }
        let values: Vec<String> = args
            .iter()
            .map(|arg| {
                let (piece, lit) = self.piece(*arg, env, at, depth + 1);
                if lit { piece } else { "{}".to_string() }
            })
            .collect();
        Some((substitute_verbs(&format, &values), true))
    }

    /// The obvious type of an initializer: `pb.NewGeoClient(c)` → `pb.GeoClient`,
    /// `&Server{}` → `Server`, `new(T)` → `T`, `x.(T)` → `T`, and a few well-known
    /// library constructors and chains (MongoDB, mgo, memcache, gRPC, database/sql).
    fn obvious_type(&self, value: Node<'_>) -> Option<String> {
        match value.kind() {
            "unary_expression" => {
                let operand = value.child_by_field_name("operand")?;
                (operand.kind() == "composite_literal")
                    .then(|| self.obvious_type(operand))
                    .flatten()
            }
            "composite_literal" => {
                let ty = value.child_by_field_name("type")?;
                Some(strip_type_args(self.text(ty)))
            }
            "type_assertion_expression" => {
                let ty = value.child_by_field_name("type")?;
                Some(self.text(ty).to_string())
            }
            "call_expression" => self.call_result_type(value),
            _ => None,
        }
    }

    fn call_result_type(&self, call: Node<'_>) -> Option<String> {
        let function = call.child_by_field_name("function")?;
        match function.kind() {
            "identifier" => {
                let name = self.text(function);
                if name == "new" {
                    let arg = call.child_by_field_name("arguments")?.named_child(0)?;
                    return Some(self.text(arg).trim_start_matches('*').to_string());
                }
                constructor_type(name).map(str::to_string)
            }
            "selector_expression" => {
                let operand = function.child_by_field_name("operand")?;
                let method = self.text(function.child_by_field_name("field")?);
                if operand.kind() == "identifier" {
                    let package = self.text(operand);
                    if let Some(path) = self.imports.get(package) {
                        if let Some(known) = known_constructor(path, method) {
                            return Some(known.to_string());
                        }
                        return constructor_type(method).map(|ty| format!("{package}.{ty}"));
                    }
                }
                self.known_chain(method)
            }
            _ => None,
        }
    }

    /// Method chains whose result type is fixed by a driver the file imports.
    fn known_chain(&self, method: &str) -> Option<String> {
        let imports = |needle: &str| self.imports.values().any(|path| path.contains(needle));
        let ty = match method {
            "Database" if imports("mongo-driver") => "mongo.Database",
            "Collection" if imports("mongo-driver") => "mongo.Collection",
            "DB" if imports("mgo") => "mgo.Database",
            "C" if imports("mgo") => "mgo.Collection",
            "Copy" | "Clone" if imports("mgo") => "mgo.Session",
            _ => return None,
        };
        Some(ty.to_string())
    }

    fn field_of_param(&self, declaration: Node<'_>) -> Vec<Field> {
        let Some(ty) = declaration.child_by_field_name("type") else {
            return Vec::new();
        };
        let mut type_name = strip_type_args(self.text(ty));
        if declaration.kind() == "variadic_parameter_declaration" {
            type_name = format!("...{type_name}");
        }
        let mut cursor = declaration.walk();
        let names: Vec<Node<'_>> = declaration
            .children_by_field_name("name", &mut cursor)
            .collect();
        names
            .into_iter()
            .map(|name| Field {
                name: self.text(name).to_string(),
                type_name: type_name.clone(),
                annotations: Vec::new(),
            })
            .collect()
    }

    fn params(&self, list: Node<'_>) -> Vec<Field> {
        named_children(list)
            .into_iter()
            .filter(|child| {
                matches!(
                    child.kind(),
                    "parameter_declaration" | "variadic_parameter_declaration"
                )
            })
            .flat_map(|declaration| self.field_of_param(declaration))
            .collect()
    }

    fn type_decl(&self, item: &Item<'_>) -> Option<TypeDecl> {
        let name = self.text(item.get("name")?).to_string();
        let body = item.get("type.body")?;
        let mut decl = TypeDecl {
            qualified: format!("{}.{name}", self.package),
            name,
            position: position(item.node),
            ..TypeDecl::default()
        };
        if item.kind == "definition.struct" {
            decl.kind = TypeKind::Struct;
            let mut fields = Vec::new();
            for_each_descendant(body, |node| {
                if node.kind() == "field_declaration"
                    && node.parent().is_some_and(|p| p.parent() == Some(body))
                {
                    fields.push(node);
                }
            });
            for field in fields {
                let Some(ty) = field.child_by_field_name("type") else {
                    continue;
                };
                let type_name = strip_type_args(self.text(ty));
                let mut cursor = field.walk();
                let names: Vec<Node<'_>> =
                    field.children_by_field_name("name", &mut cursor).collect();
                if names.is_empty() {
                    // Embedded: the field is named after the type; it also acts as a supertype.
                    let simple = type_name.trim_start_matches('*');
                    let simple = simple.rsplit('.').next().unwrap_or(simple).to_string();
                    decl.supertypes.push(type_name.clone());
                    decl.fields.push(Field {
                        name: simple,
                        type_name,
                        annotations: Vec::new(),
                    });
                } else {
                    for name in names {
                        decl.fields.push(Field {
                            name: self.text(name).to_string(),
                            type_name: type_name.clone(),
                            annotations: Vec::new(),
                        });
                    }
                }
            }
        } else {
            decl.kind = TypeKind::Interface;
            for element in named_children(body) {
                match element.kind() {
                    "method_elem" => {
                        let Some(name) = element.child_by_field_name("name") else {
                            continue;
                        };
                        let signature = source_after(element, name, self.source);
                        decl.fields.push(Field {
                            name: self.text(name).to_string(),
                            type_name: format!("func{}", collapse_whitespace(signature)),
                            annotations: Vec::new(),
                        });
                    }
                    "type_elem" => decl.supertypes.push(self.text(element).to_string()),
                    _ => {}
                }
            }
        }
        Some(decl)
    }

    fn function(&self, item: &Item<'_>) -> Option<(Function, Option<Field>)> {
        let name = self.text(item.get("name")?).to_string();
        let params = item
            .get("function.params")
            .map(|list| self.params(list))
            .unwrap_or_default();
        let mut function = Function {
            name: name.clone(),
            params,
            position: position(item.node),
            end_line: item.node.end_position().row as u32 + 1,
            ..Function::default()
        };
        let mut receiver_field = None;
        if let Some(receiver) = item.get("method.receiver") {
            let declaration = named_children(receiver)
                .into_iter()
                .find(|child| child.kind() == "parameter_declaration");
            let written = declaration
                .and_then(|d| d.child_by_field_name("type"))
                .map(|ty| self.text(ty))
                .unwrap_or("");
            let pointer = written.starts_with('*');
            let owner = strip_type_args(written.trim_start_matches('*').trim());
            function.qualified = if pointer {
                format!("{}.(*{owner}).{name}", self.package)
            } else {
                format!("{}.{owner}.{name}", self.package)
            };
            if let Some(variable) = declaration.and_then(|d| d.child_by_field_name("name")) {
                receiver_field = Some(Field {
                    name: self.text(variable).to_string(),
                    type_name: strip_type_args(written),
                    annotations: Vec::new(),
                });
            }
            function.owner = Some(owner);
        } else {
            function.qualified = format!("{}.{name}", self.package);
        }
        Some((function, receiver_field))
    }

    fn call(
        &self,
        item: &Item<'_>,
        context: Context,
        env: &Env,
        handler_bodies: &[Node<'_>],
    ) -> Option<Call> {
        let callee = self.text(item.get("name")?).to_string();
        let at = item.node.start_byte();
        let mut call = Call {
            callee,
            receiver: item
                .get("call.receiver")
                .map(|r| collapse_whitespace(self.text(r))),
            position: position(item.node),
            in_loop: context.in_loop,
            in_handler: handler_bodies.iter().any(|body| contains(*body, item.node)),
            ..Call::default()
        };
        if let Some(arguments) = item.get("call.arguments") {
            for arg in named_children(arguments) {
                if arg.kind() == "comment" {
                    continue;
                }
                let alternatives = (arg.kind() == "identifier")
                    .then(|| env.alternatives(self.text(arg), at))
                    .flatten();
                match alternatives {
                    Some(patterns) => {
                        call.arg_alternatives.push((call.args.len(), patterns));
                        call.args.push(None);
                    }
                    None => call.args.push(self.pattern(arg, env, at)),
                }
                call.arg_texts.push(truncate(self.text(arg), MAX_ARG_TEXT));
            }
        }
        Some(call)
    }

    /// A manual span opened by `call`, if it is one.
    fn manual_span(&self, call: &Call) -> Option<ManualSpan> {
        let receiver = call.receiver.as_deref().unwrap_or("");
        let (api, name_index) = match call.callee.as_str() {
            // OpenTelemetry: tracer.Start(ctx, "name"), otel.Tracer("x").Start(ctx, "name").
            "Start" if receiver.to_ascii_lowercase().contains("tracer") && call.args.len() >= 2 => {
                ("opentelemetry", 1)
            }
            // OpenTracing: opentracing.StartSpanFromContext(ctx, "name").
            "StartSpanFromContext" if call.args.len() >= 2 => ("opentracing", 1),
            // OpenTracing: StartSpanFromContextWithTracer(ctx, tracer, "name").
            "StartSpanFromContextWithTracer" if call.args.len() >= 3 => ("opentracing", 2),
            // OpenTracing: tracer.StartSpan("name").
            "StartSpan" if !call.args.is_empty() => ("opentracing", 0),
            _ => return None,
        };
        let name = call.args[name_index]
            .clone()
            .unwrap_or_else(|| "{}".to_string());
        Some(ManualSpan {
            name,
            api: api.to_string(),
            position: call.position,
        })
    }

    fn handler(&self, item: &Item<'_>) -> Option<ErrorHandler> {
        let condition = item.get("handler.condition")?;
        if !tests_error(condition, self.source) {
            return None;
        }
        let body = item.get("handler.body")?;
        let mut actions: Vec<ErrorAction> = Vec::new();
        let mut add = |action: ErrorAction| {
            if !actions.contains(&action) {
                actions.push(action);
            }
        };
        for_each_descendant(body, |node| match node.kind() {
            "call_expression" => match call_effect(node, self.source) {
                CallEffect::Log => add(ErrorAction::Log),
                CallEffect::Panic => add(ErrorAction::Panic),
                CallEffect::ErrorResponse => add(ErrorAction::ReturnError),
                CallEffect::None => {}
            },
            "return_statement" if returns_error(node, self.source) => add(ErrorAction::ReturnError),
            _ => {}
        });
        if actions.is_empty() {
            actions.push(ErrorAction::Swallow);
        }
        Some(ErrorHandler {
            kind: "if-err".to_string(),
            caught: Vec::new(),
            actions,
            position: position(item.node),
        })
    }

    /// Locals (name, obvious type) and string values bound by a declaration item.
    fn bindings<'t>(&self, item: &Item<'t>) -> Vec<(Node<'t>, Option<Node<'t>>, Option<String>)> {
        // (name node, value node, declared type)
        let mut out = Vec::new();
        match item.kind {
            "definition.local" | "definition.assignment" => {
                let (Some(names), Some(values)) =
                    (item.get("local.names"), item.get("local.values"))
                else {
                    return out;
                };
                let names = named_children(names);
                let values = named_children(values);
                for (index, name) in names.iter().enumerate() {
                    if name.kind() != "identifier" {
                        continue;
                    }
                    let value = if names.len() == values.len() {
                        values.get(index).copied()
                    } else if index == 0 && values.len() == 1 {
                        values.first().copied()
                    } else {
                        None
                    };
                    out.push((*name, value, None));
                }
            }
            "definition.var" => {
                let node = item.node;
                let declared = node
                    .child_by_field_name("type")
                    .map(|ty| strip_type_args(self.text(ty)));
                let mut cursor = node.walk();
                let names: Vec<Node<'t>> =
                    node.children_by_field_name("name", &mut cursor).collect();
                let values = node
                    .child_by_field_name("value")
                    .map(named_children)
                    .unwrap_or_default();
                for (index, name) in names.iter().enumerate() {
                    let value = if names.len() == values.len() {
                        values.get(index).copied()
                    } else if index == 0 && values.len() == 1 {
                        values.first().copied()
                    } else {
                        None
                    };
                    out.push((*name, value, declared.clone()));
                }
            }
            _ => {}
        }
        out
    }
}

/// The source text after `name` up to the end of `node`.
fn source_after<'s>(node: Node<'_>, name: Node<'_>, source: &'s str) -> &'s str {
    source.get(name.end_byte()..node.end_byte()).unwrap_or("")
}

/// `Stack[T]` → `Stack`, `*pkg.Box[K, V]` → `*pkg.Box`; map and slice types keep brackets.
fn strip_type_args(written: &str) -> String {
    let written = written.trim();
    if written.starts_with('[') || written.starts_with("map[") || written.starts_with("*[") {
        return written.to_string();
    }
    match written.find('[') {
        Some(at) => written[..at].to_string(),
        None => written.to_string(),
    }
}

/// The name an import binds without an alias: the last path element, without a major
/// version (`redis/v8` → `redis`, `gopkg.in/mgo.v2` → `mgo`) and without the `go-` /
/// `-go` decorations packages conventionally drop (`opentracing-go` → `opentracing`).
fn default_package_name(import_path: &str) -> String {
    let is_version = |s: &str| {
        s.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut elements = import_path.rsplit('/');
    let mut last = elements.next().unwrap_or(import_path);
    if is_version(last) {
        last = elements.next().unwrap_or(last);
    }
    if let Some((name, version)) = last.rsplit_once('.')
        && is_version(version)
    {
        last = name;
    }
    let last = last.strip_prefix("go-").unwrap_or(last);
    let last = last
        .strip_suffix("-go")
        .or_else(|| last.strip_suffix(".go"))
        .unwrap_or(last);
    last.to_string()
}

/// `NewGeoClient` → `GeoClient`: Go's constructor naming convention.
fn constructor_type(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("New")?;
    rest.chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        .then_some(rest)
}

/// Result types of well-known constructors whose names do not follow `NewT`.
fn known_constructor(import_path: &str, function: &str) -> Option<&'static str> {
    let ty = match (import_path, function) {
        (path, "New") if path.ends_with("gomemcache/memcache") => "memcache.Client",
        (path, "Connect" | "NewClient") if path.ends_with("mongo-driver/mongo") => "mongo.Client",
        (path, "Dial" | "DialWithInfo" | "DialWithTimeout") if path.contains("mgo") => {
            "mgo.Session"
        }
        ("google.golang.org/grpc", "Dial" | "DialContext" | "NewClient") => "grpc.ClientConn",
        ("google.golang.org/grpc", "NewServer") => "grpc.Server",
        ("database/sql", "Open") => "sql.DB",
        ("net/http", "NewRequest" | "NewRequestWithContext") => "http.Request",
        ("net/http", "NewServeMux") => "http.ServeMux",
        _ => return None,
    };
    Some(ty)
}

/// Decodes a Go interpreted string literal (common escapes; others kept as written).
fn unquote(literal: &str) -> String {
    let inner = literal
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or(literal);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Replaces `%s`, `%d`, `%v`, `%08.3f`... with the given values (or `{}`), `%%` with `%`.
fn substitute_verbs(format: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    let mut next_value = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        // Flags, width, precision, argument index, then the verb letter.
        while chars
            .peek()
            .is_some_and(|c| matches!(c, '+' | '-' | '#' | ' ' | '0'..='9' | '.' | '*' | '[' | ']'))
        {
            chars.next();
        }
        if chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            chars.next();
            match values.get(next_value) {
                Some(value) => out.push_str(value),
                None => out.push_str("{}"),
            }
            next_value += 1;
        } else {
            out.push('%');
        }
    }
    out
}

fn extract(path: &str, source: &str, tree: &Tree) -> FileFacts {
    let root = tree.root_node();
    let mut facts = FileFacts {
        path: path.to_string(),
        language: Some(Language::Go),
        syntax_errors: count_syntax_errors(root),
        lines: lines_of(source),
        ..FileFacts::default()
    };
    let items = run_query(root, source);

    // Pass 1: file-level facts.
    let mut extractor = Extractor {
        source,
        package: String::new(),
        constants: HashMap::new(),
        package_strings: HashMap::new(),
        imports: HashMap::new(),
    };
    for item in &items {
        match item.kind {
            "definition.package" if facts.package.is_empty() => {
                if let Some(name) = item.get("name") {
                    facts.package = text(name, source).to_string();
                }
            }
            "reference.import" => {
                let Some(path_node) = item.get("import.path") else {
                    continue;
                };
                let import_path = text(path_node, source)
                    .trim_matches(|c| c == '"' || c == '`')
                    .to_string();
                let alias = match item.get("import.alias") {
                    Some(alias) => text(alias, source).to_string(),
                    None => default_package_name(&import_path),
                };
                extractor.imports.insert(alias.clone(), import_path.clone());
                facts.imports.push(Import {
                    path: import_path,
                    alias: Some(alias),
                    names: Vec::new(),
                    position: position(item.node),
                });
            }
            "definition.constant" => {
                let (Some(name), Some(value)) = (item.get("name"), item.get("constant.value"))
                else {
                    continue;
                };
                let Some(value) = extractor.pattern(value, &Env::default(), usize::MAX) else {
                    continue;
                };
                let name = text(name, source).to_string();
                extractor.constants.insert(name.clone(), value.clone());
                facts.string_constants.push(StringConstant {
                    name,
                    owner: None,
                    value,
                });
            }
            _ => {}
        }
    }
    extractor.package = facts.package.clone();

    for item in &items {
        if matches!(item.kind, "definition.struct" | "definition.interface")
            && let Some(decl) = extractor.type_decl(item)
        {
            facts.types.push(decl);
        }
    }

    // Pass 2: functions, then what happens inside each.
    let mut index_of: HashMap<usize, usize> = HashMap::new();
    for item in &items {
        if matches!(item.kind, "definition.function" | "definition.method")
            && let Some((mut function, receiver)) = extractor.function(item)
        {
            if let Some(receiver) = receiver {
                function.locals.push(receiver);
            }
            index_of.insert(item.node.id(), facts.functions.len());
            facts.functions.push(function);
        }
    }
    let contexts = contexts(root);
    let context_of = |node: Node<'_>| contexts.get(&node.id()).copied().unwrap_or_default();
    let owner_of = |node: Node<'_>| {
        context_of(node)
            .function
            .and_then(|f| index_of.get(&f).copied())
    };

    let mut envs: Vec<Env> = (0..facts.functions.len()).map(|_| Env::default()).collect();
    let mut handler_bodies: Vec<Vec<Node<'_>>> = vec![Vec::new(); facts.functions.len()];
    let mut top_env = Env::default();
    // Calls whose result a declaration or assignment binds: call node → variable.
    let mut assigned: HashMap<usize, String> = HashMap::new();
    for item in &items {
        match item.kind {
            "definition.local" | "definition.assignment" | "definition.var" => {
                let owner = owner_of(item.node);
                for (name, value, declared) in extractor.bindings(item) {
                    let name_text = text(name, source).to_string();
                    if name_text == "_" {
                        continue;
                    }
                    if let Some(value) = value.filter(|v| v.kind() == "call_expression") {
                        assigned.insert(value.id(), name_text.clone());
                    }
                    let env = match owner {
                        Some(index) => &mut envs[index],
                        None => &mut top_env,
                    };
                    if let Some(value) = value
                        && let Some(pattern) = extractor.pattern(value, env, item.node.start_byte())
                    {
                        env.bind(
                            &name_text,
                            item.node.start_byte(),
                            {
                                let (start, end) = context_of(item.node).block;
                                start..end
                            },
                            pattern,
                        );
                    }
                    if item.kind == "definition.assignment" {
                        continue;
                    }
                    let type_name =
                        declared.or_else(|| value.and_then(|v| extractor.obvious_type(v)));
                    let Some(type_name) = type_name else { continue };
                    let field = Field {
                        name: name_text,
                        type_name,
                        annotations: Vec::new(),
                    };
                    match owner {
                        Some(index) => facts.functions[index].locals.push(field),
                        None => facts.globals.push(field),
                    }
                }
            }
            "handler.if" => {
                let Some(index) = owner_of(item.node) else {
                    continue;
                };
                if let Some(handler) = extractor.handler(item) {
                    if let Some(body) = item.get("handler.body") {
                        handler_bodies[index].push(body);
                    }
                    facts.functions[index].error_handlers.push(handler);
                }
            }
            _ => {}
        }
    }
    extractor.package_strings = top_env
        .last_values()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();

    // Function literals passed as call arguments, indexed to find the innermost one
    // around each call.
    let mut closures: Vec<(std::ops::Range<usize>, Closure)> = Vec::new();
    for item in items.iter().filter(|i| i.kind == "reference.call") {
        let (Some(name), Some(arguments)) = (item.get("name"), item.get("call.arguments")) else {
            continue;
        };
        for arg in named_children(arguments) {
            if arg.kind() != "func_literal" {
                continue;
            }
            let params = arg
                .child_by_field_name("parameters")
                .map(|list| {
                    named_children(list)
                        .into_iter()
                        .flat_map(|decl| {
                            let mut cursor = decl.walk();
                            decl.children_by_field_name("name", &mut cursor)
                                .map(|n| text(n, source).to_string())
                                .collect::<Vec<_>>()
                        })
                        .collect()
                })
                .unwrap_or_default();
            closures.push((
                arg.start_byte()..arg.end_byte(),
                Closure {
                    call_position: position(item.node),
                    callee: text(name, source).to_string(),
                    params,
                },
            ));
        }
    }
    let closure_index = Nested::new(closures.iter().map(|(range, _)| range.clone()));

    for item in &items {
        match item.kind {
            "reference.call" => {
                let owner = owner_of(item.node);
                let (env, bodies) = match owner {
                    Some(index) => (&envs[index], handler_bodies[index].as_slice()),
                    None => (&top_env, &[][..]),
                };
                let Some(mut call) = extractor.call(item, context_of(item.node), env, bodies)
                else {
                    continue;
                };
                call.assigned_to = assigned.get(&item.node.id()).cloned();
                call.in_closure = closure_index
                    .innermost(item.node.start_byte(), item.node.end_byte())
                    .map(|i| closures[i].1.clone());
                let Some(index) = owner else {
                    facts.top_level_calls.push(call);
                    continue;
                };
                let function = &mut facts.functions[index];
                if let Some(span) = extractor.manual_span(&call) {
                    function.manual_spans.push(span);
                }
                let inside_handler = call.in_handler;
                let is_exit = !inside_handler
                    && call_effect(item.node, source) == CallEffect::Panic
                    && !is_outer_of_panic_chain(item.node, source);
                if is_exit {
                    function.error_exits.push(ErrorExit {
                        kind: "panic".to_string(),
                        position: call.position,
                    });
                }
                function.calls.push(call);
            }
            "exit.return" => {
                let Some(index) = owner_of(item.node) else {
                    continue;
                };
                let inside = handler_bodies[index]
                    .iter()
                    .any(|b| contains(*b, item.node));
                if !inside && returns_error(item.node, source) {
                    facts.functions[index].error_exits.push(ErrorExit {
                        kind: "return-error".to_string(),
                        position: position(item.node),
                    });
                }
            }
            _ => {}
        }
    }
    for function in &mut facts.functions {
        function.error_exits.sort_by_key(|exit| exit.position);
    }
    facts
}

/// `log.Fatal().Msg(..)`: the outer `Msg` call repeats the inner `log.Fatal()` exit.
fn is_outer_of_panic_chain(call: Node<'_>, source: &str) -> bool {
    let inner = call
        .child_by_field_name("function")
        .filter(|f| f.kind() == "selector_expression")
        .and_then(|f| f.child_by_field_name("operand"))
        .filter(|operand| operand.kind() == "call_expression");
    inner.is_some_and(|inner| call_effect(inner, source) == CallEffect::Panic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(source: &str) -> FileFacts {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&grammar()).expect("grammar loads");
        let tree = parser.parse(source, None).expect("parses");
        extract("svc/x.go", source, &tree)
    }

    #[test]
    fn calls_know_the_variable_they_assign_and_the_literal_they_are_in() {
        let f = facts(
            "package main\nfunc main() {\n\tapi := r.Group(\"/api\")\n\tr.Route(\"/x\", func(sub Router, n int) {\n\t\tsub.Get(\"/y\", h)\n\t})\n}\n",
        );
        let calls = &f.functions[0].calls;
        let group = calls.iter().find(|c| c.callee == "Group").expect("Group");
        assert_eq!(group.assigned_to.as_deref(), Some("api"));
        assert!(group.in_closure.is_none());
        let route = calls.iter().find(|c| c.callee == "Route").expect("Route");
        assert_eq!(route.assigned_to, None);
        let get = calls.iter().find(|c| c.callee == "Get").expect("Get");
        let closure = get.in_closure.as_ref().expect("inside the literal");
        assert_eq!(closure.callee, "Route");
        assert_eq!(closure.call_position, route.position);
        assert_eq!(closure.params, ["sub", "n"]);
    }

    #[test]
    fn query_compiles_and_snippet_parses() {
        let f = facts("package geo\nfunc A() { b() }\n");
        assert_eq!(f.package, "geo");
        assert_eq!(f.functions[0].qualified, "geo.A");
        assert_eq!(f.functions[0].calls[0].callee, "b");
        assert_eq!(f.syntax_errors, 0);
    }

    #[test]
    fn methods_are_qualified_by_receiver() {
        let f = facts(
            "package rate\ntype R []int\nfunc (s *Server) Get() {}\nfunc (r R) Len() int { return 0 }\n",
        );
        assert_eq!(f.functions[0].qualified, "rate.(*Server).Get");
        assert_eq!(f.functions[0].owner.as_deref(), Some("Server"));
        assert_eq!(f.functions[0].locals[0].name, "s");
        assert_eq!(f.functions[1].qualified, "rate.R.Len");
    }

    #[test]
    fn imports_take_alias_or_last_element() {
        let f = facts(
            "package a\nimport (\n pb \"x/geo/proto\"\n \"net/http\"\n _ \"x/y\"\n . \"x/z\"\n)\n",
        );
        let aliases: Vec<_> = f.imports.iter().map(|i| i.alias.clone().unwrap()).collect();
        assert_eq!(aliases, ["pb", "http", "_", "."]);
        assert_eq!(f.imports[0].path, "x/geo/proto");
    }

    #[test]
    fn argument_patterns_flatten_concatenation_and_sprintf() {
        let f = facts(
            "package a\nconst base = \"http://geo:8080\"\nfunc F(id string) {\n url := base + \"/x/\" + id\n http.Get(url)\n http.Get(fmt.Sprintf(\"/y/%s/%d%%\", id, 3))\n f(id)\n}\n",
        );
        let calls = &f.functions[0].calls;
        assert_eq!(calls[0].args[0].as_deref(), Some("http://geo:8080/x/{}"));
        assert_eq!(calls[1].args[0].as_deref(), Some("/y/{}/{}%"));
        assert_eq!(calls[3].args[0], None);
        assert_eq!(f.string_constants[0].value, "http://geo:8080");
    }

    #[test]
    fn package_vars_resolve_in_functions() {
        let f = facts(
            "package a\nvar base = \"http://geo:8083\"\nfunc F() {\n http.Get(base + \"/nearby\")\n}\n",
        );
        assert_eq!(
            f.functions[0].calls[0].args[0].as_deref(),
            Some("http://geo:8083/nearby")
        );
    }

    #[test]
    fn branch_assignments_give_alternatives() {
        let f = facts(
            "package a\nfunc F(v bool) {\n url := \"http://a/x\"\n if v {\n  url = \"http://b/x\"\n }\n http.Get(url)\n url = \"http://c\"\n http.Get(url)\n}\n",
        );
        let calls = &f.functions[0].calls;
        assert_eq!(calls[0].args[0], None);
        assert_eq!(
            calls[0].arg_alternatives,
            [(0, vec!["http://a/x".to_string(), "http://b/x".to_string()])]
        );
        assert_eq!(calls[1].args[0].as_deref(), Some("http://c"));
        assert!(calls[1].arg_alternatives.is_empty());
    }

    #[test]
    fn constants_built_from_constants() {
        let f = facts(
            "package a\nconst (\n base = \"http://geo\"\n nearby = base + \"/nearby\"\n port = 8080\n)\n",
        );
        let constants: Vec<_> = f
            .string_constants
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str()))
            .collect();
        assert_eq!(
            constants,
            [("base", "http://geo"), ("nearby", "http://geo/nearby")]
        );
    }

    #[test]
    fn default_import_names() {
        let names: Vec<_> = [
            "net/http",
            "gopkg.in/mgo.v2",
            "github.com/go-redis/redis/v8",
            "github.com/opentracing/opentracing-go",
            "github.com/hailocab/go-geoindex",
            "go.mongodb.org/mongo-driver/mongo",
        ]
        .iter()
        .map(|path| default_package_name(path))
        .collect();
        assert_eq!(
            names,
            ["http", "mgo", "redis", "opentracing", "geoindex", "mongo"]
        );
    }

    #[test]
    fn obvious_local_types() {
        let f = facts(
            "package a\nimport (\n pb \"x/proto\"\n \"github.com/bradfitz/gomemcache/memcache\"\n)\nfunc F() {\n c := pb.NewGeoClient(conn)\n var d pb.RateClient\n s := &Server{}\n m := memcache.New(\"x\")\n r := new(pb.Result)\n}\n",
        );
        let locals: Vec<_> = f.functions[0]
            .locals
            .iter()
            .map(|l| (l.name.as_str(), l.type_name.as_str()))
            .collect();
        assert_eq!(
            locals,
            [
                ("c", "pb.GeoClient"),
                ("d", "pb.RateClient"),
                ("s", "Server"),
                ("m", "memcache.Client"),
                ("r", "pb.Result")
            ]
        );
    }

    #[test]
    fn error_handlers_and_exits() {
        let f = facts(
            "package a\nfunc F() (int, error) {\n x, err := g()\n if err != nil {\n  log.Error().Msgf(\"bad %v\", err)\n  return 0, err\n }\n if err := h(); err != nil {\n  log.Fatal().Msg(\"x\")\n }\n if e != nil {\n }\n for _, id := range ids {\n  memc.Get(id)\n }\n if x == 0 {\n  return 0, fmt.Errorf(\"zero\")\n }\n panic(\"no\")\n}\n",
        );
        let function = &f.functions[0];
        let actions: Vec<_> = function
            .error_handlers
            .iter()
            .map(|h| h.actions.clone())
            .collect();
        assert_eq!(
            actions,
            [
                vec![ErrorAction::Log, ErrorAction::ReturnError],
                vec![ErrorAction::Panic],
                vec![ErrorAction::Swallow]
            ]
        );
        let exits: Vec<_> = function
            .error_exits
            .iter()
            .map(|e| e.kind.as_str())
            .collect();
        assert_eq!(exits, ["return-error", "panic"]);
        let get = function.calls.iter().find(|c| c.callee == "Get").unwrap();
        assert!(get.in_loop);
        let msgf = function.calls.iter().find(|c| c.callee == "Msgf").unwrap();
        assert!(msgf.in_handler);
        assert_eq!(msgf.receiver.as_deref(), Some("log.Error()"));
    }

    #[test]
    fn manual_spans() {
        let f = facts(
            "package a\nfunc F(ctx context.Context) {\n ctx, span := tracer.Start(ctx, \"geo.nearby\")\n sp, _ := opentracing.StartSpanFromContext(ctx, \"mongo_geo\")\n t.StartSpan(\"x\")\n}\n",
        );
        let spans: Vec<_> = f.functions[0]
            .manual_spans
            .iter()
            .map(|s| (s.name.as_str(), s.api.as_str()))
            .collect();
        assert_eq!(
            spans,
            [
                ("geo.nearby", "opentelemetry"),
                ("mongo_geo", "opentracing"),
                ("x", "opentracing")
            ]
        );
    }

    #[test]
    fn structs_and_interfaces() {
        let f = facts(
            "package geo\ntype Server struct {\n pb.UnimplementedGeoServer\n Port, Alt int\n MongoClient *mongo.Client\n}\ntype GeoClient interface {\n Nearby(ctx context.Context, in *Request) (*Result, error)\n}\n",
        );
        let server = &f.types[0];
        assert_eq!(server.kind, TypeKind::Struct);
        assert_eq!(server.supertypes, ["pb.UnimplementedGeoServer"]);
        let fields: Vec<_> = server
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.type_name.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("UnimplementedGeoServer", "pb.UnimplementedGeoServer"),
                ("Port", "int"),
                ("Alt", "int"),
                ("MongoClient", "*mongo.Client")
            ]
        );
        assert_eq!(f.types[1].kind, TypeKind::Interface);
        assert_eq!(f.types[1].fields[0].name, "Nearby");
    }

    #[test]
    fn syntax_errors_are_counted_and_tolerated() {
        let f = facts("package a\nfunc F() {\n x := \nfunc G() { h() }\n");
        assert!(f.syntax_errors > 0);
    }
}
