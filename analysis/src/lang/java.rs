//! Java: grammar, query and extraction of [`FileFacts`].
//!
//! What to find lives in `queries/java/facts.scm` (compiled once); this module runs it in
//! one pass over the tree and assembles the matches into facts, placing calls, loops and
//! try blocks by byte range. Things queries express poorly are done by walking the tree:
//! string patterns of expressions (concatenation, `String.format`, constants and local
//! variables) and what a catch block does. Nothing recurses without a bound, so hostile
//! input cannot exhaust the stack.
//!
//! Conventions the later stages rely on:
//! - Qualified names are `pkg.Outer.Inner` for types and `pkg.Outer.Inner.method` for
//!   methods; `Function::owner` and `StringConstant::owner` are the qualified name of the
//!   declaring type. A constructor is a function named like its class (`pkg.Order.Order`).
//!   Methods of anonymous classes are not functions of their own: their calls belong to
//!   the enclosing method. Calls outside methods (field initializers, static blocks)
//!   are `FileFacts::top_level_calls`. Record components are fields of the record.
//! - Positions of calls and manual spans are those of the method name (distinct for every
//!   call of a chain); positions of declarations are their start, annotations included.
//! - A method reference (`this::cancel`) is a call without arguments.
//! - Argument patterns: string literals give their text; concatenations give literal
//!   pieces with `{}` for each run of non-literal parts; `String.format` / `.formatted`
//!   put the pattern of each `%s`/`%d` argument in place, `{}` when it has none; a name
//!   resolves to a string constant of the file (`X`, `this.X`, `Owner.X` where `Owner` is
//!   declared in the file) or to a local variable whose every non-null assignment in the
//!   method gives the same pattern (different patterns, ignoring an initial `""`, are
//!   listed in `Call::arg_alternatives`); parameters and lambda parameters hide
//!   constants. Anything else is `None` alone and `{}` inside a concatenation.
//! - String constants: `String` fields that are `final` (interface fields always) or never
//!   assigned anywhere in the file (train-ticket keeps URLs in plain fields), with an
//!   initializer that resolves fully (literals and other constants of the file).
//! - Locals: declared locals, enhanced-`for` variables and try resources with their
//!   declared type; `var` takes the type of `new T(..)`, `(T) x`, or of a call of a
//!   method of the same class whose overloads agree on the return type.
//! - `in_loop`: the call is in the body, condition or update of a `for`/`while`/`do`, in
//!   the body of an enhanced `for`, or in a lambda / method reference passed to an
//!   iterating method (`forEach`, `map`, `filter`, ...). `in_handler`: the call is in the
//!   resources or body of a `try` (not its catch or finally).
//! - Catch actions (sorted, without repeats): `log` for a call named
//!   `error`/`warn`/`warning`/`severe`/`fatal` on a receiver whose name contains `log`,
//!   `log(Level.SEVERE/WARNING, ..)`, `printStackTrace()` or `System.err.*`; `rethrow` for any `throw`; `return-error` for
//!   any `return` with a value (the method answers with a substitute instead of the
//!   exception); `panic` for `System.exit`; `swallow` when none of these happen.
//! - Error exits: a `throw` outside a catch block (`throw`), and a `return` outside a
//!   catch block of an error response (`return-error`): `new T(code, ...)` whose first
//!   argument is 0, negative or 400..=599 (train-ticket style `new Response<>(0, msg,
//!   null)`), or a `ResponseEntity` error builder (`badRequest()`, `notFound()`,
//!   `status(5xx)`, `internalServerError()`, ...).
//! - Manual spans: `spanBuilder(name)` (OpenTelemetry), `buildSpan(name)` (OpenTracing),
//!   and `@WithSpan` (OpenTelemetry). For `@WithSpan` without a value the name is the
//!   empty string: the span is then named `Class.method` by the instrumentation, which
//!   the later stages compute from the function.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use tree_sitter::{Node, Query, QueryCursor, StreamingIterator, Tree};

use super::LanguageSpec;
use super::syntax::{Nested, count_syntax_errors, position, text, truncate};
use crate::facts::{
    Annotation, Call, ErrorAction, ErrorExit, ErrorHandler, Field, FileFacts, Function, Import,
    Language, ManualSpan, StringConstant, TypeDecl, TypeKind,
};

/// The query that finds every fact.
const FACTS_QUERY: &str = include_str!("../../queries/java/facts.scm");

/// The Java registration.
pub const SPEC: LanguageSpec = LanguageSpec {
    language: Language::Java,
    extensions: &["java"],
    grammar: || tree_sitter_java::LANGUAGE.into(),
    queries: &[("facts.scm", FACTS_QUERY)],
    extract,
};

/// Longest argument text kept in [`Call::arg_texts`].
const MAX_ARG_TEXT: usize = 200;
/// Deepest chain of names followed when resolving a string pattern.
const MAX_RESOLVE_DEPTH: u32 = 8;
/// Most expression nodes looked at to resolve one argument, so that variables that refer
/// to each other many times cannot blow up.
const RESOLVE_BUDGET: u32 = 400;

/// Logger methods that report a failure.
const ERROR_LOG_METHODS: &[&str] = &["error", "warn", "warning", "severe", "fatal"];

/// `ResponseEntity` builders that answer with an error status.
const ERROR_RESPONSE_BUILDERS: &[&str] = &[
    "badRequest",
    "notFound",
    "internalServerError",
    "unprocessableEntity",
];

/// Node kinds that declare a named type.
const TYPE_DECLARATION_KINDS: &[&str] = &[
    "class_declaration",
    "interface_declaration",
    "enum_declaration",
    "record_declaration",
    "annotation_type_declaration",
];

/// The compiled query and the index of every capture the extractor reads.
struct Compiled {
    query: Query,
    cap: Captures,
}

/// Capture indices, looked up by name once.
struct Captures {
    package: u32,
    import: u32,
    import_path: u32,
    name: u32,
    definition_class: u32,
    definition_interface: u32,
    definition_enum: u32,
    supertype: u32,
    annotation: u32,
    field: u32,
    field_type: u32,
    field_name: u32,
    field_value: u32,
    definition_method: u32,
    definition_constructor: u32,
    parameters: u32,
    local: u32,
    local_type: u32,
    local_name: u32,
    local_value: u32,
    assign: u32,
    assign_name: u32,
    assign_value: u32,
    reference_call: u32,
    receiver: u32,
    arguments: u32,
    catch: u32,
    catch_type: u32,
    catch_body: u32,
    throw: u32,
    return_statement: u32,
    return_value: u32,
    span_method: u32,
    span_name: u32,
    span_opentelemetry: u32,
    span_opentracing: u32,
    span_annotation: u32,
    loop_body: u32,
    try_body: u32,
}

/// Every capture name the extractor reads (checked by a test against the query).
#[cfg(test)]
const CAPTURE_NAMES: &[&str] = &[
    "package",
    "import",
    "import.path",
    "name",
    "definition.class",
    "definition.interface",
    "definition.enum",
    "supertype",
    "annotation",
    "field",
    "field.type",
    "field.name",
    "field.value",
    "definition.method",
    "definition.constructor",
    "parameters",
    "local",
    "local.type",
    "local.name",
    "local.value",
    "assign",
    "assign.name",
    "assign.value",
    "reference.call",
    "receiver",
    "arguments",
    "catch",
    "catch.type",
    "catch.body",
    "throw",
    "return",
    "return.value",
    "span.method",
    "span.name",
    "span.opentelemetry",
    "span.opentracing",
    "span.annotation",
    "loop.body",
    "try.body",
];

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let query = Query::new(&(SPEC.grammar)(), FACTS_QUERY)
            .expect("queries/java/facts.scm compiles (checked by the unit tests)");
        // A name missing from the query maps to an index no capture has, so its facts are
        // simply absent; the unit tests check that every name is present.
        let index = |name: &str| query.capture_index_for_name(name).unwrap_or(u32::MAX);
        let cap = Captures {
            package: index("package"),
            import: index("import"),
            import_path: index("import.path"),
            name: index("name"),
            definition_class: index("definition.class"),
            definition_interface: index("definition.interface"),
            definition_enum: index("definition.enum"),
            supertype: index("supertype"),
            annotation: index("annotation"),
            field: index("field"),
            field_type: index("field.type"),
            field_name: index("field.name"),
            field_value: index("field.value"),
            definition_method: index("definition.method"),
            definition_constructor: index("definition.constructor"),
            parameters: index("parameters"),
            local: index("local"),
            local_type: index("local.type"),
            local_name: index("local.name"),
            local_value: index("local.value"),
            assign: index("assign"),
            assign_name: index("assign.name"),
            assign_value: index("assign.value"),
            reference_call: index("reference.call"),
            receiver: index("receiver"),
            arguments: index("arguments"),
            catch: index("catch"),
            catch_type: index("catch.type"),
            catch_body: index("catch.body"),
            throw: index("throw"),
            return_statement: index("return"),
            return_value: index("return.value"),
            span_method: index("span.method"),
            span_name: index("span.name"),
            span_opentelemetry: index("span.opentelemetry"),
            span_opentracing: index("span.opentracing"),
            span_annotation: index("span.annotation"),
            loop_body: index("loop.body"),
            try_body: index("try.body"),
        };
        Compiled { query, cap }
    })
}

