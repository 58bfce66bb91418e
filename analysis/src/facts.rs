//! Facts extracted from one source file: plain data, produced by a language module
//! (`lang::*`) from a tree-sitter tree and consumed by the later stages (resolution,
//! call graph, span naming, scoring). Nothing here knows about tree-sitter.
//!
//! Every list is in source order, so two runs over the same input give equal facts.

use serde::{Deserialize, Serialize};

/// A source language Autoscope understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Java.
    Java,
    /// Python.
    Python,
    /// Go.
    Go,
}

/// 1-based line and column of a place in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (bytes).
    pub column: u32,
}

/// Everything learned from one file.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct FileFacts {
    /// Path relative to the source root, with `/` separators.
    pub path: String,
    /// Language, by extension.
    pub language: Option<Language>,
    /// Java package, Go package name, or Python dotted module path (from the file path).
    pub package: String,
    /// Go: the import path of the file's directory when a go.mod is known (filled by
    /// resolution, not by the language module).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub module_path: String,
    /// Imports, in order.
    pub imports: Vec<Import>,
    /// Classes, interfaces, structs, in order.
    pub types: Vec<TypeDecl>,
    /// Functions and methods, in order.
    pub functions: Vec<Function>,
    /// Constants with a string literal value (`static final String X = "..."`,
    /// module-level `X = "..."`, Go `const X = "..."`), for resolving URLs and names.
    pub string_constants: Vec<StringConstant>,
    /// Number of ERROR / MISSING nodes in the tree (syntax errors tolerated).
    pub syntax_errors: u32,
    /// Where the first syntax error starts, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_syntax_error: Option<Position>,
    /// Lines of source.
    pub lines: u32,
    /// Module- / package-level variables with a declared or obvious type (Python
    /// `db = SQLAlchemy()`, `app = Flask(__name__)`; Go `var client = &http.Client{}`),
    /// so receivers like `db.session` can be resolved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub globals: Vec<Field>,
    /// Calls made outside any function: Python module and class bodies
    /// (`app.include_router(r, prefix="/api")`, `Blueprint("x", __name__, url_prefix=..)`),
    /// Go package-level `var` initializers. In source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top_level_calls: Vec<Call>,
}

/// An import.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Import {
    /// What is imported: `com.x.Foo`, `com.x.*`, `pkg.mod`, `github.com/a/b`.
    pub path: String,
    /// The local name it is bound to (`as` alias, Go alias, last component otherwise).
    pub alias: Option<String>,
    /// Python `from X import a`: the names imported.
    pub names: Vec<String>,
    /// Where.
    pub position: Position,
}

/// A named string constant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StringConstant {
    /// Name (Java: field name; owner class is in `owner`).
    pub name: String,
    /// Owning class, if any.
    pub owner: Option<String>,
    /// The literal value.
    pub value: String,
}

/// An annotation (Java) or decorator (Python), with its literal arguments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Annotation {
    /// Name as written, without `@`: `GetMapping`, `app.route`, `router.get`.
    pub name: String,
    /// Arguments: `(None, "/x")` for positional, `(Some("value"), "/x")` for named.
    /// Array arguments give one entry per element; non-literal values are kept as
    /// their source text (e.g. `RequestMethod.GET`).
    pub args: Vec<(Option<String>, String)>,
    /// Where.
    pub position: Position,
}

/// What kind of type declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    /// Class.
    #[default]
    Class,
    /// Interface.
    Interface,
    /// Struct (Go).
    Struct,
    /// Enum.
    Enum,
}

/// A class, interface or struct.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TypeDecl {
    /// Simple name.
    pub name: String,
    /// Qualified name: `pkg.Class`, `module.Class`, `pkg.Type`.
    pub qualified: String,
    /// Kind.
    pub kind: TypeKind,
    /// Annotations / decorators.
    pub annotations: Vec<Annotation>,
    /// Superclass and implemented/extended interfaces, as written (generic arguments
    /// kept in `type_args` of the field form: `MongoRepository<Order, String>`).
    pub supertypes: Vec<String>,
    /// Generic arguments of supertypes that have them, as written without their own
    /// generic arguments: `MongoRepository<Order, String>` gives
    /// `("MongoRepository", ["Order", "String"])`. Supertypes without arguments are absent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub supertype_args: Vec<(String, Vec<String>)>,
    /// Fields (Java fields, Go struct fields, Python class attributes with annotations).
    pub fields: Vec<Field>,
    /// Where.
    pub position: Position,
}

/// A field or parameter with its declared type.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Declared type as written, without generic arguments: `OrderRepository`,
    /// `*mgo.Session`, `pb.GeoClient`.
    pub type_name: String,
    /// Annotations (`Autowired`, ...).
    pub annotations: Vec<Annotation>,
}

