//! Python: grammar, queries and extraction of facts.
//!
//! The query file `queries/python/facts.scm` finds imports, constants, classes,
//! functions, calls, assignments, `except` clauses and `raise` statements; this module
//! turns the matches into [`FileFacts`], attributing each item to the innermost enclosing
//! `def` (lambdas and comprehensions belong to it). Items outside any function go to the
//! file: module-level calls and typed globals, class attributes and constants. Context
//! (loops, try regions) and string patterns (f-strings, `%`, `.format`, `+`) are found
//! by walking the tree.

use std::collections::HashMap;
use std::sync::OnceLock;

use tree_sitter::{Node, Query, Tree};

use super::LanguageSpec;
use super::syntax::{
    self, Item, StringEnv, collapse_whitespace, count_syntax_errors, for_each_descendant, lines_of,
    named_children, position, text, truncate,
};
use crate::facts::{
    Annotation, Call, ErrorAction, ErrorExit, ErrorHandler, Field, FileFacts, Function, Import,
    Language, ManualSpan, StringConstant, TypeDecl, TypeKind,
};

const FACTS_QUERY: &str = include_str!("../../queries/python/facts.scm");

/// The Python registration.
pub const SPEC: LanguageSpec = LanguageSpec {
    language: Language::Python,
    extensions: &["py"],
    grammar,
    queries: &[("facts.scm", FACTS_QUERY)],
    extract,
};

fn grammar() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

/// The compiled facts query (compiled once; the query text is a fixed asset checked by
/// the tests, so a failure here is a build defect, not bad input).
fn facts_query() -> &'static Query {
    static QUERY: OnceLock<Query> = OnceLock::new();
    QUERY.get_or_init(|| {
        Query::new(&grammar(), FACTS_QUERY).expect("queries/python/facts.scm compiles")
    })
}

/// Main captures: the ones that name what a pattern found.
const MAIN_CAPTURES: &[&str] = &[
    "reference.import",
    "reference.import_from",
    "definition.constant",
    "definition.class",
    "definition.function",
    "reference.call",
    "definition.local",
    "definition.attribute",
    "definition.with",
    "handler.except",
    "exit.raise",
];

/// Longest argument text kept in [`Call::arg_texts`].
const MAX_ARG_TEXT: usize = 200;
/// Recursion bound for expression walks, so hostile nesting cannot overflow the stack.
const MAX_DEPTH: usize = 48;

/// `orders/api/views.py` → `orders.api.views`; `orders/__init__.py` → `orders`.
pub fn module_path(path: &str) -> String {
    let without_ext = path.strip_suffix(".py").unwrap_or(path);
    let mut parts: Vec<&str> = without_ext
        .split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    if parts.last() == Some(&"__init__") && parts.len() > 1 {
        parts.pop();
    }
    parts.join(".")
}

type Env = StringEnv;

/// What encloses a node: the innermost `def` or `class`.
#[derive(Clone, Copy, Default)]
enum Scope<'t> {
    #[default]
    Module,
    Class(Node<'t>),
    Function(Node<'t>),
}

/// What a node inherits from its ancestors (see [`syntax::inherited_contexts`]).
#[derive(Clone, Copy, Default)]
struct Context<'t> {
    /// The innermost enclosing `def` or `class`.
    scope: Scope<'t>,
    /// Runs once per iteration of a loop or comprehension of its function.
    in_loop: bool,
    /// In a `try` body or an `except` clause of its function.
    in_try: bool,
    /// In an `except` clause of its function.
    in_except: bool,
    /// Part of a decorator expression.
    in_decorator: bool,
    /// Byte range of the innermost block (scope of a local assignment).
    block: (usize, usize),
}

fn contexts(root: Node<'_>) -> HashMap<usize, Context<'_>> {
    // The kinds whose context is asked for: the facts query's main captures, the
    // definitions whose scope is walked, and attributes (`self.BASE`).
    let keep = |kind: &str| {
        matches!(
            kind,
            "call"
                | "assignment"
                | "with_item"
                | "except_clause"
                | "raise_statement"
                | "function_definition"
                | "class_definition"
                | "attribute"
        )
    };
    syntax::inherited_contexts(root, keep, |parent, cursor, context: Context<'_>| {
        let mut child = context;
        let field = || cursor.field_name();
        match parent.kind() {
            "function_definition" => {
                child = Context {
                    scope: Scope::Function(parent),
                    ..Context::default()
                };
            }
            "class_definition" => {
                child = Context {
                    scope: Scope::Class(parent),
                    ..Context::default()
                };
            }
            "for_statement" if field() == Some("body") => child.in_loop = true,
            "while_statement" if field() != Some("alternative") => child.in_loop = true,
            "list_comprehension"
            | "set_comprehension"
            | "dictionary_comprehension"
            | "generator_expression" => child.in_loop = true,
            "try_statement" if field() == Some("body") => child.in_try = true,
            "except_clause" => {
                child.in_try = true;
                child.in_except = true;
            }
            "decorator" => child.in_decorator = true,
            _ => {}
        }
        if syntax::is_statement_block(parent.kind()) {
            child.block = (parent.start_byte(), parent.end_byte());
        }
        child
    })
}

/// `Optional[Session]` → `Session`, `Mapped[int]` → `Mapped`, `Session | None` → `Session`.
fn clean_type(written: &str) -> String {
    let written = collapse_whitespace(written);
    let written = written
        .strip_suffix("| None")
        .map(str::trim)
        .unwrap_or(&written);
    if let Some(inner) = written
        .strip_prefix("Optional[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        return clean_type(inner);
    }
    let base = match written.find('[') {
        Some(at) => &written[..at],
        None => written,
    };
    base.trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_string()
}

/// Lowercase factory functions whose result type is well known.
fn known_factory(callee: &str) -> Option<&'static str> {
    let last = callee.rsplit('.').next().unwrap_or(callee);
    Some(match last {
        "create_engine" => "Engine",
        "create_async_engine" => "AsyncEngine",
        "sessionmaker" => "sessionmaker",
        "scoped_session" => "scoped_session",
        "get_tracer" => "Tracer",
        "getLogger" => "Logger",
        _ => return None,
    })
}