/// A declaration or statement found by the query, with the parts the extractor reads.
#[derive(Clone, Copy)]
struct Declared<'t> {
    node: Node<'t>,
    name: Node<'t>,
    type_node: Option<Node<'t>>,
    value: Option<Node<'t>>,
}

/// A call site found by the query.
#[derive(Clone, Copy)]
struct CallSite<'t> {
    node: Node<'t>,
    receiver: Option<Node<'t>>,
    name: Node<'t>,
    arguments: Option<Node<'t>>,
}

/// A manual span opening found by the query.
#[derive(Clone, Copy)]
struct SpanSite<'t> {
    method: Node<'t>,
    name_arg: Node<'t>,
    api: &'static str,
}

/// Every match of the query, grouped by what it found, in source order.
#[derive(Default)]
struct Matches<'t> {
    package: Option<Node<'t>>,
    imports: Vec<(Node<'t>, Node<'t>)>,
    types: Vec<(Node<'t>, Node<'t>, TypeKind)>,
    supertypes: Vec<Node<'t>>,
    annotations: Vec<Node<'t>>,
    fields: Vec<Declared<'t>>,
    functions: Vec<(Node<'t>, Node<'t>, Node<'t>)>,
    locals: Vec<Declared<'t>>,
    assignments: Vec<Declared<'t>>,
    calls: Vec<CallSite<'t>>,
    catches: Vec<(Node<'t>, Node<'t>, Node<'t>)>,
    throws: Vec<Node<'t>>,
    returns: Vec<(Node<'t>, Node<'t>)>,
    spans: Vec<SpanSite<'t>>,
    span_annotations: Vec<Node<'t>>,
    /// Byte ranges that run once per iteration of a loop.
    loop_bodies: Vec<std::ops::Range<usize>>,
    /// Byte ranges guarded by a try block.
    try_bodies: Vec<std::ops::Range<usize>>,
    /// Indexes of `loop_bodies`, `try_bodies` and the catch clauses, built once sorted.
    loop_index: Nested,
    try_index: Nested,
    catch_index: Nested,
}

fn collect_matches<'t>(tree: &'t Tree, source: &str) -> Matches<'t> {
    let Compiled { query, cap } = compiled();
    let mut found = Matches::default();
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(query, tree.root_node(), source.as_bytes());
    while let Some(m) = matches.next() {
        let get = |index: u32| {
            m.captures()
                .iter()
                .find(|capture| capture.index == index)
                .map(|capture| capture.node)
        };
        if let Some(node) = get(cap.loop_body) {
            found.loop_bodies.push(node.byte_range());
        } else if let Some(node) = get(cap.try_body) {
            found.try_bodies.push(node.byte_range());
        } else if let Some(node) = get(cap.package) {
            found.package.get_or_insert(node);
        } else if let (Some(node), Some(path)) = (get(cap.import), get(cap.import_path)) {
            found.imports.push((node, path));
        } else if let (Some(node), Some(name)) = (get(cap.definition_class), get(cap.name)) {
            found.types.push((node, name, TypeKind::Class));
        } else if let (Some(node), Some(name)) = (get(cap.definition_interface), get(cap.name)) {
            found.types.push((node, name, TypeKind::Interface));
        } else if let (Some(node), Some(name)) = (get(cap.definition_enum), get(cap.name)) {
            found.types.push((node, name, TypeKind::Enum));
        } else if let Some(node) = get(cap.supertype) {
            found.supertypes.push(node);
        } else if let Some(node) = get(cap.annotation) {
            found.annotations.push(node);
        } else if let (Some(node), Some(name)) = (get(cap.field), get(cap.field_name)) {
            found.fields.push(Declared {
                node,
                name,
                type_node: get(cap.field_type),
                value: get(cap.field_value),
            });
        } else if let (Some(node), Some(name), Some(params)) = (
            get(cap.definition_method).or_else(|| get(cap.definition_constructor)),
            get(cap.name),
            get(cap.parameters),
        ) {
            found.functions.push((node, name, params));
        } else if let (Some(node), Some(name)) = (get(cap.local), get(cap.local_name)) {
            found.locals.push(Declared {
                node,
                name,
                type_node: get(cap.local_type),
                value: get(cap.local_value),
            });
        } else if let (Some(node), Some(name)) = (get(cap.assign), get(cap.assign_name)) {
            found.assignments.push(Declared {
                node,
                name,
                type_node: None,
                value: get(cap.assign_value),
            });
        } else if let (Some(node), Some(name)) = (get(cap.reference_call), get(cap.name)) {
            found.calls.push(CallSite {
                node,
                receiver: get(cap.receiver),
                name,
                arguments: get(cap.arguments),
            });
        } else if let (Some(node), Some(types), Some(body)) =
            (get(cap.catch), get(cap.catch_type), get(cap.catch_body))
        {
            found.catches.push((node, types, body));
        } else if let Some(node) = get(cap.throw) {
            found.throws.push(node);
        } else if let (Some(node), Some(value)) = (get(cap.return_statement), get(cap.return_value))
        {
            found.returns.push((node, value));
        } else if let (Some(method), Some(name_arg)) = (get(cap.span_method), get(cap.span_name)) {
            let api = if get(cap.span_opentracing).is_some() {
                "opentracing"
            } else if get(cap.span_opentelemetry).is_some() {
                "opentelemetry"
            } else {
                continue;
            };
            found.spans.push(SpanSite {
                method,
                name_arg,
                api,
            });
        } else if let Some(node) = get(cap.span_annotation) {
            found.span_annotations.push(node);
        }
    }
    found.sort();
    found.loop_index = Nested::new(found.loop_bodies.iter().cloned());
    found.try_index = Nested::new(found.try_bodies.iter().cloned());
    found.catch_index = Nested::new(found.catches.iter().map(|(c, _, _)| c.byte_range()));
    found
}

impl Matches<'_> {
    /// Puts every list in source order without repeats: matches of different patterns
    /// come out of the cursor interleaved.
    fn sort(&mut self) {
        self.imports.sort_by_key(|(node, _)| node.start_byte());
        self.types.sort_by_key(|(node, _, _)| node.start_byte());
        self.types.dedup_by_key(|(node, _, _)| node.id());
        self.supertypes.sort_by_key(|node| node.start_byte());
        self.annotations.sort_by_key(|node| node.start_byte());
        self.annotations.dedup_by_key(|node| node.id());
        self.fields.sort_by_key(|d| d.name.start_byte());
        self.functions.sort_by_key(|(node, _, _)| node.start_byte());
        self.functions.dedup_by_key(|(node, _, _)| node.id());
        self.locals.sort_by_key(|d| d.name.start_byte());
        self.assignments.sort_by_key(|d| d.node.start_byte());
        self.calls
            .sort_by_key(|c| (c.name.start_byte(), c.node.id()));
        self.calls.dedup_by_key(|c| c.node.id());
        self.catches.sort_by_key(|(node, _, _)| node.start_byte());
        self.throws.sort_by_key(|node| node.start_byte());
        self.returns.sort_by_key(|(node, _)| node.start_byte());
        self.spans.sort_by_key(|s| s.method.start_byte());
        self.span_annotations.sort_by_key(|node| node.start_byte());
    }
}

fn saturating_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX - 1)
}

/// Source text with line breaks and the indentation around them removed, so that a
/// receiver written over several lines reads as one expression.
fn one_line(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_string();
    }
    text.lines().map(str::trim).collect()
}

fn named_children<'t>(node: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    (0..node.named_child_count())
        .filter_map(move |i| node.named_child(u32::try_from(i).unwrap_or(u32::MAX)))
        .filter(|child| !child.is_extra())
}