/// A function or method.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Function {
    /// Simple name.
    pub name: String,
    /// Qualified name: `pkg.Class.method`, `module.Class.func`, `pkg.(*Recv).Method`,
    /// `pkg.Func`.
    pub qualified: String,
    /// Enclosing class (Java/Python) or receiver type without `*` (Go).
    pub owner: Option<String>,
    /// Parameters.
    pub params: Vec<Field>,
    /// Local variables with a declared or obvious type (`Foo f = new Foo()`,
    /// `x := pb.NewGeoClient(conn)` gives type `pb.GeoClient` where the language module
    /// can tell).
    pub locals: Vec<Field>,
    /// Annotations / decorators.
    pub annotations: Vec<Annotation>,
    /// Start of the declaration.
    pub position: Position,
    /// Last line of the body.
    pub end_line: u32,
    /// Calls made in the body, in source order.
    pub calls: Vec<Call>,
    /// try/catch, except, `if err != nil` blocks in the body.
    pub error_handlers: Vec<ErrorHandler>,
    /// `throw` / `raise` / `panic` / `return ..., err` statements outside handlers.
    pub error_exits: Vec<ErrorExit>,
    /// Manual spans opened in the body.
    pub manual_spans: Vec<ManualSpan>,
}

/// A call site.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Call {
    /// Called method or function name: `exchange`, `findByOrderId`, `Get`.
    pub callee: String,
    /// Receiver text as written: `restTemplate`, `this.orderRepository`, `requests`,
    /// `s.MongoSession`, `pb` (for Go package-qualified calls); `None` for a bare call.
    pub receiver: Option<String>,
    /// Each argument as a pattern: string literals as their text; concatenations
    /// (`"http://x/api/" + id`) and format strings (`f"/a/{id}"`, `fmt.Sprintf`) as
    /// literal pieces joined by `{}` placeholders; other expressions as `None`.
    pub args: Vec<Option<String>>,
    /// Raw source text of each argument (truncated to 200 bytes), for evidence and for
    /// recognizing things like `HttpMethod.POST`.
    pub arg_texts: Vec<String>,
    /// Arguments that are a local variable assigned different patterns on different paths
    /// (`url = "http://a/x"` in one branch, `url = "http://b/x"` in the other): the argument
    /// index and every pattern, in source order. The argument's entry in `args` is `None`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arg_alternatives: Vec<(usize, Vec<String>)>,
    /// Arguments that are a list or tuple literal of tuples (`[(r"/a", A), (r"/b", B)]`):
    /// the argument index and each tuple's elements as (pattern, source text), read like
    /// `args` and `arg_texts`. Other elements of the list are left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arg_tuples: Vec<(usize, Vec<TupleItems>)>,
    /// Where.
    pub position: Position,
    /// Inside a for/while/do/range loop or a comprehension.
    pub in_loop: bool,
    /// Inside a try block / error-handling region (diagnostic only).
    pub in_handler: bool,
    /// The variable the call's result is bound to, when the call is the whole value of
    /// a declaration or assignment (`api := r.Group("/api")` → `api`). Go only so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    /// The innermost call whose function-literal argument this call is written in
    /// (`r.Route("/api", func(r chi.Router) { r.Get(...) })`). Go only so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_closure: Option<Closure>,
}

/// A function literal passed as an argument to a call, as seen from the calls inside it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Closure {
    /// Where the call taking the literal starts (its [`Call::position`]).
    pub call_position: Position,
    /// That call's callee.
    pub callee: String,
    /// The literal's parameter names, in order.
    pub params: Vec<String>,
}

/// The elements of one tuple literal in an argument, each as (pattern, source text).
pub type TupleItems = Vec<(Option<String>, String)>;

/// How an error is handled or raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorAction {
    /// Logs at error/warn level.
    Log,
    /// Rethrows / re-raises.
    Rethrow,
    /// Returns an error value or an error response.
    ReturnError,
    /// Panics / exits.
    Panic,
    /// Swallows it (empty handler or no action).
    Swallow,
}

/// An error-handling block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ErrorHandler {
    /// `catch`, `except`, `if err != nil`.
    pub kind: String,
    /// Caught types as written, when any.
    pub caught: Vec<String>,
    /// What the handler does.
    pub actions: Vec<ErrorAction>,
    /// Where.
    pub position: Position,
}

/// A throw/raise/panic/error return outside a handler.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ErrorExit {
    /// `throw`, `raise`, `panic`, `return-error`.
    pub kind: String,
    /// Where.
    pub position: Position,
}

/// A span opened by hand in code.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ManualSpan {
    /// The span name (pattern with `{}` if not a plain literal).
    pub name: String,
    /// API: `opentelemetry` or `opentracing`.
    pub api: String,
    /// Where.
    pub position: Position,
}