/// Log calls at error/warning level: `logger.error`, `logging.exception`, `log.warning`.
fn is_error_log(callee: &str, receiver: Option<&str>) -> bool {
    let level = matches!(
        callee,
        "error" | "exception" | "warning" | "warn" | "critical" | "fatal"
    );
    let loggerish = receiver.is_some_and(|r| r.to_ascii_lowercase().contains("log"));
    (level && loggerish)
        || callee == "capture_exception"
        || (callee == "print_exc" && receiver == Some("traceback"))
}

/// True when a `return` sends an HTTP error response: `return jsonify(...), 500`,
/// `JSONResponse(status_code=503)`, `Response(status=500)`, `status.HTTP_500_...`.
fn returns_error_response(ret: Node<'_>, source: &str) -> bool {
    let mut found = false;
    for_each_descendant(ret, |node| {
        if found {
            return;
        }
        match node.kind() {
            "integer" => {
                let value: u32 = text(node, source).parse().unwrap_or(0);
                let parent_kind = node.parent().map(|p| p.kind()).unwrap_or("");
                if (400..600).contains(&value)
                    && matches!(
                        parent_kind,
                        "expression_list" | "tuple" | "keyword_argument" | "argument_list"
                    )
                {
                    found = true;
                }
            }
            "attribute" | "identifier" => {
                let written = text(node, source);
                if written.contains("HTTP_5")
                    || written.contains("HTTP_4")
                    || written.contains("INTERNAL_SERVER_ERROR")
                    || written.contains("SERVICE_UNAVAILABLE")
                    || written.contains("BAD_GATEWAY")
                {
                    found = true;
                }
            }
            _ => {}
        }
    });
    found
}

/// True when a `raise` raises an HTTP error (FastAPI / Starlette / werkzeug).
fn raises_http_error(raise: Node<'_>, source: &str) -> bool {
    let raised = text(raise, source);
    raised.contains("HTTPException") || raised.contains("abort(")
}

struct Extractor<'s, 't> {
    /// Inherited context of every named node, by node id.
    contexts: HashMap<usize, Context<'t>>,
    source: &'s str,
    module: String,
    /// Whether the file imports opentracing (and not OpenTelemetry): decides `start_span`.
    opentracing_only: bool,
    /// Module-level string values, the fallback for names a function does not bind.
    module_env: Env,
    /// String values of class attributes (`BASE = "..."` in the body, `self.url = "..."`
    /// in a method) by class node id, for `self.BASE` / `cls.BASE`.
    class_strings: HashMap<usize, Env>,
}