/// A type as written without generic arguments: `List<Order>` gives `List`,
/// `Order[]` gives `Order[]`.
fn type_name(node: Node<'_>, source: &str) -> String {
    match node.kind() {
        "generic_type" => named_children(node)
            .find(|child| child.kind() != "type_arguments")
            .map(|base| type_name(base, source))
            .unwrap_or_default(),
        "array_type" => {
            let element = node
                .child_by_field_name("element")
                .map(|element| type_name(element, source))
                .unwrap_or_default();
            let dimensions = node
                .child_by_field_name("dimensions")
                .map(|d| text(d, source).split_whitespace().collect::<String>())
                .unwrap_or_default();
            element + &dimensions
        }
        // Long scoped names are nested deeply; reading them as text keeps recursion shallow.
        "scoped_type_identifier" if text(node, source).len() > 500 => one_line(text(node, source)),
        "scoped_type_identifier" if text(node, source).contains('<') => named_children(node)
            .map(|part| type_name(part, source))
            .collect::<Vec<_>>()
            .join("."),
        _ => one_line(text(node, source)),
    }
}

/// The generic arguments of a type, each without its own arguments.
fn type_arguments(node: Node<'_>, source: &str) -> Vec<String> {
    if node.kind() != "generic_type" {
        return Vec::new();
    }
    named_children(node)
        .filter(|child| child.kind() == "type_arguments")
        .flat_map(named_children)
        .map(|argument| type_name(argument, source))
        .collect()
}

/// The named type declaration a member (method, field, nested type) belongs to.
fn declaring_type(member: Node<'_>) -> Option<Node<'_>> {
    let body = member.parent()?;
    let declaration = match body.kind() {
        "class_body" | "interface_body" | "annotation_type_body" => body.parent()?,
        "enum_body_declarations" => body.parent()?.parent()?,
        _ => return None,
    };
    TYPE_DECLARATION_KINDS
        .contains(&declaration.kind())
        .then_some(declaration)
}

/// Whether a declaration's `modifiers` contain a keyword (`final`, `static`).
fn has_modifier(declaration: Node<'_>, keyword: &str, source: &str) -> bool {
    children(declaration)
        .filter(|child| child.kind() == "modifiers")
        .any(|modifiers| children(modifiers).any(|child| text(child, source) == keyword))
}

fn children<'t>(node: Node<'t>) -> impl Iterator<Item = Node<'t>> {
    (0..node.child_count()).filter_map(move |i| node.child(i))
}

/// Literal text of a string literal or text block, with the simple escapes undone.
fn string_literal_text(node: Node<'_>, source: &str) -> String {
    let raw = text(node, source);
    let inner = if let Some(block) = raw.strip_prefix("\"\"\"") {
        let block = block.strip_suffix("\"\"\"").unwrap_or(block);
        // A text block starts after the line break that follows the opening quotes.
        block.split_once('\n').map_or(block, |(_, rest)| rest)
    } else {
        let trimmed = raw.strip_prefix('"').unwrap_or(raw);
        trimmed.strip_suffix('"').unwrap_or(trimmed)
    };
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
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Turns `String.format` directives (`%s`, `%05d`, `%1$s`) into the pattern of their
/// argument when `values` has one, `{}` otherwise; `%%` and `%n` become their characters.
fn format_to_pattern(format: &str, values: &[Option<String>]) -> String {
    let mut out = String::with_capacity(format.len());
    let mut chars = format.chars().peekable();
    let mut next_value = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&flag) = chars
            .peek()
            .filter(|c| c.is_ascii_digit() || "$-#+ ,(<.".contains(**c))
        {
            flags.push(flag);
            chars.next();
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('n') => out.push('\n'),
            Some(conversion) => {
                if conversion == 't' || conversion == 'T' {
                    chars.next();
                }
                // Explicit (`%1$s`) and relative (`%<s`) indices are not followed.
                let value = if flags.contains('$') || flags.contains('<') {
                    None
                } else {
                    next_value += 1;
                    values.get(next_value - 1).cloned().flatten()
                };
                match value.filter(|_| matches!(conversion, 's' | 'S' | 'd')) {
                    Some(value) => out.push_str(&value),
                    None => push_placeholder(&mut out),
                }
            }
            None => out.push('%'),
        }
    }
    out
}

fn push_placeholder(out: &mut String) {
    if !out.ends_with("{}") {
        out.push_str("{}");
    }
}

/// What the assignments of a local variable give.
enum LocalValue {
    /// Every assignment gives this pattern.
    Single(String),
    /// Assignments give different patterns, in source order.
    Alternatives(Vec<String>),
    /// Not a pattern.
    Unknown,
}

/// Resolves expressions to string patterns, knowing the file's constants and, inside a
/// method, its local variables.
struct Resolver<'a, 't> {
    source: &'a str,
    /// Constant name → (owner, value), in source order.
    constants: &'a HashMap<String, Vec<(Option<String>, String)>>,
    /// Simple names of the types declared in the file.
    type_names: &'a BTreeSet<String>,
    /// Qualified name of the type whose code is resolved, to prefer its constants.
    owner: Option<&'a str>,
    /// Local variable and parameter name → the values assigned to it in the method.
    locals: Option<&'a HashMap<&'a str, LocalAssignments<'t>>>,
    /// Expression nodes left to look at.
    budget: Cell<u32>,
    /// Fail instead of using placeholders (for constants, which must be fully known).
    strict: bool,
}

/// The values given to one local variable in a method.
#[derive(Default)]
struct LocalAssignments<'t> {
    /// Declared for the whole method (a local or parameter) rather than only as a
    /// lambda parameter.
    method_wide: bool,
    /// Byte ranges of the lambdas that take it as a parameter.
    lambda_scopes: Vec<std::ops::Range<usize>>,
    values: Vec<Node<'t>>,
    /// Assigned with `+=` or similar: not resolvable.
    compound: bool,
}

/// One piece of a string pattern.
enum Piece {
    Literal(String),
    Placeholder,
}

impl<'t> Resolver<'_, 't> {
    fn spend(&self) -> bool {
        let left = self.budget.get();
        if left == 0 {
            return false;
        }
        self.budget.set(left - 1);
        true
    }

    /// The string pattern of an expression, if it has one.
    fn pattern(&self, node: Node<'t>, depth: u32) -> Option<String> {
        if depth > MAX_RESOLVE_DEPTH || !self.spend() {
            return None;
        }
        match node.kind() {
            "string_literal" | "text_block" => Some(string_literal_text(node, self.source)),
            "parenthesized_expression" => named_children(node)
                .next()
                .and_then(|inner| self.pattern(inner, depth + 1)),
            "binary_expression" => {
                let operator = node.child_by_field_name("operator")?;
                if text(operator, self.source) != "+" {
                    return None;
                }
                let mut pieces = Vec::new();
                let mut has_string = false;
                self.concatenation(node, depth, &mut pieces, &mut has_string)?;
                has_string.then(|| join_pieces(&pieces))
            }
            "identifier" => match self.local_value(node, depth) {
                Some(LocalValue::Single(pattern)) => Some(pattern),
                Some(_) => None,
                None => self.constant(text(node, self.source), None),
            },
            "field_access" => {
                let object = node.child_by_field_name("object")?;
                let field = node.child_by_field_name("field")?;
                let object_text = text(object, self.source);
                let qualifier = object_text.rsplit('.').next().unwrap_or(object_text);
                if object.kind() == "this" {
                    self.constant(text(field, self.source), self.owner)
                } else if self.type_names.contains(qualifier) {
                    self.constant(text(field, self.source), Some(qualifier))
                } else {
                    None
                }
            }
            "method_invocation" => self.format_call(node, depth),
            _ => None,
        }
    }

    /// `String.format(pattern, ...)` and `pattern.formatted(...)`: directives whose
    /// argument has a pattern take it, the others become `{}`.
    fn format_call(&self, node: Node<'t>, depth: u32) -> Option<String> {
        let name = text(node.child_by_field_name("name")?, self.source);
        let object = node.child_by_field_name("object")?;
        let arguments = node.child_by_field_name("arguments")?;
        let mut arguments = named_children(arguments);
        let format = match name {
            "format" if matches!(text(object, self.source), "String" | "java.lang.String") => {
                self.pattern(arguments.next()?, depth + 1)?
            }
            "formatted" => self.pattern(object, depth + 1)?,
            _ => return None,
        };
        let values: Vec<Option<String>> = arguments
            .map(|argument| self.pattern(argument, depth + 1))
            .collect();
        Some(format_to_pattern(&format, &values))
    }

    /// Flattens a `+` chain into pieces: literal text, and placeholders for the parts
    /// that have no pattern. In strict mode such a part fails the whole chain.
    fn concatenation(
        &self,
        node: Node<'t>,
        depth: u32,
        pieces: &mut Vec<Piece>,
        has_string: &mut bool,
    ) -> Option<()> {
        if !self.spend() {
            return None;
        }
        if node.kind() == "binary_expression"
            && node
                .child_by_field_name("operator")
                .is_some_and(|operator| text(operator, self.source) == "+")
        {
            // Recursing on the chain itself does not count as following a name: long
            // concatenations stay whole (the budget bounds them).
            self.concatenation(node.child_by_field_name("left")?, depth, pieces, has_string)?;
            self.concatenation(
                node.child_by_field_name("right")?,
                depth,
                pieces,
                has_string,
            )?;
            return Some(());
        }
        match node.kind() {
            // A numeric sum on the left (`1 + 2 + "x"`) would be added first; reading it
            // as text is close enough for URLs.
            "decimal_integer_literal" | "character_literal" | "true" | "false" => {
                pieces.push(Piece::Literal(
                    text(node, self.source).trim_matches('\'').to_string(),
                ));
            }
            _ => match self.pattern(node, depth + 1) {
                Some(pattern) => {
                    *has_string = true;
                    pieces.push(Piece::Literal(pattern));
                }
                None if self.strict => return None,
                None => pieces.push(Piece::Placeholder),
            },
        }
        Some(())
    }

    /// A string constant of the file by name, preferring one of `owner` (a qualified or
    /// simple type name).
    fn constant(&self, name: &str, owner: Option<&str>) -> Option<String> {
        let candidates = self.constants.get(name)?;
        let preferred = owner.or(self.owner).and_then(|owner| {
            candidates.iter().find(|(candidate_owner, _)| {
                candidate_owner.as_deref().is_some_and(|candidate| {
                    candidate == owner || candidate.rsplit('.').next() == Some(owner)
                })
            })
        });
        preferred
            .or_else(|| candidates.first())
            .map(|(_, value)| value.clone())
    }

    /// What a local variable or parameter holds; `None` when the name is not one.
    fn local_value(&self, reference: Node<'t>, depth: u32) -> Option<LocalValue> {
        let assignments = self.locals?.get(text(reference, self.source))?;
        let in_lambda_scope = assignments.lambda_scopes.iter().any(|scope| {
            scope.start <= reference.start_byte() && reference.end_byte() <= scope.end
        });
        if in_lambda_scope {
            return Some(LocalValue::Unknown);
        }
        if !assignments.method_wide {
            return None;
        }
        if assignments.compound {
            return Some(LocalValue::Unknown);
        }
        let mut patterns: Vec<String> = Vec::new();
        for value in &assignments.values {
            if value.kind() == "null_literal" {
                continue;
            }
            match self.pattern(*value, depth + 1) {
                Some(pattern) => {
                    if !patterns.contains(&pattern) {
                        patterns.push(pattern);
                    }
                }
                None => return Some(LocalValue::Unknown),
            }
        }
        if patterns.len() > 1 {
            // `String url = "";` before the branches that set it is not a real value.
            patterns.retain(|pattern| !pattern.is_empty());
        }
        Some(match patterns.len() {
            0 => LocalValue::Unknown,
            1 => LocalValue::Single(patterns.remove(0)),
            _ => LocalValue::Alternatives(patterns),
        })
    }

    /// Resets the budget before resolving a new expression.
    fn fresh(&self) -> &Self {
        self.budget.set(RESOLVE_BUDGET);
        self
    }
}