impl<'t> Extractor<'_, 't> {
    fn context(&self, node: Node<'_>) -> Context<'t> {
        self.contexts.get(&node.id()).copied().unwrap_or_default()
    }

    fn scope_of(&self, node: Node<'_>) -> Scope<'t> {
        self.context(node).scope
    }

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
            "string" => (self.string_pattern(node, env, at, depth), true),
            "concatenated_string" => {
                let joined = named_children(node)
                    .into_iter()
                    .filter(|child| child.kind() == "string")
                    .map(|child| self.string_pattern(child, env, at, depth))
                    .collect::<String>();
                (joined, true)
            }
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => self.piece(inner, env, at, depth + 1),
                None => unknown,
            },
            "binary_operator" => {
                let operator = node.child_by_field_name("operator").map(|op| self.text(op));
                let (Some(left), Some(right)) = (
                    node.child_by_field_name("left"),
                    node.child_by_field_name("right"),
                ) else {
                    return unknown;
                };
                match operator {
                    Some("+") => {
                        let (l, l_lit) = self.piece(left, env, at, depth + 1);
                        let (r, r_lit) = self.piece(right, env, at, depth + 1);
                        (format!("{l}{r}"), l_lit || r_lit)
                    }
                    Some("%") => {
                        let (format, literal) = self.piece(left, env, at, depth + 1);
                        if !literal {
                            return unknown;
                        }
                        let values: Vec<Node<'_>> = if right.kind() == "tuple" {
                            named_children(right)
                        } else {
                            vec![right]
                        };
                        let values: Vec<String> = values
                            .into_iter()
                            .map(|value| self.piece(value, env, at, depth + 1).0)
                            .collect();
                        (percent_format(&format, &values), true)
                    }
                    _ => unknown,
                }
            }
            "identifier" => match env
                .lookup(self.text(node), at)
                .or_else(|| self.module_env.lookup(self.text(node), usize::MAX))
            {
                Some(pattern) => (pattern.to_string(), true),
                None => unknown,
            },
            "attribute" => self.attribute_pattern(node).unwrap_or(unknown),
            "call" => self.call_pattern(node, env, at, depth).unwrap_or(unknown),
            _ => unknown,
        }
    }

    /// `self.BASE` / `cls.BASE` / `Gateway.BASE` when the class gives it a string value.
    fn attribute_pattern(&self, node: Node<'_>) -> Option<(String, bool)> {
        let object = self.text(node.child_by_field_name("object")?);
        let attribute = self.text(node.child_by_field_name("attribute")?);
        let mut scope = self.scope_of(node);
        let class = loop {
            match scope {
                Scope::Class(class) => break class,
                Scope::Function(function) => scope = self.scope_of(function),
                Scope::Module => return None,
            }
        };
        let class_name = class.child_by_field_name("name").map(|n| self.text(n));
        if !(object == "self" || object == "cls" || Some(object) == class_name) {
            return None;
        }
        let value = self
            .class_strings
            .get(&class.id())?
            .lookup(attribute, usize::MAX)?;
        Some((value.to_string(), true))
    }

    /// `"/x/{}".format(id)` and `os.getenv("X", "default")` / `os.environ.get(..)`.
    fn call_pattern(
        &self,
        call: Node<'_>,
        env: &Env,
        at: usize,
        depth: usize,
    ) -> Option<(String, bool)> {
        let function = call.child_by_field_name("function")?;
        let arguments = call.child_by_field_name("arguments")?;
        let args = named_children(arguments);
        if function.kind() == "attribute" {
            let method = self.text(function.child_by_field_name("attribute")?);
            let object = function.child_by_field_name("object")?;
            if method == "format" {
                let (format, literal) = self.piece(object, env, at, depth + 1);
                if !literal {
                    return None;
                }
                let mut positional = Vec::new();
                let mut named = HashMap::new();
                for arg in args {
                    if arg.kind() == "keyword_argument" {
                        let (Some(name), Some(value)) = (
                            arg.child_by_field_name("name"),
                            arg.child_by_field_name("value"),
                        ) else {
                            continue;
                        };
                        named.insert(
                            self.text(name).to_string(),
                            self.piece(value, env, at, depth + 1).0,
                        );
                    } else {
                        positional.push(self.piece(arg, env, at, depth + 1).0);
                    }
                }
                return Some((brace_format(&format, &positional, &named), true));
            }
            let getenv = matches!(self.text(function), "os.getenv" | "os.environ.get");
            if getenv && args.len() >= 2 {
                return Some(self.piece(args[1], env, at, depth + 1));
            }
        }
        None
    }

    /// The text of a string literal; f-string fields become `{}` unless they resolve.
    fn string_pattern(&self, string: Node<'_>, env: &Env, at: usize, depth: usize) -> String {
        let children = named_children(string);
        let prefix = children
            .first()
            .filter(|c| c.kind() == "string_start")
            .map(|c| self.text(*c))
            .unwrap_or("");
        let formatted = prefix.contains(['f', 'F']);
        let mut out = String::new();
        for child in children {
            match child.kind() {
                "string_content" => out.push_str(self.text(child)),
                "escape_sequence" => out.push_str(&unescape(self.text(child))),
                "interpolation" if formatted => {
                    let resolved = child
                        .child_by_field_name("expression")
                        .map(|e| self.piece(e, env, at, depth + 1))
                        .filter(|(_, literal)| *literal)
                        .map(|(piece, _)| piece);
                    out.push_str(resolved.as_deref().unwrap_or("{}"));
                }
                "interpolation" => out.push_str(self.text(child)),
                _ => {}
            }
        }
        out
    }

    /// Type of an obvious initializer: `requests.Session()`, `SessionLocal()`,
    /// `create_engine(..)`; `None` for lowercase calls and other expressions.
    fn obvious_type(&self, value: Node<'_>) -> Option<String> {
        let value = if value.kind() == "await" {
            value.named_child(0)?
        } else {
            value
        };
        if value.kind() != "call" {
            return None;
        }
        let function = value.child_by_field_name("function")?;
        if !matches!(function.kind(), "identifier" | "attribute") {
            return None;
        }
        let callee = collapse_whitespace(self.text(function));
        if callee.contains('(') {
            return None;
        }
        let last = callee.rsplit('.').next().unwrap_or(&callee);
        if last.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
            return Some(callee);
        }
        known_factory(&callee).map(str::to_string)
    }

    fn decorators(&self, definition: Node<'_>, env: &Env) -> Vec<Annotation> {
        let Some(parent) = definition
            .parent()
            .filter(|p| p.kind() == "decorated_definition")
        else {
            return Vec::new();
        };
        named_children(parent)
            .into_iter()
            .filter(|child| child.kind() == "decorator")
            .filter_map(|decorator| self.annotation(decorator, env))
            .collect()
    }

    fn annotation(&self, decorator: Node<'_>, env: &Env) -> Option<Annotation> {
        let expression = decorator.named_child(0)?;
        let mut annotation = Annotation {
            position: position(decorator),
            ..Annotation::default()
        };
        if expression.kind() != "call" {
            annotation.name = collapse_whitespace(self.text(expression));
            return Some(annotation);
        }
        let function = expression.child_by_field_name("function")?;
        annotation.name = collapse_whitespace(self.text(function));
        let arguments = expression.child_by_field_name("arguments")?;
        for arg in named_children(arguments) {
            match arg.kind() {
                "keyword_argument" => {
                    let (Some(name), Some(value)) = (
                        arg.child_by_field_name("name"),
                        arg.child_by_field_name("value"),
                    ) else {
                        continue;
                    };
                    let name = self.text(name).to_string();
                    for value in self.literal_values(value, env) {
                        annotation.args.push((Some(name.clone()), value));
                    }
                }
                "comment" => {}
                _ => {
                    for value in self.literal_values(arg, env) {
                        annotation.args.push((None, value));
                    }
                }
            }
        }
        Some(annotation)
    }

    /// One entry per list/tuple element; strings as their pattern, others as source text.
    fn literal_values(&self, value: Node<'_>, env: &Env) -> Vec<String> {
        if matches!(value.kind(), "list" | "tuple" | "set") {
            return named_children(value)
                .into_iter()
                .filter(|element| element.kind() != "comment")
                .map(|element| self.literal_value(element, env))
                .collect();
        }
        vec![self.literal_value(value, env)]
    }

    fn literal_value(&self, value: Node<'_>, env: &Env) -> String {
        self.pattern(value, env, usize::MAX)
            .unwrap_or_else(|| collapse_whitespace(self.text(value)))
    }

    fn params(&self, list: Node<'_>, owner: Option<&str>) -> Vec<Field> {
        let mut fields = Vec::new();
        for (index, param) in named_children(list).into_iter().enumerate() {
            let (name, type_name) = match param.kind() {
                "identifier" => (self.text(param).to_string(), String::new()),
                "typed_parameter" => {
                    let name = named_children(param)
                        .into_iter()
                        .find(|c| {
                            matches!(
                                c.kind(),
                                "identifier" | "list_splat_pattern" | "dictionary_splat_pattern"
                            )
                        })
                        .map(|c| self.text(c).trim_start_matches('*').to_string())
                        .unwrap_or_default();
                    let ty = param
                        .child_by_field_name("type")
                        .map(|t| clean_type(self.text(t)))
                        .unwrap_or_default();
                    (name, ty)
                }
                "default_parameter" | "typed_default_parameter" => {
                    let name = param
                        .child_by_field_name("name")
                        .map(|n| self.text(n).to_string())
                        .unwrap_or_default();
                    let ty = param
                        .child_by_field_name("type")
                        .map(|t| clean_type(self.text(t)))
                        .unwrap_or_default();
                    (name, ty)
                }
                "list_splat_pattern" | "dictionary_splat_pattern" => (
                    self.text(param).trim_start_matches('*').to_string(),
                    String::new(),
                ),
                _ => continue,
            };
            if name.is_empty() {
                continue;
            }
            // `self` / `cls` of a method are typed by their class.
            let type_name = match owner {
                Some(owner)
                    if index == 0 && type_name.is_empty() && (name == "self" || name == "cls") =>
                {
                    owner.to_string()
                }
                _ => type_name,
            };
            fields.push(Field {
                name,
                type_name,
                annotations: Vec::new(),
            });
        }
        fields
    }

    /// Dotted names of the classes and functions enclosing `node`, outermost first.
    fn nesting(&self, node: Node<'_>) -> Vec<String> {
        let mut names = Vec::new();
        let mut scope = self.scope_of(node);
        while let Scope::Class(enclosing) | Scope::Function(enclosing) = scope {
            if let Some(name) = enclosing.child_by_field_name("name") {
                names.push(self.text(name).to_string());
            }
            scope = self.scope_of(enclosing);
        }
        names.reverse();
        names
    }

    fn qualify(&self, node: Node<'_>, name: &str) -> String {
        let mut parts = vec![self.module.clone()];
        parts.extend(self.nesting(node));
        parts.push(name.to_string());
        parts.retain(|part| !part.is_empty());
        parts.join(".")
    }

    fn class(&self, item: &Item<'_>, env: &Env) -> Option<TypeDecl> {
        let name = self.text(item.get("name")?).to_string();
        let mut decl = TypeDecl {
            qualified: self.qualify(item.node, &name),
            name,
            annotations: self.decorators(item.node, env),
            position: position(item.node),
            ..TypeDecl::default()
        };
        if let Some(bases) = item.get("class.bases") {
            for base in named_children(bases) {
                if matches!(base.kind(), "keyword_argument" | "comment") {
                    continue;
                }
                decl.supertypes.push(clean_type(self.text(base)));
            }
        }
        if decl
            .supertypes
            .iter()
            .any(|base| base.ends_with("Enum") || base.ends_with("IntFlag"))
        {
            decl.kind = TypeKind::Enum;
        }
        if decl
            .supertypes
            .iter()
            .any(|base| base == "Protocol" || base.ends_with(".Protocol"))
        {
            decl.kind = TypeKind::Interface;
        }
        // Class attributes with an annotation or an obvious type.
        if let Some(body) = item.get("class.body") {
            for statement in named_children(body) {
                if statement.kind() != "expression_statement" {
                    continue;
                }
                let Some(assignment) = statement
                    .named_child(0)
                    .filter(|a| a.kind() == "assignment")
                else {
                    continue;
                };
                let Some(left) = assignment
                    .child_by_field_name("left")
                    .filter(|l| l.kind() == "identifier")
                else {
                    continue;
                };
                let declared = assignment
                    .child_by_field_name("type")
                    .map(|t| clean_type(self.text(t)));
                let obvious = assignment
                    .child_by_field_name("right")
                    .and_then(|r| self.obvious_type(r));
                if let Some(type_name) = declared.or(obvious) {
                    decl.fields.push(Field {
                        name: self.text(left).to_string(),
                        type_name,
                        annotations: Vec::new(),
                    });
                }
            }
        }
        Some(decl)
    }

    fn function(&self, item: &Item<'_>, env: &Env) -> Option<Function> {
        let name = self.text(item.get("name")?).to_string();
        let owner = match self.scope_of(item.node) {
            Scope::Class(class) => class
                .child_by_field_name("name")
                .map(|n| self.text(n).to_string()),
            _ => None,
        };
        let params = item
            .get("function.params")
            .map(|list| self.params(list, owner.as_deref()))
            .unwrap_or_default();
        let annotations = self.decorators(item.node, env);
        let manual_spans = annotations
            .iter()
            .filter_map(|annotation| {
                let callee = annotation.name.rsplit('.').next().unwrap_or("");
                let receiver = annotation.name.rsplit_once('.').map(|(r, _)| r);
                let api = self.span_api(callee, receiver, false)?;
                let name = annotation
                    .args
                    .iter()
                    .find(|(key, _)| key.is_none() || key.as_deref() == Some("name"))
                    .map(|(_, value)| value.clone())?;
                Some(ManualSpan {
                    name,
                    api: api.to_string(),
                    position: annotation.position,
                })
            })
            .collect();
        Some(Function {
            qualified: self.qualify(item.node, &name),
            name,
            owner,
            params,
            annotations,
            position: position(item.node),
            end_line: item.node.end_position().row as u32 + 1,
            manual_spans,
            ..Function::default()
        })
    }

    /// The tracing API of a span-opening call, if it is one.
    fn span_api(
        &self,
        callee: &str,
        receiver: Option<&str>,
        operation_name: bool,
    ) -> Option<&'static str> {
        let tracerish = receiver.is_some_and(|r| r.to_ascii_lowercase().contains("tracer"));
        if !tracerish {
            return None;
        }
        match callee {
            "start_as_current_span" => Some("opentelemetry"),
            "start_active_span" => Some("opentracing"),
            "start_span" if operation_name || self.opentracing_only => Some("opentracing"),
            "start_span" => Some("opentelemetry"),
            _ => None,
        }
    }

    fn call(&self, item: &Item<'_>, env: &Env) -> Option<(Call, Option<ManualSpan>)> {
        let callee = self.text(item.get("name")?).to_string();
        let at = item.node.start_byte();
        let mut call = Call {
            callee,
            receiver: item
                .get("call.receiver")
                .map(|r| collapse_whitespace(self.text(r))),
            position: position(item.node),
            in_loop: self.context(item.node).in_loop,
            in_handler: self.context(item.node).in_try,
            ..Call::default()
        };
        let mut span_name = None;
        let mut operation_name = false;
        if let Some(arguments) = item.get("call.arguments") {
            let args = if arguments.kind() == "argument_list" {
                named_children(arguments)
            } else {
                vec![arguments]
            };
            for arg in args {
                if arg.kind() == "comment" {
                    continue;
                }
                let (keyword, value) = if arg.kind() == "keyword_argument" {
                    (
                        arg.child_by_field_name("name").map(|n| self.text(n)),
                        arg.child_by_field_name("value"),
                    )
                } else {
                    (None, Some(arg))
                };
                let alternatives = value
                    .filter(|v| v.kind() == "identifier")
                    .and_then(|v| env.alternatives(self.text(v), at));
                let pattern = match alternatives {
                    Some(patterns) => {
                        call.arg_alternatives.push((call.args.len(), patterns));
                        None
                    }
                    None => value.and_then(|v| self.pattern(v, env, at)),
                };
                let names_span = match keyword {
                    None => call.args.is_empty(),
                    Some("name") => true,
                    Some("operation_name") => {
                        operation_name = true;
                        true
                    }
                    Some(_) => false,
                };
                if names_span && span_name.is_none() {
                    span_name = Some(pattern.clone().unwrap_or_else(|| "{}".to_string()));
                }
                if keyword.is_none()
                    && let Some(tuples) = value.and_then(|v| self.tuple_items(v, env, at))
                {
                    call.arg_tuples.push((call.args.len(), tuples));
                }
                call.args.push(pattern);
                call.arg_texts.push(truncate(self.text(arg), MAX_ARG_TEXT));
            }
        }
        let span = self
            .span_api(&call.callee, call.receiver.as_deref(), operation_name)
            .and_then(|api| {
                Some(ManualSpan {
                    name: span_name.clone()?,
                    api: api.to_string(),
                    position: call.position,
                })
            });
        Some((call, span))
    }

    /// The tuples of a list or tuple literal (`[(r"/a", A), (r"/b", B, {...})]`), each
    /// element as (pattern, text); `None` when the value is no such literal or holds no
    /// tuple.
    fn tuple_items(
        &self,
        value: Node<'_>,
        env: &Env,
        at: usize,
    ) -> Option<Vec<crate::facts::TupleItems>> {
        if !matches!(value.kind(), "list" | "tuple") {
            return None;
        }
        let tuples: Vec<crate::facts::TupleItems> = named_children(value)
            .into_iter()
            .filter(|element| element.kind() == "tuple")
            .map(|element| {
                named_children(element)
                    .into_iter()
                    .filter(|e| e.kind() != "comment")
                    .map(|e| {
                        (
                            self.pattern(e, env, at),
                            truncate(self.text(e), MAX_ARG_TEXT),
                        )
                    })
                    .collect()
            })
            .collect();
        (!tuples.is_empty()).then_some(tuples)
    }

    fn handler(&self, clause: Node<'_>) -> ErrorHandler {
        let mut caught = Vec::new();
        if let Some(value) = clause.child_by_field_name("value") {
            let value = if value.kind() == "as_pattern" {
                value.named_child(0).unwrap_or(value)
            } else {
                value
            };
            if matches!(value.kind(), "tuple" | "parenthesized_expression") {
                for element in named_children(value) {
                    caught.push(collapse_whitespace(self.text(element)));
                }
            } else {
                caught.push(collapse_whitespace(self.text(value)));
            }
        }
        let mut actions: Vec<ErrorAction> = Vec::new();
        let mut add = |action: ErrorAction| {
            if !actions.contains(&action) {
                actions.push(action);
            }
        };
        let body = named_children(clause)
            .into_iter()
            .find(|c| c.kind() == "block");
        if let Some(body) = body {
            for_each_descendant(body, |node| match node.kind() {
                "call" => {
                    let function = node.child_by_field_name("function");
                    let (callee, receiver) = match function {
                        Some(f) if f.kind() == "attribute" => (
                            f.child_by_field_name("attribute")
                                .map(|a| self.text(a))
                                .unwrap_or(""),
                            f.child_by_field_name("object").map(|o| self.text(o)),
                        ),
                        Some(f) => (self.text(f), None),
                        None => ("", None),
                    };
                    if is_error_log(callee, receiver) {
                        add(ErrorAction::Log);
                    } else if callee == "abort" {
                        add(ErrorAction::ReturnError);
                    } else if callee == "exit" && matches!(receiver, Some("sys" | "os")) {
                        add(ErrorAction::Panic);
                    }
                }
                "raise_statement" => {
                    if raises_http_error(node, self.source) {
                        add(ErrorAction::ReturnError);
                    } else {
                        add(ErrorAction::Rethrow);
                    }
                }
                "return_statement" if returns_error_response(node, self.source) => {
                    add(ErrorAction::ReturnError);
                }
                _ => {}
            });
        }
        if actions.is_empty() {
            actions.push(ErrorAction::Swallow);
        }
        ErrorHandler {
            kind: "except".to_string(),
            caught,
            actions,
            position: position(clause),
        }
    }
}