fn join_pieces(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(literal) => out.push_str(literal),
            Piece::Placeholder => push_placeholder(&mut out),
        }
    }
    out
}

/// Extracts the facts of one Java file.
fn extract(path: &str, source: &str, tree: &Tree) -> FileFacts {
    let found = collect_matches(tree, source);
    let package = found
        .package
        .map(|node| one_line(text(node, source)))
        .unwrap_or_default();

    let imports = found
        .imports
        .iter()
        .map(|&(node, path_node)| import(node, path_node, source))
        .collect();

    // Types, qualified by their enclosing declarations.
    let mut types: Vec<TypeDecl> = Vec::new();
    let mut type_index: HashMap<usize, usize> = HashMap::new();
    for &(node, name, kind) in &found.types {
        let mut qualified = text(name, source).to_string();
        let mut ancestor = node.parent();
        while let Some(current) = ancestor {
            if TYPE_DECLARATION_KINDS.contains(&current.kind())
                && let Some(outer) = current.child_by_field_name("name")
            {
                qualified = format!("{}.{qualified}", text(outer, source));
            }
            ancestor = current.parent();
        }
        if !package.is_empty() {
            qualified = format!("{package}.{qualified}");
        }
        type_index.insert(node.id(), types.len());
        types.push(TypeDecl {
            name: text(name, source).to_string(),
            qualified,
            kind,
            position: position(node),
            ..TypeDecl::default()
        });
    }
    let type_names: BTreeSet<String> = types.iter().map(|t| t.name.clone()).collect();
    let owner_of = |member: Node<'_>| {
        declaring_type(member).and_then(|declaration| type_index.get(&declaration.id()).copied())
    };

    for &node in &found.supertypes {
        // superclass → declaration; type_list → super_interfaces/extends → declaration.
        let mut ancestor = node.parent();
        while let Some(current) = ancestor {
            if let Some(&index) = type_index.get(&current.id()) {
                let name = type_name(node, source);
                let arguments = type_arguments(node, source);
                if !arguments.is_empty() {
                    types[index].supertype_args.push((name.clone(), arguments));
                }
                types[index].supertypes.push(name);
                break;
            }
            ancestor = current.parent();
        }
    }

    // String constants: String fields that are final (all interface fields are) or never
    // assigned in the file, resolved in rounds so that constants built from other
    // constants come out too.
    let assigned_names: BTreeSet<&str> = found
        .assignments
        .iter()
        .map(|assignment| {
            let target = text(assignment.name, source);
            target.rsplit('.').next().unwrap_or(target)
        })
        .collect();
    let constant_fields: Vec<(Declared<'_>, Option<String>)> = found
        .fields
        .iter()
        .filter(|field| {
            let is_string = field
                .type_node
                .is_some_and(|t| matches!(text(t, source), "String" | "java.lang.String"));
            let name = text(field.name, source);
            let is_final = field.node.kind() == "constant_declaration"
                || has_modifier(field.node, "final", source)
                || !assigned_names.contains(name);
            is_string && is_final && field.value.is_some()
        })
        .map(|field| {
            let owner = owner_of(field.node).map(|index| types[index].qualified.clone());
            (*field, owner)
        })
        .collect();
    let mut constants_by_name: HashMap<String, Vec<(Option<String>, String)>> = HashMap::new();
    let mut string_constants: Vec<StringConstant> = Vec::new();
    let mut resolved = vec![false; constant_fields.len()];
    for _round in 0..4 {
        let mut progress = false;
        for (i, (field, owner)) in constant_fields.iter().enumerate() {
            if resolved[i] {
                continue;
            }
            let resolver = Resolver {
                source,
                constants: &constants_by_name,
                type_names: &type_names,
                owner: owner.as_deref(),
                locals: None,
                budget: Cell::new(RESOLVE_BUDGET),
                strict: true,
            };
            let Some(value_node) = field.value else {
                continue;
            };
            if let Some(value) = resolver.pattern(value_node, 0) {
                let name = text(field.name, source).to_string();
                constants_by_name
                    .entry(name)
                    .or_default()
                    .push((owner.clone(), value));
                resolved[i] = true;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    for (i, (field, owner)) in constant_fields.iter().enumerate() {
        if !resolved[i] {
            continue;
        }
        let name = text(field.name, source);
        if let Some((_, value)) = constants_by_name
            .get(name)
            .and_then(|all| all.iter().find(|(o, _)| o == owner))
        {
            string_constants.push(StringConstant {
                name: name.to_string(),
                owner: owner.clone(),
                value: value.clone(),
            });
        }
    }

    // Annotations, keyed by the declaration that owns their `modifiers`.
    let file_resolver = Resolver {
        source,
        constants: &constants_by_name,
        type_names: &type_names,
        owner: None,
        locals: None,
        budget: Cell::new(RESOLVE_BUDGET),
        strict: false,
    };
    let mut annotations_of: HashMap<usize, Vec<Annotation>> = HashMap::new();
    for &node in &found.annotations {
        if let Some(owner) = node.parent().and_then(|modifiers| modifiers.parent()) {
            annotations_of
                .entry(owner.id())
                .or_default()
                .push(annotation(node, &file_resolver));
        }
    }
    let annotations_for =
        |node: Node<'_>| annotations_of.get(&node.id()).cloned().unwrap_or_default();
    for (index, &(node, _, _)) in found.types.iter().enumerate() {
        types[index].annotations = annotations_for(node);
    }
    // Record components are the record's fields.
    for (index, &(node, _, _)) in found.types.iter().enumerate() {
        if node.kind() == "record_declaration"
            && let Some(components) = node.child_by_field_name("parameters")
        {
            let components = parameters_of(components, source, &annotations_of);
            types[index].fields.extend(components);
        }
    }
    for field in &found.fields {
        if let Some(index) = owner_of(field.node) {
            types[index].fields.push(Field {
                name: text(field.name, source).to_string(),
                type_name: field
                    .type_node
                    .map(|t| type_name(t, source))
                    .unwrap_or_default(),
                annotations: annotations_for(field.node),
            });
        }
    }

    // Functions: methods and constructors of named types.
    let mut functions: Vec<Function> = Vec::new();
    let mut function_nodes: Vec<Node<'_>> = Vec::new();
    for &(node, name, parameters) in &found.functions {
        let Some(owner_index) = owner_of(node) else {
            continue;
        };
        let owner = types[owner_index].qualified.clone();
        let name = text(name, source).to_string();
        functions.push(Function {
            qualified: format!("{owner}.{name}"),
            name,
            owner: Some(owner),
            params: parameters_of(parameters, source, &annotations_of),
            annotations: annotations_for(node),
            position: position(node),
            end_line: saturating_u32(node.end_position().row) + 1,
            ..Function::default()
        });
        function_nodes.push(node);
    }
    let function_index = Nested::new(function_nodes.iter().map(|f| f.byte_range()));
    let function_of = |node: Node<'_>| function_index.innermost(node.start_byte(), node.end_byte());

    // Return types of methods per owner, for `var x = ownMethod()`; `None` when the
    // overloads disagree.
    let mut return_types: HashMap<String, HashMap<&str, Option<String>>> = HashMap::new();
    for (function, node) in functions.iter().zip(&function_nodes) {
        let returned = node
            .child_by_field_name("type")
            .map(|t| type_name(t, source));
        let (Some(owner), Some(returned)) = (&function.owner, returned) else {
            continue;
        };
        let name_node = node.child_by_field_name("name");
        let name = name_node.map_or("", |n| text(n, source));
        return_types
            .entry(owner.clone())
            .or_default()
            .entry(name)
            .and_modify(|known| {
                if known.as_deref() != Some(returned.as_str()) {
                    *known = None;
                }
            })
            .or_insert(Some(returned));
    }

    // Local variables and everything assigned to them, per function.
    let mut local_assignments: Vec<HashMap<&str, LocalAssignments<'_>>> =
        (0..functions.len()).map(|_| HashMap::new()).collect();
    for (index, &node) in function_nodes.iter().enumerate() {
        // Parameters shadow constants of the same name and are never patterns.
        if let Some(parameters) = node.child_by_field_name("parameters") {
            for (name, _, _) in parameter_parts(parameters) {
                local_assignments[index]
                    .entry(text(name, source))
                    .or_default()
                    .method_wide = true;
            }
        }
    }
    for local in &found.locals {
        let Some(index) = function_of(local.node) else {
            continue;
        };
        let name = text(local.name, source);
        let entry = local_assignments[index].entry(name).or_default();
        if local.node.kind() == "lambda_expression" {
            entry.lambda_scopes.push(local.node.byte_range());
            continue;
        }
        entry.method_wide = true;
        if let Some(value) = local.value {
            entry.values.push(value);
        }
        let owner = functions[index].owner.as_deref();
        if let Some(type_name) = local_type(local, source, owner.and_then(|o| return_types.get(o)))
        {
            functions[index].locals.push(Field {
                name: name.to_string(),
                type_name,
                annotations: annotations_for(local.node),
            });
        }
    }
    for assignment in &found.assignments {
        let Some(index) = function_of(assignment.node) else {
            continue;
        };
        let Some(entry) = local_assignments[index].get_mut(text(assignment.name, source)) else {
            continue;
        };
        let operator = assignment
            .node
            .child_by_field_name("operator")
            .map(|operator| text(operator, source));
        match (operator, assignment.value) {
            (Some("="), Some(value)) => entry.values.push(value),
            _ => entry.compound = true,
        }
    }

    let mut top_level_calls = Vec::new();
    for call in &found.calls {
        let Some(index) = function_of(call.node) else {
            // Field initializers, static blocks, methods of anonymous classes in fields.
            let root = tree.root_node();
            top_level_calls.push(build_call(call, &file_resolver, root, &found));
            continue;
        };
        let function = &functions[index];
        let resolver = Resolver {
            source,
            constants: &constants_by_name,
            type_names: &type_names,
            owner: function.owner.as_deref(),
            locals: Some(&local_assignments[index]),
            budget: Cell::new(RESOLVE_BUDGET),
            strict: false,
        };
        let built = build_call(call, &resolver, function_nodes[index], &found);
        functions[index].calls.push(built);
    }

    for &(node, types_node, body) in &found.catches {
        let Some(index) = function_of(node) else {
            continue;
        };
        functions[index].error_handlers.push(ErrorHandler {
            kind: "catch".to_string(),
            caught: named_children(types_node)
                .map(|caught| type_name(caught, source))
                .collect(),
            actions: catch_actions(body, source),
            position: position(node),
        });
    }

    for &node in &found.throws {
        let Some(index) = function_of(node) else {
            continue;
        };
        if !inside_catch(node, function_nodes[index], &found) {
            functions[index].error_exits.push(ErrorExit {
                kind: "throw".to_string(),
                position: position(node),
            });
        }
    }
    for &(node, value) in &found.returns {
        let Some(index) = function_of(node) else {
            continue;
        };
        if is_error_response(value, source) && !inside_catch(node, function_nodes[index], &found) {
            functions[index].error_exits.push(ErrorExit {
                kind: "return-error".to_string(),
                position: position(node),
            });
        }
    }
    for function in &mut functions {
        function.error_exits.sort_by_key(|exit| exit.position);
    }

    for span in &found.spans {
        let Some(index) = function_of(span.method) else {
            continue;
        };
        let resolver = Resolver {
            source,
            constants: &constants_by_name,
            type_names: &type_names,
            owner: functions[index].owner.as_deref(),
            locals: Some(&local_assignments[index]),
            budget: Cell::new(RESOLVE_BUDGET),
            strict: false,
        };
        let name = resolver
            .fresh()
            .pattern(span.name_arg, 0)
            .unwrap_or_else(|| "{}".to_string());
        functions[index].manual_spans.push(ManualSpan {
            name,
            api: span.api.to_string(),
            position: position(span.method),
        });
    }
    for &node in &found.span_annotations {
        let Some(declaration) = node.parent().and_then(|modifiers| modifiers.parent()) else {
            continue;
        };
        let Some(index) = function_nodes
            .iter()
            .position(|f| f.id() == declaration.id())
        else {
            continue;
        };
        let written = annotation(node, &file_resolver);
        let name = written
            .args
            .iter()
            .find(|(key, _)| key.as_deref().is_none_or(|key| key == "value"))
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        functions[index].manual_spans.push(ManualSpan {
            name,
            api: "opentelemetry".to_string(),
            position: position(node),
        });
    }
    for function in &mut functions {
        function.manual_spans.sort_by_key(|span| span.position);
    }

    FileFacts {
        path: path.to_string(),
        language: Some(Language::Java),
        package,
        module_path: String::new(),
        imports,
        types,
        functions,
        string_constants,
        syntax_errors: count_syntax_errors(tree.root_node()),
        lines: saturating_u32(source.lines().count()),
        top_level_calls,
        ..FileFacts::default()
    }
}

fn import(node: Node<'_>, path_node: Node<'_>, source: &str) -> Import {
    let path = one_line(text(path_node, source));
    let wildcard = children(node).any(|child| child.kind() == "asterisk");
    if wildcard {
        return Import {
            path: format!("{path}.*"),
            alias: None,
            names: Vec::new(),
            position: position(node),
        };
    }
    let alias = path.rsplit('.').next().map(str::to_string);
    Import {
        path,
        alias,
        names: Vec::new(),
        position: position(node),
    }
}

/// An annotation with its arguments: literal and constant values as patterns, other
/// values as their source text, arrays one entry per element.
fn annotation(node: Node<'_>, resolver: &Resolver<'_, '_>) -> Annotation {
    let source = resolver.source;
    let name = node
        .child_by_field_name("name")
        .map(|name| one_line(text(name, source)))
        .unwrap_or_default();
    let mut args = Vec::new();
    if let Some(list) = node.child_by_field_name("arguments") {
        for argument in named_children(list) {
            if argument.kind() == "element_value_pair" {
                let key = argument
                    .child_by_field_name("key")
                    .map(|key| text(key, source).to_string());
                if let Some(value) = argument.child_by_field_name("value") {
                    annotation_values(value, key.as_deref(), resolver, &mut args, 0);
                }
            } else {
                annotation_values(argument, None, resolver, &mut args, 0);
            }
        }
    }
    Annotation {
        name,
        args,
        position: position(node),
    }
}

fn annotation_values(
    value: Node<'_>,
    key: Option<&str>,
    resolver: &Resolver<'_, '_>,
    out: &mut Vec<(Option<String>, String)>,
    depth: u32,
) {
    if value.kind() == "element_value_array_initializer" && depth < MAX_RESOLVE_DEPTH {
        for element in named_children(value) {
            annotation_values(element, key, resolver, out, depth + 1);
        }
        return;
    }
    let written = resolver
        .fresh()
        .pattern(value, 0)
        .unwrap_or_else(|| truncate(&one_line(text(value, resolver.source)), MAX_ARG_TEXT));
    out.push((key.map(str::to_string), written));
}

/// (name, type, declaration) of each parameter in a `formal_parameters` list.
fn parameter_parts(parameters: Node<'_>) -> Vec<(Node<'_>, Option<Node<'_>>, Node<'_>)> {
    let mut parts = Vec::new();
    for parameter in named_children(parameters) {
        match parameter.kind() {
            "formal_parameter" => {
                if let Some(name) = parameter.child_by_field_name("name") {
                    parts.push((name, parameter.child_by_field_name("type"), parameter));
                }
            }
            "spread_parameter" => {
                let type_node = named_children(parameter).find(|child| {
                    !matches!(
                        child.kind(),
                        "modifiers" | "variable_declarator" | "annotation" | "marker_annotation"
                    )
                });
                let name = named_children(parameter)
                    .find(|child| child.kind() == "variable_declarator")
                    .and_then(|declarator| declarator.child_by_field_name("name"));
                if let Some(name) = name {
                    parts.push((name, type_node, parameter));
                }
            }
            _ => {}
        }
    }
    parts
}

fn parameters_of(
    parameters: Node<'_>,
    source: &str,
    annotations_of: &HashMap<usize, Vec<Annotation>>,
) -> Vec<Field> {
    parameter_parts(parameters)
        .into_iter()
        .map(|(name, type_node, declaration)| {
            let mut type_name = type_node.map(|t| type_name(t, source)).unwrap_or_default();
            if declaration.kind() == "spread_parameter" {
                type_name.push_str("...");
            }
            Field {
                name: text(name, source).to_string(),
                type_name,
                annotations: annotations_of
                    .get(&declaration.id())
                    .cloned()
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The declared type of a local, or for `var` the type it is obviously given
/// (`new Foo()`, `(Foo) x`, or a call `m(..)` / `this.m(..)` of a method of the same
/// class whose overloads all return one type); `None` when unknown.
fn local_type(
    local: &Declared<'_>,
    source: &str,
    own_method_types: Option<&HashMap<&str, Option<String>>>,
) -> Option<String> {
    let declared = local.type_node?;
    if text(declared, source) != "var" {
        return Some(type_name(declared, source));
    }
    let value = local.value?;
    match value.kind() {
        "object_creation_expression" | "cast_expression" => value
            .child_by_field_name("type")
            .map(|t| type_name(t, source)),
        "method_invocation" => {
            let on_self = value
                .child_by_field_name("object")
                .is_none_or(|object| object.kind() == "this");
            let name = text(value.child_by_field_name("name")?, source);
            on_self
                .then(|| own_method_types?.get(name).cloned().flatten())
                .flatten()
        }
        _ => None,
    }
}

fn build_call<'t>(
    call: &CallSite<'t>,
    resolver: &Resolver<'_, 't>,
    function: Node<'t>,
    found: &Matches<'t>,
) -> Call {
    let source = resolver.source;
    let mut args = Vec::new();
    let mut arg_texts = Vec::new();
    let mut arg_alternatives = Vec::new();
    if let Some(arguments) = call.arguments {
        for (index, argument) in named_children(arguments).enumerate() {
            let pattern = resolver.fresh().pattern(argument, 0);
            if pattern.is_none()
                && argument.kind() == "identifier"
                && let Some(LocalValue::Alternatives(all)) =
                    resolver.fresh().local_value(argument, 0)
            {
                arg_alternatives.push((index, all));
            }
            args.push(pattern);
            arg_texts.push(truncate(text(argument, source), MAX_ARG_TEXT));
        }
    }
    Call {
        callee: text(call.name, source).to_string(),
        receiver: call
            .receiver
            .map(|receiver| truncate(&one_line(text(receiver, source)), MAX_ARG_TEXT)),
        args,
        arg_texts,
        arg_alternatives,
        arg_tuples: Vec::new(),
        position: position(call.name),
        in_loop: within(call.node, function, &found.loop_bodies, &found.loop_index),
        in_handler: within(call.node, function, &found.try_bodies, &found.try_index),
        assigned_to: None,
        in_closure: None,
    }
}

/// Whether a node lies inside one of `ranges` that starts inside `function` (a loop
/// around a local class does not make its methods' calls repeat). The innermost range
/// containing the node starts last, so it is the one to check.
fn within(
    node: Node<'_>,
    function: Node<'_>,
    ranges: &[std::ops::Range<usize>],
    index: &Nested,
) -> bool {
    index
        .innermost(node.start_byte(), node.end_byte())
        .is_some_and(|i| function.start_byte() <= ranges[i].start)
}

/// Whether `node` lies in a catch clause of `function`.
fn inside_catch(node: Node<'_>, function: Node<'_>, found: &Matches<'_>) -> bool {
    found
        .catch_index
        .innermost(node.start_byte(), node.end_byte())
        .is_some_and(|i| function.start_byte() <= found.catches[i].0.start_byte())
}

/// What a catch block does (see the module documentation).
fn catch_actions(body: Node<'_>, source: &str) -> Vec<ErrorAction> {
    let mut actions = BTreeSet::new();
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind() {
            "throw_statement" => {
                actions.insert(ErrorAction::Rethrow);
            }
            "return_statement" if named_children(node).next().is_some() => {
                actions.insert(ErrorAction::ReturnError);
            }
            "method_invocation" => {
                let name = node
                    .child_by_field_name("name")
                    .map_or("", |name| text(name, source));
                let receiver = node
                    .child_by_field_name("object")
                    .map_or("", |object| text(object, source));
                let logs_error = ERROR_LOG_METHODS.contains(&name)
                    && receiver.to_ascii_lowercase().contains("log");
                // java.util.logging: `logger.log(Level.SEVERE, ...)`.
                let logs_level = name == "log"
                    && node
                        .child_by_field_name("arguments")
                        .and_then(|arguments| named_children(arguments).next())
                        .is_some_and(|level| {
                            let level = text(level, source);
                            ["SEVERE", "WARNING", "ERROR", "WARN"]
                                .iter()
                                .any(|word| level.ends_with(word))
                        });
                if logs_error || logs_level || name == "printStackTrace" || receiver == "System.err"
                {
                    actions.insert(ErrorAction::Log);
                }
                if receiver == "System" && name == "exit" {
                    actions.insert(ErrorAction::Panic);
                }
            }
            _ => {}
        }
        stack.extend(named_children(node));
    }
    if actions.is_empty() {
        actions.insert(ErrorAction::Swallow);
    }
    actions.into_iter().collect()
}

/// Whether a returned expression is an error response (see the module documentation).
fn is_error_response(value: Node<'_>, source: &str) -> bool {
    match value.kind() {
        "object_creation_expression" => {
            let Some(arguments) = value.child_by_field_name("arguments") else {
                return false;
            };
            let mut arguments = named_children(arguments);
            let first_is_error_code = arguments.next().is_some_and(|first| {
                let code = text(first, source).replace(' ', "");
                code.starts_with('-')
                    || code
                        .parse::<i64>()
                        .is_ok_and(|code| code == 0 || (400..=599).contains(&code))
                    || is_error_status(&code)
            });
            first_is_error_code || arguments.any(|argument| is_error_status(text(argument, source)))
        }
        "method_invocation" => {
            // Walk down the builder chain: ResponseEntity.status(500).body(x).
            let mut current = Some(value);
            let mut error_builder = false;
            let mut base_is_response_entity = false;
            while let Some(call) = current.filter(|node| node.kind() == "method_invocation") {
                let name = call
                    .child_by_field_name("name")
                    .map_or("", |name| text(name, source));
                if ERROR_RESPONSE_BUILDERS.contains(&name) {
                    error_builder = true;
                }
                if name == "status"
                    && let Some(arguments) = call.child_by_field_name("arguments")
                    && named_children(arguments).next().is_some_and(|first| {
                        let status = text(first, source);
                        status
                            .parse::<i64>()
                            .is_ok_and(|code| (400..=599).contains(&code))
                            || is_error_status(status)
                    })
                {
                    error_builder = true;
                }
                current = call.child_by_field_name("object");
                if let Some(object) = current
                    && object.kind() != "method_invocation"
                {
                    base_is_response_entity = text(object, source).ends_with("ResponseEntity");
                }
            }
            error_builder && base_is_response_entity
        }
        _ => false,
    }
}

/// Whether text names an error `HttpStatus` constant.
fn is_error_status(text: &str) -> bool {
    const ERROR_STATUS_WORDS: &[&str] = &[
        "BAD_",
        "NOT_FOUND",
        "INTERNAL",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "CONFLICT",
        "UNAVAILABLE",
        "ERROR",
        "TIMEOUT",
        "UNPROCESSABLE",
        "NOT_ACCEPTABLE",
        "TOO_MANY",
    ];
    text.rsplit_once("HttpStatus.")
        .is_some_and(|(_, status)| ERROR_STATUS_WORDS.iter().any(|word| status.contains(word)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(source: &str) -> FileFacts {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&(SPEC.grammar)())
            .expect("grammar loads");
        let tree = parser.parse(source, None).expect("parser returns a tree");
        (SPEC.extract)("Test.java", source, &tree)
    }

    fn function<'f>(facts: &'f FileFacts, name: &str) -> &'f Function {
        facts
            .functions
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("function {name} in {:#?}", facts.functions))
    }

    #[test]
    fn every_query_compiles_and_has_every_capture() {
        for (file, source) in SPEC.queries {
            let query = Query::new(&(SPEC.grammar)(), source)
                .unwrap_or_else(|error| panic!("{file}: {error}"));
            for name in CAPTURE_NAMES {
                assert!(
                    query.capture_index_for_name(name).is_some(),
                    "{file} lacks @{name}"
                );
            }
        }
        let facts = facts("class A { void f() { g(); } }");
        assert_eq!(facts.functions.len(), 1);
        assert_eq!(facts.functions[0].calls[0].callee, "g");
    }

    #[test]
    fn package_imports_and_types() {
        let facts = facts(
            "package com.shop.order;\n\
             import java.util.List;\n\
             import org.springframework.web.bind.annotation.*;\n\
             import static java.util.Objects.requireNonNull;\n\
             @RestController\n\
             @RequestMapping(value = \"/api/v1/x\", method = RequestMethod.POST)\n\
             public class Outer extends Base<String> implements Runnable, Comparable<Outer> {\n\
               @Autowired private OrderRepository orderRepository;\n\
               private final List<Order> cache, other;\n\
               static class Inner { }\n\
               interface Repo extends MongoRepository<Order, String> { }\n\
               enum Kind { A, B }\n\
               record Line(@NotNull String sku, int quantity) { }\n\
             }\n",
        );
        assert_eq!(facts.package, "com.shop.order");
        let imports: Vec<_> = facts
            .imports
            .iter()
            .map(|i| (i.path.as_str(), i.alias.as_deref()))
            .collect();
        assert_eq!(
            imports,
            [
                ("java.util.List", Some("List")),
                ("org.springframework.web.bind.annotation.*", None),
                ("java.util.Objects.requireNonNull", Some("requireNonNull")),
            ]
        );
        let qualified: Vec<_> = facts.types.iter().map(|t| t.qualified.as_str()).collect();
        assert_eq!(
            qualified,
            [
                "com.shop.order.Outer",
                "com.shop.order.Outer.Inner",
                "com.shop.order.Outer.Repo",
                "com.shop.order.Outer.Kind",
                "com.shop.order.Outer.Line"
            ]
        );
        let outer = &facts.types[0];
        assert_eq!(outer.supertypes, ["Base", "Runnable", "Comparable"]);
        assert_eq!(
            outer.supertype_args,
            [
                ("Base".to_string(), vec!["String".to_string()]),
                ("Comparable".to_string(), vec!["Outer".to_string()])
            ]
        );
        assert_eq!(outer.annotations[0].name, "RestController");
        assert_eq!(
            outer.annotations[1].args,
            [
                (Some("value".to_string()), "/api/v1/x".to_string()),
                (Some("method".to_string()), "RequestMethod.POST".to_string())
            ]
        );
        let fields: Vec<_> = outer
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.type_name.as_str(), f.annotations.len()))
            .collect();
        assert_eq!(
            fields,
            [
                ("orderRepository", "OrderRepository", 1),
                ("cache", "List", 0),
                ("other", "List", 0)
            ]
        );
        assert_eq!(facts.types[2].kind, TypeKind::Interface);
        assert_eq!(facts.types[2].supertypes, ["MongoRepository"]);
        assert_eq!(facts.types[3].kind, TypeKind::Enum);
        let record: Vec<_> = facts.types[4]
            .fields
            .iter()
            .map(|f| (f.name.as_str(), f.type_name.as_str(), f.annotations.len()))
            .collect();
        assert_eq!(record, [("sku", "String", 1), ("quantity", "int", 0)]);
        assert_eq!(facts.syntax_errors, 0);
    }

    #[test]
    fn annotation_arrays_and_constants() {
        let facts = facts(
            "class C {\n\
               static final String BASE = \"/api/v1\";\n\
               static final String ORDERS = BASE + \"/orders\";\n\
               @GetMapping(path = {\"/a\", ORDERS})\n\
               void f(@PathVariable(\"id\") String id, int... rest) { }\n\
             }",
        );
        let constants: Vec<_> = facts
            .string_constants
            .iter()
            .map(|c| (c.name.as_str(), c.owner.as_deref(), c.value.as_str()))
            .collect();
        assert_eq!(
            constants,
            [
                ("BASE", Some("C"), "/api/v1"),
                ("ORDERS", Some("C"), "/api/v1/orders")
            ]
        );
        let f = function(&facts, "f");
        assert_eq!(
            f.annotations[0].args,
            [
                (Some("path".to_string()), "/a".to_string()),
                (Some("path".to_string()), "/api/v1/orders".to_string())
            ]
        );
        assert_eq!(f.params[0].name, "id");
        assert_eq!(f.params[0].annotations[0].args, [(None, "id".to_string())]);
        assert_eq!(f.params[1].type_name, "int...");
        assert_eq!(f.qualified, "C.f");
    }

    #[test]
    fn url_patterns_from_literals_constants_locals_and_format() {
        let facts = facts(
            r#"class S {
                 private static final String PAY = "http://pay:8080/api/v1/payments";
                 void f(String id, boolean admin) {
                   restTemplate.exchange("http://order:1/api/v1/orders/" + id + "/items", HttpMethod.GET, null, String.class);
                   restTemplate.getForObject(PAY + "/" + id, String.class);
                   restTemplate.postForObject(S.PAY, body, String.class);
                   String url = "http://train:14567/api/v1/trains/" + id;
                   restTemplate.exchange(url, HttpMethod.DELETE, null, Void.class);
                   String branch;
                   if (admin) { branch = "http://a/x"; } else { branch = "http://b/x"; }
                   client.get(branch);
                   client.get(String.format("/x/%s/y/%05d%%", id, 3));
                   client.get(Other.CONST + "/z");
                   client.get(id);
                   ids.forEach(PAY -> client.get(PAY));
                   a.b().c(1 + 2);
                   client.get(String.format("%s/%s/refund", PAY, id));
                 }
               }"#,
        );
        let calls = &function(&facts, "f").calls;
        let args = |i: usize| calls[i].args.clone();
        assert_eq!(
            args(0)[0].as_deref(),
            Some("http://order:1/api/v1/orders/{}/items")
        );
        assert_eq!(calls[0].arg_texts[1], "HttpMethod.GET");
        assert_eq!(calls[0].receiver.as_deref(), Some("restTemplate"));
        assert_eq!(
            args(1)[0].as_deref(),
            Some("http://pay:8080/api/v1/payments/{}")
        );
        assert_eq!(
            args(2)[0].as_deref(),
            Some("http://pay:8080/api/v1/payments")
        );
        assert_eq!(
            args(3)[0].as_deref(),
            Some("http://train:14567/api/v1/trains/{}")
        );
        assert_eq!(args(4)[0], None);
        assert_eq!(
            calls[4].arg_alternatives,
            [(0, vec!["http://a/x".to_string(), "http://b/x".to_string()])]
        );
        assert_eq!(args(5)[0].as_deref(), Some("/x/{}/y/{}%"));
        assert_eq!(
            calls[13].args[0].as_deref(),
            Some("http://pay:8080/api/v1/payments/{}/refund")
        );
        assert_eq!(calls[6].callee, "format");
        assert_eq!(args(7)[0].as_deref(), Some("{}/z"));
        assert_eq!(args(8)[0], None);
        assert_eq!(calls[13].callee, "get");
        let shadowed = calls
            .iter()
            .find(|c| c.arg_texts == ["PAY"])
            .expect("get(PAY)");
        assert_eq!(
            shadowed.args,
            [None],
            "a lambda parameter hides the constant"
        );
        let chained = calls.iter().find(|c| c.callee == "c").expect("c()");
        assert_eq!(chained.receiver.as_deref(), Some("a.b()"));
        assert_eq!(chained.args, [None]);
    }

    #[test]
    fn locals_loops_and_try_blocks() {
        let facts = facts(
            r#"class S {
                 Order load(String id) { return null; }
                 void f(List<String> ids) {
                   var order = new Order();
                   var loaded = this.load("1");
                   var unknown = other.load("1");
                   Order typed = repo.findById("1");
                   for (String id : repo.findAll()) { repo.deleteById(id); }
                   ids.forEach(id -> repo.save(id));
                   ids.stream().map(this::load).count();
                   while (more()) { }
                   try { remote.call(); } catch (IOException | RuntimeException e) { log.info("x"); } finally { after(); }
                 }
               }"#,
        );
        let f = function(&facts, "f");
        let locals: Vec<_> = f
            .locals
            .iter()
            .map(|l| (l.name.as_str(), l.type_name.as_str()))
            .collect();
        assert_eq!(
            locals,
            [
                ("order", "Order"),
                ("loaded", "Order"),
                ("typed", "Order"),
                ("id", "String")
            ]
        );
        let context: Vec<_> = f
            .calls
            .iter()
            .map(|c| (c.callee.as_str(), c.in_loop, c.in_handler))
            .collect();
        assert_eq!(
            context,
            [
                ("load", false, false),
                ("load", false, false),
                ("findById", false, false),
                ("findAll", false, false),
                ("deleteById", true, false),
                ("forEach", false, false),
                ("save", true, false),
                ("stream", false, false),
                ("map", false, false),
                ("load", true, false),
                ("count", false, false),
                ("more", true, false),
                ("call", false, true),
                ("info", false, false),
                ("after", false, false),
            ]
        );
        let handler = &f.error_handlers[0];
        assert_eq!(handler.caught, ["IOException", "RuntimeException"]);
        assert_eq!(handler.actions, [ErrorAction::Swallow]);
    }

    #[test]
    fn catch_actions_and_error_exits() {
        let facts = facts(
            r#"class S {
                 Response f() {
                   try { a(); } catch (Exception e) { LOGGER.error("x", e); throw new IllegalStateException(e); }
                   try { b(); } catch (Exception e) { e.printStackTrace(); return null; }
                   try { d(); } catch (Exception e) { logger.log(Level.WARNING, "d failed"); }
                   try { c(); } catch (Exception e) { }
                   if (bad) { throw new IllegalArgumentException("bad"); }
                   if (none) { return new Response<>(0, "not found", null); }
                   if (worse) { return ResponseEntity.status(HttpStatus.INTERNAL_SERVER_ERROR).build(); }
                   return new Response<>(1, "ok", null);
                 }
               }"#,
        );
        let f = function(&facts, "f");
        let actions: Vec<_> = f.error_handlers.iter().map(|h| h.actions.clone()).collect();
        assert_eq!(
            actions,
            [
                vec![ErrorAction::Log, ErrorAction::Rethrow],
                vec![ErrorAction::Log, ErrorAction::ReturnError],
                vec![ErrorAction::Log],
                vec![ErrorAction::Swallow],
            ]
        );
        let exits: Vec<_> = f
            .error_exits
            .iter()
            .map(|e| (e.kind.as_str(), e.position.line))
            .collect();
        assert_eq!(
            exits,
            [("throw", 7), ("return-error", 8), ("return-error", 9)]
        );
    }

    #[test]
    fn manual_spans() {
        let facts = facts(
            r#"class S {
                 static final String NAME = "checkout";
                 void f() { Span s = tracer.spanBuilder(NAME).startSpan(); tracer.buildSpan("legacy").start(); }
                 @WithSpan void g() { }
                 @WithSpan("named") void h() { }
               }"#,
        );
        let spans = |name: &str| {
            function(&facts, name)
                .manual_spans
                .iter()
                .map(|s| (s.name.clone(), s.api.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            spans("f"),
            [
                ("checkout".to_string(), "opentelemetry".to_string()),
                ("legacy".to_string(), "opentracing".to_string())
            ]
        );
        assert_eq!(spans("g"), [(String::new(), "opentelemetry".to_string())]);
        assert_eq!(
            spans("h"),
            [("named".to_string(), "opentelemetry".to_string())]
        );
    }

    #[test]
    fn anonymous_classes_and_constructors() {
        let facts = facts(
            r#"package p;
               class S {
                 private final Repo repo;
                 S(Repo repo) { this.repo = repo; }
                 void f() { run(new Runnable() { public void run() { repo.save(1); } }); }
               }"#,
        );
        let names: Vec<_> = facts
            .functions
            .iter()
            .map(|f| f.qualified.as_str())
            .collect();
        assert_eq!(names, ["p.S.S", "p.S.f"]);
        assert_eq!(facts.functions[0].params[0].type_name, "Repo");
        let callees: Vec<_> = facts.functions[1]
            .calls
            .iter()
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(callees, ["run", "save"]);
    }

    #[test]
    fn syntax_errors_still_give_facts() {
        let facts = facts(
            "class S {\n void ok() { repo.save(1); }\n void broken( { x = ; }\n void after() { repo.find(); }\n}\n",
        );
        assert!(facts.syntax_errors > 0);
        assert!(facts.functions.iter().any(|f| f.name == "ok"));
        assert_eq!(facts.lines, 5);
    }

    #[test]
    fn long_concatenations_and_self_references_stay_bounded() {
        let pieces: Vec<String> = (0..60).map(|i| format!("\"/p{i}\" + id")).collect();
        let source = format!(
            "class S {{ void f(String id) {{ String u = \"a\"; u = u + u; u = u + u; c.get({}); c.get(u); }} }}",
            pieces.join(" + ")
        );
        let facts = facts(&source);
        let calls = &facts.functions[0].calls;
        let long = calls[0].args[0].as_deref().expect("pattern");
        assert!(long.starts_with("/p0{}/p1{}"), "{long}");
        assert!(long.ends_with("/p59{}"), "{long}");
        assert_eq!(calls[1].args[0], None);
    }

    #[test]
    fn deep_nesting_stays_within_the_stack() {
        let depth = 3000;
        let parens = format!("{}\"x\"{}", "(".repeat(depth), ")".repeat(depth));
        let concat = vec!["\"a\" + b"; depth].join(" + ");
        let scoped = vec!["p"; depth].join(".");
        let arrays = format!("{}\"/x\"{}", "{".repeat(depth), "}".repeat(depth));
        let source = format!(
            "@M(path = {arrays}) class S extends {scoped}<T> {{ {scoped}<T> f; \
             void g() {{ c.get({parens}); c.get({concat}); }} }}"
        );
        let facts = facts(&source);
        assert_eq!(facts.types.len(), 1);
    }

    const VALID: &str = r#"package a.b;
import java.util.List;
@Service
public class X extends Y<Z> implements W {
  private static final String U = "http://s:1/api/" + "v1";
  @Autowired private Repo repo;
  @GetMapping(path = {"/a", "/b"})
  public R f(@PathVariable String id) {
    String url = U + "/x/" + id;
    for (int i = 0; i < 3; i++) { repo.save(i); }
    try { return rest.exchange(url, HttpMethod.GET, null, R.class); }
    catch (Exception e) { LOGGER.error("x"); throw e; }
  }
}
"#;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn never_panics_on_random_text(source in "\\PC{0,400}") {
            let _ = facts(&source);
        }

        #[test]
        fn never_panics_on_mutated_java(
            cut in 0..VALID.len(),
            length in 0usize..40,
            insert in "[{}()\\[\\];.,=+\"'@<>a-z \n]{0,12}",
        ) {
            let mut source = VALID.to_string();
            let start = (0..=cut).rev().find(|&i| source.is_char_boundary(i)).unwrap_or(0);
            let mut end = (start + length).min(source.len());
            while !source.is_char_boundary(end) {
                end -= 1;
            }
            source.replace_range(start..end, &insert);
            let facts = facts(&source);
            for function in &facts.functions {
                prop_assert!(function.position.line <= function.end_line);
                prop_assert!(function.end_line <= facts.lines.max(1));
                for call in &function.calls {
                    prop_assert!(function.position.line <= call.position.line);
                    prop_assert!(call.position.line <= function.end_line);
                    prop_assert_eq!(call.args.len(), call.arg_texts.len());
                    prop_assert!(call.arg_texts.iter().all(|t| t.len() <= MAX_ARG_TEXT));
                }
            }
        }
    }
}