/// `%s`, `%d`, `%(name)s`, `%.2f` → the values in order (or `{}`); `%%` → `%`.
fn percent_format(format: &str, values: &[String]) -> String {
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
        let mut mapping = false;
        if chars.peek() == Some(&'(') {
            mapping = true;
            for inner in chars.by_ref() {
                if inner == ')' {
                    break;
                }
            }
        }
        while chars
            .peek()
            .is_some_and(|c| matches!(c, '+' | '-' | '#' | ' ' | '0'..='9' | '.' | '*'))
        {
            chars.next();
        }
        if chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            chars.next();
            let value = if mapping {
                None
            } else {
                values.get(next_value)
            };
            out.push_str(value.map(String::as_str).unwrap_or("{}"));
            next_value += 1;
        } else {
            out.push('%');
        }
    }
    out
}

/// `"/a/{}/{name}".format(x, name=y)` with the given values (or `{}`); `{{` → `{`.
fn brace_format(format: &str, positional: &[String], named: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    let mut next_value = 0;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut field = String::new();
                for inner in chars.by_ref() {
                    if inner == '}' {
                        break;
                    }
                    field.push(inner);
                }
                let key = field.split([':', '!', '.', '[']).next().unwrap_or("");
                let value = if key.is_empty() {
                    let value = positional.get(next_value);
                    next_value += 1;
                    value
                } else if let Ok(index) = key.parse::<usize>() {
                    positional.get(index)
                } else {
                    named.get(key)
                };
                out.push_str(value.map(String::as_str).unwrap_or("{}"));
            }
            other => out.push(other),
        }
    }
    out
}

fn unescape(sequence: &str) -> String {
    match sequence {
        "\\n" => "\n".to_string(),
        "\\t" => "\t".to_string(),
        "\\\\" => "\\".to_string(),
        "\\\"" => "\"".to_string(),
        "\\'" => "'".to_string(),
        "{{" => "{".to_string(),
        "}}" => "}".to_string(),
        other => other.to_string(),
    }
}

/// `from .models import X` in `orders/api/views.py` → `orders.api.models`.
fn absolute_module(module: &str, relative: &str, is_package: bool) -> String {
    let dots = relative.chars().take_while(|c| *c == '.').count();
    if dots == 0 {
        return relative.to_string();
    }
    let mut base: Vec<&str> = module.split('.').filter(|p| !p.is_empty()).collect();
    // One dot is the current package: drop the module name unless this is __init__.
    let drop = if is_package { dots - 1 } else { dots };
    for _ in 0..drop {
        base.pop();
    }
    let rest = &relative[dots..];
    if !rest.is_empty() {
        base.push(rest);
    }
    base.join(".")
}

fn extract(path: &str, source: &str, tree: &Tree) -> FileFacts {
    let root = tree.root_node();
    let module = module_path(path);
    let mut facts = FileFacts {
        path: path.to_string(),
        language: Some(Language::Python),
        package: module.clone(),
        syntax_errors: count_syntax_errors(root),
        lines: lines_of(source),
        ..FileFacts::default()
    };
    let items = syntax::run_query(facts_query(), MAIN_CAPTURES, root, source);
    let is_package = path.ends_with("__init__.py");

    // Imports.
    for item in &items {
        match item.kind {
            "reference.import" => {
                let Some(path_node) = item.get("import.path") else {
                    continue;
                };
                let import_path = text(path_node, source).to_string();
                let alias = match item.get("import.alias") {
                    Some(alias) => text(alias, source).to_string(),
                    // `import a.b` binds `a`.
                    None => import_path.split('.').next().unwrap_or("").to_string(),
                };
                facts.imports.push(Import {
                    path: import_path,
                    alias: Some(alias),
                    names: Vec::new(),
                    position: position(item.node),
                });
            }
            "reference.import_from" => {
                let Some(module_node) = item.get("import.path") else {
                    continue;
                };
                let import_path = absolute_module(&module, text(module_node, source), is_package);
                let mut cursor = item.node.walk();
                let names: Vec<Node<'_>> = item
                    .node
                    .children_by_field_name("name", &mut cursor)
                    .collect();
                if names.is_empty() {
                    // `from x import *`
                    facts.imports.push(Import {
                        path: import_path,
                        alias: None,
                        names: vec!["*".to_string()],
                        position: position(item.node),
                    });
                    continue;
                }
                for name in names {
                    let (imported, alias) = if name.kind() == "aliased_import" {
                        (
                            name.child_by_field_name("name")
                                .map(|n| text(n, source))
                                .unwrap_or(""),
                            name.child_by_field_name("alias").map(|a| text(a, source)),
                        )
                    } else {
                        (text(name, source), None)
                    };
                    facts.imports.push(Import {
                        path: import_path.clone(),
                        alias: Some(alias.unwrap_or(imported).to_string()),
                        names: vec![imported.to_string()],
                        position: position(name),
                    });
                }
            }
            _ => {}
        }
    }
    let imports_opentracing = facts
        .imports
        .iter()
        .any(|i| i.path.starts_with("opentracing"));
    let imports_otel = facts
        .imports
        .iter()
        .any(|i| i.path.starts_with("opentelemetry"));
    let mut extractor = Extractor {
        contexts: contexts(root),
        source,
        module,
        opentracing_only: imports_opentracing && !imports_otel,
        module_env: Env::default(),
        class_strings: HashMap::new(),
    };

    // Module-level string values (constants and `os.getenv` defaults), in order, so
    // later definitions can use earlier ones.
    let mut module_env = Env::default();
    let mut class_envs: HashMap<usize, Env> = HashMap::new();
    for item in &items {
        if item.kind != "definition.local" {
            continue;
        }
        let Some(name) = item.get("name") else {
            continue;
        };
        let Some(value) = item.get("local.value") else {
            continue;
        };
        let at = item.node.start_byte();
        let (owner, env) = match extractor.scope_of(item.node) {
            Scope::Module => (None, &mut module_env),
            Scope::Class(class) => (
                class
                    .child_by_field_name("name")
                    .map(|n| text(n, source).to_string()),
                class_envs.entry(class.id()).or_default(),
            ),
            Scope::Function(_) => continue,
        };
        // Only plain statements `X = ...` define constants (not `a = b = ...` chains).
        if item.node.parent().map(|p| p.kind()) != Some("expression_statement") {
            continue;
        }
        let Some(pattern) = extractor.pattern(value, env, at) else {
            continue;
        };
        let name = text(name, source).to_string();
        // Module and class values hold everywhere after their assignment.
        env.bind(&name, at, 0..usize::MAX, pattern.clone());
        facts.string_constants.push(StringConstant {
            name,
            owner,
            value: pattern,
        });
    }

    // `self.x = "..."` in methods: string attributes of the class.
    extractor.class_strings = class_envs;
    for item in &items {
        if item.kind != "definition.attribute" {
            continue;
        }
        let (Some(name), Some(value)) = (item.get("name"), item.get("local.value")) else {
            continue;
        };
        let Scope::Function(method) = extractor.scope_of(item.node) else {
            continue;
        };
        let Scope::Class(class) = extractor.scope_of(method) else {
            continue;
        };
        let at = item.node.start_byte();
        if let Some(pattern) = extractor.pattern(value, &module_env, at) {
            extractor.class_strings.entry(class.id()).or_default().bind(
                text(name, source),
                at,
                0..usize::MAX,
                pattern,
            );
        }
    }
    extractor.module_env = module_env;
    let extractor = extractor;
    // Names bound outside functions resolve through `extractor.module_env`.
    let no_locals = Env::default();

    // Classes and functions.
    let mut index_of: HashMap<usize, usize> = HashMap::new();
    let mut class_index: HashMap<usize, usize> = HashMap::new();
    for item in &items {
        match item.kind {
            "definition.class" => {
                if let Some(decl) = extractor.class(item, &no_locals) {
                    class_index.insert(item.node.id(), facts.types.len());
                    facts.types.push(decl);
                }
            }
            "definition.function" => {
                if let Some(function) = extractor.function(item, &no_locals) {
                    index_of.insert(item.node.id(), facts.functions.len());
                    facts.functions.push(function);
                }
            }
            _ => {}
        }
    }
    let function_of = |node: Node<'_>| match extractor.scope_of(node) {
        Scope::Function(f) => index_of.get(&f.id()).copied(),
        _ => None,
    };

    // `self.x = T()` in a method: an attribute of the method's class.
    for item in &items {
        if item.kind != "definition.attribute" {
            continue;
        }
        let (Some(name), Some(value)) = (item.get("name"), item.get("local.value")) else {
            continue;
        };
        let Scope::Function(method) = extractor.scope_of(item.node) else {
            continue;
        };
        let Scope::Class(class) = extractor.scope_of(method) else {
            continue;
        };
        let Some(type_name) = extractor.obvious_type(value) else {
            continue;
        };
        let Some(decl) = class_index.get(&class.id()).map(|i| &mut facts.types[*i]) else {
            continue;
        };
        let name = text(name, source).to_string();
        if !decl.fields.iter().any(|field| field.name == name) {
            decl.fields.push(Field {
                name,
                type_name,
                annotations: Vec::new(),
            });
        }
    }

    // Locals (and module globals) in source order, with string values for patterns.
    let mut envs: Vec<Env> = (0..facts.functions.len()).map(|_| Env::default()).collect();
    for item in &items {
        if !matches!(item.kind, "definition.local" | "definition.with") {
            continue;
        }
        let (Some(name), Some(value)) = (item.get("name"), item.get("local.value")) else {
            continue;
        };
        let name_text = text(name, source).to_string();
        let declared = item
            .node
            .child_by_field_name("type")
            .map(|t| clean_type(text(t, source)));
        let type_name = declared.or_else(|| extractor.obvious_type(value));
        match extractor.scope_of(item.node) {
            Scope::Function(function) => {
                let Some(index) = index_of.get(&function.id()).copied() else {
                    continue;
                };
                let at = item.node.start_byte();
                if let Some(pattern) = extractor.pattern(value, &envs[index], at) {
                    let (start, end) = extractor.context(item.node).block;
                    envs[index].bind(&name_text, at, start..end, pattern);
                }
                if let Some(type_name) = type_name {
                    facts.functions[index].locals.push(Field {
                        name: name_text,
                        type_name,
                        annotations: Vec::new(),
                    });
                }
            }
            Scope::Module => {
                if let Some(type_name) = type_name {
                    facts.globals.push(Field {
                        name: name_text,
                        type_name,
                        annotations: Vec::new(),
                    });
                }
            }
            Scope::Class(_) => {}
        }
    }
    // Calls, handlers, exits.
    for item in &items {
        match item.kind {
            "reference.call" => {
                if extractor.context(item.node).in_decorator {
                    continue; // Decorators are recorded as annotations.
                }
                let owner = function_of(item.node);
                let env = match owner {
                    Some(index) => &envs[index],
                    None => &no_locals,
                };
                let Some((call, span)) = extractor.call(item, env) else {
                    continue;
                };
                let Some(index) = owner else {
                    facts.top_level_calls.push(call);
                    continue;
                };
                let function = &mut facts.functions[index];
                if let Some(span) = span {
                    function.manual_spans.push(span);
                }
                if call.callee == "abort"
                    && call.receiver.is_none()
                    && !extractor.context(item.node).in_except
                {
                    function.error_exits.push(ErrorExit {
                        kind: "raise".to_string(),
                        position: call.position,
                    });
                }
                function.calls.push(call);
            }
            "handler.except" => {
                if let Some(index) = function_of(item.node) {
                    let handler = extractor.handler(item.node);
                    facts.functions[index].error_handlers.push(handler);
                }
            }
            "exit.raise" => {
                if extractor.context(item.node).in_except {
                    continue;
                }
                if let Some(index) = function_of(item.node) {
                    facts.functions[index].error_exits.push(ErrorExit {
                        kind: "raise".to_string(),
                        position: position(item.node),
                    });
                }
            }
            _ => {}
        }
    }
    for function in &mut facts.functions {
        function.error_exits.sort_by_key(|exit| exit.position);
        function.manual_spans.sort_by_key(|span| span.position);
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_at(path: &str, source: &str) -> FileFacts {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&grammar()).expect("grammar loads");
        let tree = parser.parse(source, None).expect("parses");
        extract(path, source, &tree)
    }

    fn facts(source: &str) -> FileFacts {
        facts_at("orders/api/views.py", source)
    }

    #[test]
    fn query_compiles_and_snippet_parses() {
        let f = facts("def f():\n    g(1)\n");
        assert_eq!(f.package, "orders.api.views");
        assert_eq!(f.functions[0].qualified, "orders.api.views.f");
        assert_eq!(f.functions[0].calls[0].callee, "g");
        assert_eq!(f.syntax_errors, 0);
    }

    #[test]
    fn module_paths() {
        assert_eq!(module_path("orders/api/views.py"), "orders.api.views");
        assert_eq!(module_path("orders/__init__.py"), "orders");
        assert_eq!(module_path("app.py"), "app");
    }

    #[test]
    fn imports_with_aliases_and_relative_modules() {
        let f = facts(
            "import requests\nimport a.b as c\nfrom .models import Order as O, Item\nfrom .. import db\n",
        );
        let seen: Vec<_> = f
            .imports
            .iter()
            .map(|i| {
                (
                    i.path.as_str(),
                    i.alias.as_deref().unwrap_or(""),
                    i.names.join(","),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("requests", "requests", String::new()),
                ("a.b", "c", String::new()),
                ("orders.api.models", "O", "Order".to_string()),
                ("orders.api.models", "Item", "Item".to_string()),
                ("orders", "db", "db".to_string()),
            ]
        );
    }

    #[test]
    fn classes_methods_decorators() {
        let f = facts(
            "@dataclass\nclass Order(Base, Mixin):\n    __tablename__ = \"orders\"\n    id: Mapped[int] = mapped_column()\n    total = Column(Integer)\n\n    @app.route(\"/x/<id>\", methods=[\"GET\", \"POST\"])\n    def get(self, id: int, db: Optional[Session] = None):\n        pass\n",
        );
        let class = &f.types[0];
        assert_eq!(class.qualified, "orders.api.views.Order");
        assert_eq!(class.supertypes, ["Base", "Mixin"]);
        assert_eq!(class.annotations[0].name, "dataclass");
        let fields: Vec<_> = class
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.type_name.as_str()))
            .collect();
        assert_eq!(fields, [("id", "Mapped"), ("total", "Column")]);
        assert_eq!(f.string_constants[0].owner.as_deref(), Some("Order"));
        let method = &f.functions[0];
        assert_eq!(method.qualified, "orders.api.views.Order.get");
        assert_eq!(method.owner.as_deref(), Some("Order"));
        let params: Vec<_> = method
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.type_name.as_str()))
            .collect();
        assert_eq!(
            params,
            [("self", "Order"), ("id", "int"), ("db", "Session")]
        );
        assert_eq!(
            method.annotations[0].args,
            [
                (None, "/x/<id>".to_string()),
                (Some("methods".to_string()), "GET".to_string()),
                (Some("methods".to_string()), "POST".to_string())
            ]
        );
    }

    #[test]
    fn list_of_tuples_arguments() {
        let f = facts(
            "def make():\n    return Application([(r\"/a/(\\d+)\", A), (\"/b\", m.B, {}), \"x\"], debug=True)\n",
        );
        let call = &f.functions[0].calls[0];
        assert_eq!(call.arg_tuples.len(), 1);
        let (index, tuples) = &call.arg_tuples[0];
        assert_eq!(*index, 0);
        assert_eq!(tuples.len(), 2);
        assert_eq!(tuples[0][0].0.as_deref(), Some("/a/(\\d+)"));
        assert_eq!(tuples[0][1], (None, "A".to_string()));
        assert_eq!(tuples[1][1].1, "m.B");
        assert_eq!(tuples[1].len(), 3);
    }

    #[test]
    fn argument_patterns() {
        let f = facts(
            "BASE = os.getenv(\"PAY\", \"http://payments:5000\")\ndef f(oid):\n    url = f\"{BASE}/api/{oid}\"\n    requests.post(url, json={})\n    requests.get(\"http://a/%s/x\" % oid)\n    requests.get(\"http://a/{}/{n}\".format(oid, n=\"v\"))\n    requests.get(\"http://a/\" + oid)\n    g(oid)\n",
        );
        let calls = &f.functions[0].calls;
        assert_eq!(
            calls[0].args[0].as_deref(),
            Some("http://payments:5000/api/{}")
        );
        assert_eq!(calls[0].arg_texts[1], "json={}");
        assert_eq!(calls[1].args[0].as_deref(), Some("http://a/{}/x"));
        assert_eq!(calls[2].args[0].as_deref(), Some("http://a/{}/v"));
        // calls[3] is the `.format` call itself.
        assert_eq!(calls[3].callee, "format");
        assert_eq!(calls[4].args[0].as_deref(), Some("http://a/{}"));
        assert_eq!(calls.last().unwrap().args[0], None);
        assert_eq!(f.string_constants[0].value, "http://payments:5000");
    }

    #[test]
    fn class_string_attributes_resolve() {
        let f = facts(
            "class Gateway:\n    BASE = \"https://gw/v1\"\n    def __init__(self):\n        self.refunds = self.BASE + \"/refunds\"\n    def charge(self):\n        requests.post(self.BASE + \"/charges\")\n        requests.post(self.refunds)\n        requests.post(other.BASE)\n",
        );
        let charge = f.functions.iter().find(|f| f.name == "charge").unwrap();
        let urls: Vec<_> = charge.calls.iter().map(|c| c.args[0].clone()).collect();
        assert_eq!(
            urls,
            [
                Some("https://gw/v1/charges".to_string()),
                Some("https://gw/v1/refunds".to_string()),
                None
            ]
        );
    }

    #[test]
    fn branch_assignments_give_alternatives() {
        let f = facts(
            "def f(v):\n    if v:\n        url = \"http://a/x\"\n    else:\n        url = \"http://b/x\"\n    requests.get(url)\n",
        );
        let call = &f.functions[0].calls[0];
        assert_eq!(call.args[0], None);
        assert_eq!(
            call.arg_alternatives,
            [(0, vec!["http://a/x".to_string(), "http://b/x".to_string()])]
        );
    }

    #[test]
    fn loops_handlers_exits() {
        let f = facts(
            "def f(ids):\n    for i in ids:\n        db.get(i)\n    [q(x) for x in ids]\n    try:\n        r()\n    except (KeyError, ValueError) as e:\n        logger.error(\"x\")\n        raise\n    except Exception:\n        pass\n    except HTTPError:\n        return jsonify(error=\"x\"), 502\n    raise ValueError(\"no\")\n",
        );
        let function = &f.functions[0];
        let in_loop: Vec<_> = function
            .calls
            .iter()
            .map(|c| (c.callee.as_str(), c.in_loop))
            .collect();
        assert_eq!(in_loop[..3], [("get", true), ("q", true), ("r", false)]);
        assert!(
            function
                .calls
                .iter()
                .find(|c| c.callee == "r")
                .unwrap()
                .in_handler
        );
        let handlers: Vec<_> = function
            .error_handlers
            .iter()
            .map(|h| (h.caught.clone(), h.actions.clone()))
            .collect();
        assert_eq!(
            handlers,
            [
                (
                    vec!["KeyError".to_string(), "ValueError".to_string()],
                    vec![ErrorAction::Log, ErrorAction::Rethrow]
                ),
                (vec!["Exception".to_string()], vec![ErrorAction::Swallow]),
                (
                    vec!["HTTPError".to_string()],
                    vec![ErrorAction::ReturnError]
                ),
            ]
        );
        assert_eq!(function.error_exits.len(), 1);
        assert_eq!(function.error_exits[0].kind, "raise");
    }

    #[test]
    fn manual_spans_and_locals() {
        let f = facts(
            "tracer = trace.get_tracer(__name__)\ns = requests.Session()\n@tracer.start_as_current_span(\"decorated\")\ndef f():\n    with tracer.start_as_current_span(\"charge\") as span:\n        db = SessionLocal()\n    with Session(engine) as session:\n        pass\n    ot_tracer.start_active_span(\"legacy\")\n",
        );
        let function = &f.functions[0];
        let spans: Vec<_> = function
            .manual_spans
            .iter()
            .map(|s| (s.name.as_str(), s.api.as_str()))
            .collect();
        assert_eq!(
            spans,
            [
                ("decorated", "opentelemetry"),
                ("charge", "opentelemetry"),
                ("legacy", "opentracing")
            ]
        );
        let locals: Vec<_> = function
            .locals
            .iter()
            .map(|l| (l.name.as_str(), l.type_name.as_str()))
            .collect();
        assert_eq!(locals, [("db", "SessionLocal"), ("session", "Session")]);
        let globals: Vec<_> = f
            .globals
            .iter()
            .map(|l| (l.name.as_str(), l.type_name.as_str()))
            .collect();
        assert_eq!(globals, [("tracer", "Tracer"), ("s", "requests.Session")]);
    }

    #[test]
    fn syntax_errors_are_counted_and_tolerated() {
        let f = facts("def f(:\n    g(\ndef h():\n    k()\n");
        assert!(f.syntax_errors > 0);
    }
}
