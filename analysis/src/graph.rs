//! Resolution and the call graph: functions of every file become nodes (in file order,
//! then source order, so the graph is deterministic), and each call is resolved to the
//! functions it may reach: same-class and same-module calls, field, parameter and
//! local types (an injected interface resolves to its implementations), imports,
//! Python modules, Go package-qualified calls and receivers. Calls are also
//! classified by the [`crate::conventions`] module into effects (HTTP, database,
//! messaging, gRPC) and functions into entries (routes, gRPC methods, listeners).
//! Cross-service edges link an HTTP client call to the route it matches in another
//! service, and a gRPC stub call to the server method.

use crate::conventions::{
    self, CallContext, Effect, EffectKind, Entry, EntryKind, base_name, url_host, url_path,
};
use crate::facts::{FileFacts, Function, Language, Position, TypeKind};
use crate::knowledge::pattern::Attrs;
use crate::services::{go_module_path, parent_dir};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A `.proto` file's package and services.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtoFile {
    /// Directory, relative.
    pub dir: String,
    /// `package` statement.
    pub package: String,
    /// Services and their RPC method names.
    pub services: Vec<(String, Vec<String>)>,
}

/// Reads package and services from proto text (line based; enough for names).
pub fn parse_proto(dir: &str, text: &str) -> ProtoFile {
    let mut proto = ProtoFile {
        dir: dir.to_string(),
        ..ProtoFile::default()
    };
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("package ") {
            proto.package = rest.trim_end_matches(';').trim().to_string();
        } else if let Some(rest) = line.strip_prefix("service ") {
            let name = rest
                .split(|c: char| c.is_whitespace() || c == '{')
                .next()
                .unwrap_or("");
            proto.services.push((name.to_string(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix("rpc ") {
            let name = rest
                .split(|c: char| c.is_whitespace() || c == '(')
                .next()
                .unwrap_or("");
            if let Some((_, methods)) = proto.services.last_mut() {
                methods.push(name.to_string());
            }
        }
    }
    proto
}

/// Everything resolution needs: facts (sorted by path) and where they belong.
#[derive(Debug, Clone, Default)]
pub struct Program {
    /// Facts per file, sorted by path.
    pub files: Vec<FileFacts>,
    /// Service of each file (same order).
    pub services: Vec<String>,
    /// Proto files.
    pub protos: Vec<ProtoFile>,
    /// Go modules: (directory of go.mod, module path).
    pub go_modules: Vec<(String, String)>,
    /// Attributes of each service from its configuration and build dependencies
    /// (`store`, `db_name`, `context_path`, `db_vendor`, ...), by language.
    pub service_attrs: BTreeMap<(String, Language), Attrs>,
    /// Build dependencies of each service, lower case, when it has build files.
    pub service_dependencies: BTreeMap<String, Vec<String>>,
    /// The instrumentation profiles (ids) naming each service's spans, by language;
    /// absent: every profile of the language.
    pub profiles: BTreeMap<(String, Language), Vec<String>>,
    /// SQL scripts of each service: (path relative to the source root, text), by path.
    pub service_scripts: BTreeMap<String, Vec<(String, String)>>,
}

impl Program {
    /// Builds a program; reads go.mod and .proto files among the configs.
    pub fn new(
        files: Vec<FileFacts>,
        services: Vec<String>,
        configs: &[crate::discover::ConfigFile],
    ) -> Self {
        use crate::discover::ConfigKind;
        let mut program = Self {
            files,
            services,
            ..Self::default()
        };
        for config in configs {
            let dir = parent_dir(&config.rel_path).to_string();
            match config.kind {
                ConfigKind::Proto => program.protos.push(parse_proto(&dir, &config.text)),
                ConfigKind::GoMod => {
                    if let Some(module) = go_module_path(&config.text) {
                        program.go_modules.push((dir, module));
                    }
                }
                _ => {}
            }
        }
        for file in &mut program.files {
            if let Some(body) = module_body(file) {
                file.functions.push(body);
            }
        }
        // Deepest go.mod first, so nested modules win.
        program
            .go_modules
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.cmp(b)));
        for file in &mut program.files {
            if file.language == Some(Language::Go) && file.module_path.is_empty() {
                let dir = parent_dir(&file.path);
                if let Some(path) = go_import_path(&program.go_modules, dir) {
                    file.module_path = path;
                }
            }
        }
        program
    }
}

/// A Python module's top-level code as a function named `<module>` (as tracebacks name
/// it): it runs when the service imports the module, so its calls (an engine created,
/// tables created at import) are effects like any other. Route registrations and
/// router mounts stay top-level calls only, read once as such.
fn module_body(file: &FileFacts) -> Option<Function> {
    if file.language != Some(Language::Python) {
        return None;
    }
    let calls: Vec<crate::facts::Call> = file
        .top_level_calls
        .iter()
        .filter(|call| {
            !conventions::is_registration(Language::Python, file, call, true)
                && conventions::mount_prefix(Language::Python, call).is_none()
        })
        .cloned()
        .collect();
    let first = calls.first()?;
    Some(Function {
        name: MODULE_BODY.to_string(),
        qualified: if file.package.is_empty() {
            MODULE_BODY.to_string()
        } else {
            format!("{}.{MODULE_BODY}", file.package)
        },
        owner: None,
        params: Vec::new(),
        locals: Vec::new(),
        annotations: Vec::new(),
        position: first.position,
        end_line: file.lines,
        calls,
        error_handlers: Vec::new(),
        error_exits: Vec::new(),
        manual_spans: Vec::new(),
    })
}

/// The name of a Python module's top-level code as a function.
pub const MODULE_BODY: &str = "<module>";

fn go_import_path(modules: &[(String, String)], dir: &str) -> Option<String> {
    modules.iter().find_map(|(root, module)| {
        if root.is_empty() {
            Some(if dir.is_empty() {
                module.clone()
            } else {
                format!("{module}/{dir}")
            })
        } else if dir == root {
            Some(module.clone())
        } else {
            dir.strip_prefix(&format!("{root}/"))
                .map(|rest| format!("{module}/{rest}"))
        }
    })
}

/// A function node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionNode {
    /// Index of the file in [`Program::files`].
    pub file: usize,
    /// Index of the function in its file.
    pub function: usize,
    /// Qualified name.
    pub qualified: String,
    /// Service.
    pub service: String,
}

/// How an edge was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EdgeKind {
    /// A call within a service.
    Call,
    /// An HTTP client call matched to a route of another service.
    Http,
    /// An RPC stub call matched to the server method.
    Rpc,
}

/// A call edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEdge {
    /// Kind.
    pub kind: EdgeKind,
    /// Index of the call in the caller's `calls`.
    pub call: usize,
    /// The call is inside a loop.
    pub in_loop: bool,
}

/// A classified call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectSite {
    /// Calling function.
    pub node: NodeIndex,
    /// Index of the call in the function's `calls`.
    pub call: usize,
    /// What it does.
    pub effect: Effect,
}

/// A function that serves requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySite {
    /// The handler.
    pub node: NodeIndex,
    /// What it serves.
    pub entry: Entry,
    /// Where it is declared (annotation, decorator or registration).
    pub position: Position,
}

/// The resolved program.
#[derive(Debug, Clone, Default)]
pub struct CallGraph {
    /// Functions and calls.
    pub graph: DiGraph<FunctionNode, CallEdge>,
    /// Classified calls, in node then call order.
    pub effects: Vec<EffectSite>,
    /// Entries, in node order.
    pub entries: Vec<EntrySite>,
    /// What resolution could not do (e.g. a gRPC service without its .proto).
    pub diagnostics: Vec<crate::diagnostics::Diagnostic>,
}

impl CallGraph {
    /// Number of cross-service edges.
    pub fn cross_service_edges(&self) -> usize {
        self.graph
            .edge_weights()
            .filter(|e| e.kind != EdgeKind::Call)
            .count()
    }
}

type TypeRef = (usize, usize);

struct Index<'a> {
    program: &'a Program,
    types_by_name: HashMap<&'a str, Vec<TypeRef>>,
    types_by_qualified: HashMap<&'a str, Vec<TypeRef>>,
    methods: HashMap<(String, &'a str), Vec<NodeIndex>>,
    free_functions: HashMap<(String, &'a str), Vec<NodeIndex>>,
    implementors: HashMap<&'a str, Vec<TypeRef>>,
    go_dirs: HashMap<&'a str, &'a str>,
    python_modules: HashMap<&'a str, usize>,
    constants: HashMap<(&'a str, &'a str), &'a str>,
    /// (file, function) of each graph node, by node index.
    graph_nodes: Vec<(usize, usize)>,
}

/// What a receiver is.
#[derive(Debug, Default)]
struct Receiver {
    is_self: bool,
    written_type: Option<String>,
    types: Vec<TypeRef>,
    import: Option<String>,
}

fn language_of(file: &FileFacts) -> Language {
    file.language.unwrap_or(Language::Java)
}

/// Module key of a file: Java and Python package, Go directory.
fn module_key(file: &FileFacts) -> String {
    match language_of(file) {
        Language::Go => parent_dir(&file.path).to_string(),
        _ => file.package.clone(),
    }
}

fn type_key(file: &FileFacts, ty: usize) -> String {
    let decl = &file.types[ty];
    match language_of(file) {
        Language::Go => format!("{}.{}", parent_dir(&file.path), decl.name),
        _ => decl.qualified.clone(),
    }
}

fn owner_key(file: &FileFacts, function: &Function) -> Option<String> {
    let owner = function.owner.as_deref()?;
    Some(match language_of(file) {
        Language::Go => format!("{}.{}", parent_dir(&file.path), base_name(owner)),
        _ => match function.qualified.rsplit_once('.') {
            Some((prefix, _)) if !prefix.is_empty() => prefix.to_string(),
            _ => format!("{}.{owner}", file.package),
        },
    })
}

impl<'a> Index<'a> {
    fn build(program: &'a Program, graph: &DiGraph<FunctionNode, CallEdge>) -> Self {
        let mut index = Index {
            program,
            types_by_name: HashMap::new(),
            types_by_qualified: HashMap::new(),
            methods: HashMap::new(),
            free_functions: HashMap::new(),
            implementors: HashMap::new(),
            go_dirs: HashMap::new(),
            python_modules: HashMap::new(),
            constants: HashMap::new(),
            graph_nodes: graph.node_weights().map(|n| (n.file, n.function)).collect(),
        };
        for (fi, file) in program.files.iter().enumerate() {
            for (ti, ty) in file.types.iter().enumerate() {
                index
                    .types_by_name
                    .entry(ty.name.as_str())
                    .or_default()
                    .push((fi, ti));
                index
                    .types_by_qualified
                    .entry(ty.qualified.as_str())
                    .or_default()
                    .push((fi, ti));
                for sup in &ty.supertypes {
                    index
                        .implementors
                        .entry(base_name(sup))
                        .or_default()
                        .push((fi, ti));
                }
            }
            if !file.module_path.is_empty() {
                index
                    .go_dirs
                    .entry(file.module_path.as_str())
                    .or_insert(parent_dir(&file.path));
            }
            if language_of(file) == Language::Python && !file.package.is_empty() {
                index
                    .python_modules
                    .entry(file.package.as_str())
                    .or_insert(fi);
            }
            for constant in &file.string_constants {
                index
                    .constants
                    .entry((program.services[fi].as_str(), constant.name.as_str()))
                    .or_insert(constant.value.as_str());
            }
        }
        for node in graph.node_indices() {
            let n = &graph[node];
            let file = &program.files[n.file];
            let function = &file.functions[n.function];
            match owner_key(file, function) {
                Some(key) => index
                    .methods
                    .entry((key, function.name.as_str()))
                    .or_default()
                    .push(node),
                None => index
                    .free_functions
                    .entry((module_key(file), function.name.as_str()))
                    .or_default()
                    .push(node),
            }
        }
        index
    }

    fn decl(&self, (fi, ti): TypeRef) -> &'a crate::facts::TypeDecl {
        &self.program.files[fi].types[ti]
    }

    /// Resolves a type as written in file `fi` to declarations.
    fn resolve_type(&self, fi: usize, written: &str) -> Vec<TypeRef> {
        let file = &self.program.files[fi];
        let service = &self.program.services[fi];
        let cleaned = written
            .split('<')
            .next()
            .unwrap_or(written)
            .trim()
            .trim_start_matches(['*', '&'])
            .trim_end_matches("[]");
        let name = base_name(cleaned);
        if name.is_empty() {
            return Vec::new();
        }
        let in_dir = |dir: &str| -> Vec<TypeRef> {
            self.types_by_name
                .get(name)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&(f, _)| parent_dir(&self.program.files[f].path) == dir)
                .collect()
        };
        match language_of(file) {
            Language::Go => {
                if let Some((alias, _)) = cleaned.split_once('.') {
                    self.import_path(fi, alias)
                        .and_then(|path| self.go_dirs.get(path.as_str()))
                        .map(|dir| in_dir(dir))
                        .unwrap_or_default()
                } else {
                    in_dir(parent_dir(&file.path))
                }
            }
            Language::Java | Language::Python => {
                if cleaned.contains('.')
                    && let Some(found) = self.types_by_qualified.get(cleaned)
                {
                    return found.clone();
                }
                for import in &file.imports {
                    let hit = import.path.rsplit('.').next() == Some(name)
                        && !import.path.ends_with('*')
                        || import.names.iter().any(|n| n == name);
                    if hit {
                        let qualified = if import.names.is_empty() {
                            import.path.clone()
                        } else {
                            format!("{}.{name}", import.path)
                        };
                        if let Some(found) = self.types_by_qualified.get(qualified.as_str()) {
                            return found.clone();
                        }
                        if let Some(found) = self.by_suffix(&qualified) {
                            return found;
                        }
                    }
                }
                let local = format!("{}.{name}", file.package);
                if let Some(found) = self.types_by_qualified.get(local.as_str()) {
                    return found.clone();
                }
                for import in file.imports.iter().filter(|i| i.path.ends_with(".*")) {
                    let qualified = format!("{}.{name}", import.path.trim_end_matches(".*"));
                    if let Some(found) = self.types_by_qualified.get(qualified.as_str()) {
                        return found.clone();
                    }
                }
                let all = self.types_by_name.get(name).cloned().unwrap_or_default();
                let same_service: Vec<TypeRef> = all
                    .iter()
                    .copied()
                    .filter(|&(f, _)| self.program.services[f] == *service)
                    .collect();
                if !same_service.is_empty() {
                    same_service
                } else if all.len() == 1 {
                    all
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// Python imports name modules relative to some root: match by dotted suffix.
    fn by_suffix(&self, qualified: &str) -> Option<Vec<TypeRef>> {
        let (module, name) = qualified.rsplit_once('.')?;
        let candidates: Vec<TypeRef> = self
            .types_by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&(f, _)| {
                let package = &self.program.files[f].package;
                package == module || package.ends_with(&format!(".{module}"))
            })
            .collect();
        (!candidates.is_empty()).then_some(candidates)
    }

    fn import_path(&self, fi: usize, alias: &str) -> Option<String> {
        let file = &self.program.files[fi];
        file.imports.iter().find_map(|import| {
            let bound = import.alias.clone().unwrap_or_else(|| {
                let sep = if language_of(file) == Language::Go {
                    '/'
                } else {
                    '.'
                };
                import
                    .path
                    .rsplit(sep)
                    .next()
                    .unwrap_or(&import.path)
                    .to_string()
            });
            if bound == alias && import.names.is_empty() {
                return Some(import.path.clone());
            }
            // `from pkg import module` binds a module too.
            import
                .names
                .iter()
                .any(|n| n == alias && import.alias.is_none())
                .then(|| format!("{}.{alias}", import.path))
        })
    }

    /// Supertypes of a type, transitively, as written.
    fn supertypes(&self, types: &[TypeRef]) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<TypeRef> = types.to_vec();
        while let Some(ty) = stack.pop() {
            if !seen.insert(ty) || seen.len() > 32 {
                continue;
            }
            for sup in &self.decl(ty).supertypes {
                out.push(sup.clone());
                stack.extend(self.resolve_type(ty.0, sup));
            }
        }
        out
    }

    /// Generic arguments of the supertypes of types, transitively, with the file each
    /// declaration is in (to resolve the arguments there).
    fn supertype_args(&self, types: &[TypeRef]) -> Vec<(usize, String, Vec<String>)> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<TypeRef> = types.to_vec();
        while let Some(ty) = stack.pop() {
            if !seen.insert(ty) || seen.len() > 32 {
                continue;
            }
            let decl = self.decl(ty);
            for (name, args) in &decl.supertype_args {
                out.push((ty.0, name.clone(), args.clone()));
            }
            for sup in &decl.supertypes {
                stack.extend(self.resolve_type(ty.0, sup));
            }
        }
        out
    }

    /// A call through an interface a framework turns into remote calls, as an effect.
    fn client_effect(&self, types: &[TypeRef], callee: &str) -> Option<Effect> {
        types.iter().find_map(|&ty| {
            let decl = self.decl(ty);
            let file = &self.program.files[ty.0];
            let methods = self.methods.get(&(type_key(file, ty.1), callee))?;
            methods.iter().find_map(|&node| {
                let n = &self.graph_nodes[node.index()];
                let method = &self.program.files[n.0].functions[n.1];
                conventions::client_effect(language_of(file), decl, method)
            })
        })
    }

    fn variable_type(&self, fi: usize, function: &Function, name: &str) -> Option<String> {
        function
            .locals
            .iter()
            .chain(&function.params)
            .find(|v| v.name == name && !v.type_name.is_empty())
            .map(|v| v.type_name.clone())
            .or_else(|| self.field_type(fi, function, name))
            .or_else(|| {
                self.program.files[fi]
                    .globals
                    .iter()
                    .find(|g| g.name == name && !g.type_name.is_empty())
                    .map(|g| g.type_name.clone())
            })
    }

    fn owner_types(&self, fi: usize, function: &Function) -> Vec<TypeRef> {
        let Some(owner) = function.owner.as_deref() else {
            return Vec::new();
        };
        let file = &self.program.files[fi];
        let key = owner_key(file, function);
        let local: Vec<TypeRef> = file
            .types
            .iter()
            .enumerate()
            .filter(|(ti, t)| {
                (t.name == owner.trim_start_matches('*') || t.qualified == owner)
                    && Some(type_key(file, *ti)) == key
            })
            .map(|(ti, _)| (fi, ti))
            .collect();
        if !local.is_empty() {
            local
        } else {
            self.resolve_type(fi, owner)
        }
    }

    fn field_type(&self, fi: usize, function: &Function, name: &str) -> Option<String> {
        let owners = self.owner_types(fi, function);
        self.field_of(&owners, name)
    }

    fn field_of(&self, types: &[TypeRef], name: &str) -> Option<String> {
        let mut all = types.to_vec();
        for sup in self.supertypes(types) {
            if let Some(&(f, _)) = types.first() {
                all.extend(self.resolve_type(f, &sup));
            }
        }
        all.iter().find_map(|&ty| {
            self.decl(ty)
                .fields
                .iter()
                .find(|f| f.name == name && !f.type_name.is_empty())
                .map(|f| f.type_name.clone())
        })
    }

    fn receiver(&self, fi: usize, function: &Function, receiver: &str) -> Receiver {
        let file = &self.program.files[fi];
        let language = language_of(file);
        let mut info = Receiver::default();
        if matches!(receiver, "this" | "self" | "super" | "cls") {
            info.is_self = true;
            return info;
        }
        if receiver.contains(['(', '[', ' ', '"']) {
            return info;
        }
        let segments: Vec<&str> = receiver.split('.').collect();
        let (base, rest) = (segments[0], &segments[1..]);
        let written = if matches!(base, "this" | "self" | "cls") {
            match rest.first() {
                Some(field) => self.field_type(fi, function, field),
                None => None,
            }
        } else if let Some(ty) = self.variable_type(fi, function, base) {
            match rest.first() {
                Some(field) => {
                    let types = self.resolve_type(fi, &ty);
                    self.field_of(&types, field)
                }
                None => Some(ty),
            }
        } else if let Some(path) = self.import_path(fi, base) {
            if rest.is_empty() {
                info.import = Some(path);
                None
            } else if language == Language::Python {
                info.import = Some(format!("{path}.{}", rest.join(".")));
                None
            } else {
                None
            }
        } else if language == Language::Java && base.starts_with(char::is_uppercase) {
            Some(receiver.to_string())
        } else {
            None
        };
        if let Some(written) = written {
            info.types = self.resolve_type(fi, &written);
            if info.import.is_none()
                && language == Language::Go
                && let Some((alias, _)) = written.trim_start_matches(['*', '&']).split_once('.')
            {
                info.import = self.import_path(fi, alias);
            }
            if info.import.is_none() && language == Language::Python {
                info.import = file
                    .imports
                    .iter()
                    .find(|i| i.names.iter().any(|n| n == base_name(&written)))
                    .map(|i| i.path.clone());
            }
            // `httpx.Client()` typed by a module imported whole: that module.
            if info.import.is_none()
                && language == Language::Python
                && let Some((alias, _)) = written.split_once('.')
            {
                info.import = self.import_path(fi, alias);
            }
            info.written_type = Some(written);
        }
        info
    }

    fn methods_of(&self, types: &[TypeRef], name: &str, caller_service: &str) -> Vec<NodeIndex> {
        let mut out = Vec::new();
        for &ty in types {
            let file = &self.program.files[ty.0];
            let decl = self.decl(ty);
            let own = self.methods.get(&(type_key(file, ty.1), name));
            let implementors: Vec<TypeRef> = if decl.kind == TypeKind::Interface || own.is_none() {
                let all = self
                    .implementors
                    .get(decl.name.as_str())
                    .cloned()
                    .unwrap_or_default();
                let same: Vec<TypeRef> = all
                    .iter()
                    .copied()
                    .filter(|&(f, _)| self.program.services[f] == caller_service)
                    .collect();
                if same.is_empty() { all } else { same }
            } else {
                Vec::new()
            };
            for imp in implementors {
                let imp_file = &self.program.files[imp.0];
                if let Some(found) = self.methods.get(&(type_key(imp_file, imp.1), name)) {
                    out.extend(found);
                }
            }
            if let Some(own) = own
                && (out.is_empty() || decl.kind != TypeKind::Interface)
            {
                out.extend(own);
            }
        }
        if out.is_empty() {
            // Inherited: look in supertypes (one resolution pass).
            for sup in self.supertypes(types) {
                if let Some(&(f, _)) = types.first() {
                    for ty in self.resolve_type(f, &sup) {
                        if let Some(found) = self
                            .methods
                            .get(&(type_key(&self.program.files[ty.0], ty.1), name))
                        {
                            out.extend(found);
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn module_functions(&self, module: &str, name: &str, language: Language) -> Vec<NodeIndex> {
        if let Some(found) = self.free_functions.get(&(module.to_string(), name)) {
            return found.clone();
        }
        if language == Language::Python {
            // Imports may be relative to a deeper root than ours: match by suffix.
            let suffix = format!(".{module}");
            let mut out: Vec<NodeIndex> = self
                .python_modules
                .keys()
                .filter(|m| m.ends_with(&suffix))
                .filter_map(|m| self.free_functions.get(&(m.to_string(), name)))
                .flatten()
                .copied()
                .collect();
            out.sort();
            return out;
        }
        Vec::new()
    }

    fn go_package_functions(&self, import: &str, name: &str) -> Vec<NodeIndex> {
        self.go_dirs
            .get(import)
            .and_then(|dir| self.free_functions.get(&(dir.to_string(), name)))
            .cloned()
            .unwrap_or_default()
    }

    /// The function with annotation arguments that name a string constant of its service
    /// (`queues = Queues.QUEUE`, declared in another file) replaced by the constant's
    /// value; `None` when there are none.
    fn annotations_with_constants(&self, fi: usize, function: &Function) -> Option<Function> {
        let service = self.program.services[fi].as_str();
        let value_of = |text: &str| {
            let name = text.rsplit('.').next()?.trim();
            if name.is_empty()
                || text.contains(['"', '\'', ' ', '('])
                || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
            {
                return None;
            }
            self.constants.get(&(service, name)).map(|v| v.to_string())
        };
        let any = function
            .annotations
            .iter()
            .flat_map(|a| &a.args)
            .any(|(_, v)| value_of(v).is_some());
        if !any {
            return None;
        }
        let mut resolved = function.clone();
        for annotation in &mut resolved.annotations {
            for (_, value) in &mut annotation.args {
                if let Some(constant) = value_of(value) {
                    *value = constant;
                }
            }
        }
        Some(resolved)
    }

    fn substitute_constants(&self, fi: usize, call: &crate::facts::Call) -> Vec<Option<String>> {
        let service = self.program.services[fi].as_str();
        call.args
            .iter()
            .enumerate()
            .map(|(i, arg)| {
                arg.clone().or_else(|| {
                    let text = call.arg_texts.get(i)?;
                    let name = text.rsplit('.').next()?.trim();
                    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        return None;
                    }
                    self.constants.get(&(service, name)).map(|v| v.to_string())
                })
            })
            .collect()
    }
}

/// Resolves a program into its call graph.
pub fn build(program: &Program) -> CallGraph {
    let mut graph: DiGraph<FunctionNode, CallEdge> = DiGraph::new();
    for (fi, file) in program.files.iter().enumerate() {
        for (ji, function) in file.functions.iter().enumerate() {
            graph.add_node(FunctionNode {
                file: fi,
                function: ji,
                qualified: function.qualified.clone(),
                service: program.services[fi].clone(),
            });
        }
    }
    let index = Index::build(program, &graph);
    let mut effects = Vec::new();
    let mut entries = Vec::new();
    let mut edges: Vec<(NodeIndex, NodeIndex, CallEdge)> = Vec::new();
    let mut registrations: Vec<Registered> = Vec::new();
    let route_prefixes = router_prefixes(program);
    // (service, function) → the prefix a router-mounting call mounts what it builds at.
    let mut mounted_functions: HashMap<(&str, String), String> = HashMap::new();
    for (fi, file) in program.files.iter().enumerate() {
        for function in &file.functions {
            for (name, prefix) in conventions::mounted_functions(language_of(file), function) {
                mounted_functions
                    .entry((program.services[fi].as_str(), name))
                    .or_insert(prefix);
            }
        }
    }
    let no_attrs = Attrs::new();
    let no_scripts: Vec<(String, String)> = Vec::new();
    let mut service_types: HashMap<&str, Vec<&crate::facts::TypeDecl>> = HashMap::new();
    for (fi, file) in program.files.iter().enumerate() {
        service_types
            .entry(program.services[fi].as_str())
            .or_default()
            .extend(&file.types);
    }
    for (fi, file) in program.files.iter().enumerate() {
        for call in &file.top_level_calls {
            for found in conventions::registrations(language_of(file), file, call, true) {
                registrations.push((fi, None, found, call.position, None));
            }
        }
    }
    for node in graph.node_indices() {
        let (fi, ji) = (graph[node].file, graph[node].function);
        let file = &program.files[fi];
        let language = language_of(file);
        let function = &file.functions[ji];
        let service = &program.services[fi];
        let service_attrs = program
            .service_attrs
            .get(&(service.clone(), language))
            .unwrap_or(&no_attrs);
        let prefix_of = |variable: &str| -> String {
            route_prefixes
                .get(&(fi, variable.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        let resolved = index.annotations_with_constants(fi, function);
        let annotated = resolved.as_ref().unwrap_or(function);
        for (entry, position) in
            conventions::declared_entries(language, file, annotated, &prefix_of, service_attrs)
        {
            entries.push(EntrySite {
                node,
                entry,
                position: position.unwrap_or(function.position),
            });
        }
        for entry in conventions::served_entries(
            language,
            file,
            annotated,
            program.service_dependencies.get(service).map(Vec::as_slice),
            service_attrs,
        ) {
            entries.push(EntrySite {
                node,
                entry,
                position: function.position,
            });
        }
        for (ci, call) in function.calls.iter().enumerate() {
            let receiver = call
                .receiver
                .as_deref()
                .map(|r| index.receiver(fi, function, r))
                .unwrap_or_default();
            let supertypes = index.supertypes(&receiver.types);
            let supertype_args: Vec<(String, Vec<String>)> = index
                .supertype_args(&receiver.types)
                .into_iter()
                .map(|(_, name, args)| (name, args))
                .collect();
            let declaring_file = receiver.types.first().map_or(fi, |t| t.0);
            let resolve = |written: &str| {
                index
                    .resolve_type(declaring_file, written)
                    .first()
                    .map(|&ty| index.decl(ty))
            };
            let callee_annotations: &[crate::facts::Annotation] = if receiver.types.is_empty() {
                &[]
            } else {
                index
                    .methods_of(&receiver.types, &call.callee, service)
                    .first()
                    .map(|&target| {
                        let (tf, tj) = index.graph_nodes[target.index()];
                        program.files[tf].functions[tj].annotations.as_slice()
                    })
                    .unwrap_or(&[])
            };
            let mut classified: Vec<Effect> = Vec::new();
            for args in argument_variants(index.substitute_constants(fi, call), call) {
                let context = CallContext {
                    file,
                    function,
                    call,
                    receiver_type: receiver.written_type.as_deref(),
                    receiver_supertypes: &supertypes,
                    receiver_supertype_args: &supertype_args,
                    receiver_import: receiver.import.as_deref(),
                    args: &args,
                    resolve_type: &resolve,
                    service_attrs,
                    callee_annotations,
                    service_types: service_types
                        .get(service.as_str())
                        .map_or(&[], Vec::as_slice),
                    service_scripts: program.service_scripts.get(service).unwrap_or(&no_scripts),
                };
                for effect in conventions::classify(language, &context) {
                    if !classified.contains(&effect) {
                        classified.push(effect);
                    }
                }
            }
            if classified.is_empty()
                && let Some(effect) = index.client_effect(&receiver.types, &call.callee)
            {
                classified.push(effect);
            }
            if !classified.is_empty() {
                effects.extend(classified.into_iter().map(|effect| EffectSite {
                    node,
                    call: ci,
                    effect,
                }));
                continue;
            }
            for mut found in conventions::registrations(language, file, call, false) {
                if found.kind == EntryKind::Http {
                    let mounted = mounted_functions
                        .get(&(service.as_str(), function.name.clone()))
                        .map_or("", String::as_str);
                    let mut prefix =
                        conventions::receiver_prefix(language, function, call, mounted);
                    if let Some((route, methods, base)) =
                        conventions::chained_route(function, call, &found)
                    {
                        prefix = conventions::receiver_prefix(language, function, base, mounted);
                        found.route = Some(route);
                        found.methods = methods;
                    }
                    if let Some(route) = found.route.as_mut() {
                        if !prefix.is_empty() {
                            *route = conventions::join_route(&prefix, route);
                        }
                        if found.trim_trailing_slash && route.len() > 1 {
                            route.truncate(route.trim_end_matches('/').len().max(1));
                        }
                    }
                    let methods = conventions::chained_methods(function, call, &found);
                    if !methods.is_empty() {
                        found.methods = methods;
                    }
                }
                registrations.push((
                    fi,
                    Some(node),
                    found,
                    call.position,
                    receiver.import.clone(),
                ));
            }
            let targets: Vec<NodeIndex> = if receiver.is_self || call.receiver.is_none() {
                let owners = index.owner_types(fi, function);
                let mut found = index.methods_of(&owners, &call.callee, service);
                if found.is_empty() && (call.receiver.is_none() || language == Language::Go) {
                    found = index.module_functions(&module_key(file), &call.callee, language);
                }
                if found.is_empty() && language == Language::Python {
                    for import in file
                        .imports
                        .iter()
                        .filter(|i| i.names.contains(&call.callee))
                    {
                        found.extend(index.module_functions(&import.path, &call.callee, language));
                    }
                }
                found
            } else if !receiver.types.is_empty() {
                index.methods_of(&receiver.types, &call.callee, service)
            } else if let Some(import) = &receiver.import {
                match language {
                    Language::Go => index.go_package_functions(import, &call.callee),
                    _ => index.module_functions(import, &call.callee, language),
                }
            } else {
                Vec::new()
            };
            for target in targets {
                if target != node {
                    edges.push((
                        node,
                        target,
                        CallEdge {
                            kind: EdgeKind::Call,
                            call: ci,
                            in_loop: call.in_loop,
                        },
                    ));
                }
            }
        }
    }
    let mut diagnostics =
        add_registered_entries(program, &graph, &index, &registrations, &mut entries);
    diagnostics.extend(resolve_rpc_entries(program, &graph, &mut entries));
    resolve_rpc_packages(program, &mut effects);
    entries.sort_by(|a, b| a.node.cmp(&b.node).then_with(|| a.entry.cmp(&b.entry)));
    entries.dedup();
    edges.extend(cross_service_edges(program, &graph, &effects, &entries));
    let mut seen = BTreeSet::new();
    for (from, to, edge) in edges {
        if seen.insert((from, to, edge.kind)) {
            graph.add_edge(from, to, edge);
        }
    }
    CallGraph {
        graph,
        effects,
        entries,
        diagnostics,
    }
}

/// Most argument variants tried for one call.
const MAX_ARGUMENT_VARIANTS: usize = 8;

/// The argument patterns of a call, once per alternative value of arguments assigned
/// differently on different paths (`url = a if x else b`), capped.
fn argument_variants(
    args: Vec<Option<String>>,
    call: &crate::facts::Call,
) -> Vec<Vec<Option<String>>> {
    let mut variants = vec![args];
    for (index, alternatives) in &call.arg_alternatives {
        let mut next = Vec::new();
        for variant in &variants {
            if variant.get(*index).is_some_and(Option::is_some) {
                next.push(variant.clone());
                continue;
            }
            for alternative in alternatives {
                if next.len() >= MAX_ARGUMENT_VARIANTS {
                    break;
                }
                let mut changed = variant.clone();
                if let Some(slot) = changed.get_mut(*index) {
                    *slot = Some(alternative.clone());
                }
                next.push(changed);
            }
        }
        if !next.is_empty() {
            variants = next;
        }
    }
    variants
}

/// Route prefixes per (file, router variable): the router's own prefix after the
/// prefixes it is mounted with in the same service.
fn router_prefixes(program: &Program) -> HashMap<(usize, String), String> {
    let mut mounts: HashMap<(&str, String), String> = HashMap::new();
    for (fi, file) in program.files.iter().enumerate() {
        let calls = file
            .top_level_calls
            .iter()
            .chain(file.functions.iter().flat_map(|f| &f.calls));
        for call in calls {
            if let Some((variable, prefix)) = conventions::mount_prefix(language_of(file), call) {
                mounts
                    .entry((program.services[fi].as_str(), variable))
                    .or_insert(prefix);
            }
        }
    }
    let mut out = HashMap::new();
    for (fi, file) in program.files.iter().enumerate() {
        for (variable, own) in conventions::router_prefixes(language_of(file), file) {
            let mount = mounts
                .get(&(program.services[fi].as_str(), variable.clone()))
                .cloned()
                .unwrap_or_default();
            out.insert(
                (fi, variable),
                format!("{}{own}", mount.trim_end_matches('/')),
            );
        }
    }
    out
}

type Registered = (
    usize,
    Option<NodeIndex>,
    conventions::Registration,
    Position,
    Option<String>,
);

/// Entries from registration calls: RPC services by their `.proto` methods, routes by
/// their handlers (methods of the registering type, functions of its module, or
/// functions and class handlers of the service for top-level URL tables), with the
/// prefixes of included route tables.
fn add_registered_entries(
    program: &Program,
    graph: &DiGraph<FunctionNode, CallEdge>,
    index: &Index<'_>,
    registrations: &[Registered],
    entries: &mut Vec<EntrySite>,
) -> Vec<crate::diagnostics::Diagnostic> {
    let mut diagnostics = Vec::new();
    // Included route tables: (service, module) → prefix.
    let includes: Vec<(&str, &str, &str)> = registrations
        .iter()
        .filter_map(|(fi, _, r, _, _)| {
            Some((
                program.services[*fi].as_str(),
                r.include.as_deref()?,
                r.route.as_deref()?,
            ))
        })
        .collect();
    for (fi, register_node, registration, position, import) in registrations {
        let file = &program.files[*fi];
        let service = &program.services[*fi];
        match registration.kind {
            EntryKind::Rpc => {
                let Some(service_name) = registration.service.as_deref() else {
                    continue;
                };
                let proto = find_proto(program, service_name, import.as_deref());
                if proto.is_none() {
                    diagnostics.push(crate::diagnostics::Diagnostic::warning(
                        file.path.clone(),
                        format!("RPC service {service_name} is registered but no .proto declares it: its server spans are not named"),
                    ));
                }
                let package = proto.map(|p| p.package.clone()).unwrap_or_else(|| {
                    import
                        .as_deref()
                        .and_then(|i| i.rsplit('/').next())
                        .unwrap_or("")
                        .to_string()
                });
                let Some(rpcs) = proto.and_then(|p| {
                    p.services
                        .iter()
                        .find(|(name, _)| name == service_name)
                        .map(|(_, methods)| methods.clone())
                }) else {
                    continue;
                };
                for node in graph.node_indices() {
                    let n = &graph[node];
                    let function = &program.files[n.file].functions[n.function];
                    if n.service != *service
                        || function.owner.is_none()
                        || !rpcs.contains(&function.name)
                    {
                        continue;
                    }
                    let mut attrs = registration.attrs.clone();
                    insert_rpc_names(&mut attrs, &package, service_name, &function.name);
                    entries.push(EntrySite {
                        node,
                        entry: Entry {
                            kind: EntryKind::Rpc,
                            framework: registration.framework.clone(),
                            attrs,
                        },
                        position: function.position,
                    });
                }
            }
            EntryKind::Http => {
                let Some(route) = registration.route.as_deref() else {
                    continue;
                };
                // No handler name: a handler written in place, served by the
                // registering function (the fallback below).
                let handler = registration.handler.as_deref().unwrap_or_default();
                let prefix = includes
                    .iter()
                    .find(|(s, module, _)| {
                        *s == service
                            && (file.package == *module
                                || file.package.ends_with(&format!(".{module}")))
                    })
                    .map_or("", |(_, _, prefix)| *prefix);
                let join = |route: &str| {
                    if route.starts_with('/') {
                        format!("{}{route}", prefix.trim_end_matches('/'))
                    } else {
                        format!("/{prefix}{route}")
                    }
                };
                let mut handlers: Vec<(NodeIndex, Vec<String>)> = Vec::new();
                if handler.is_empty() {
                    // Written in place: only the registering function (below) serves it.
                } else if let Some(node) = register_node {
                    let register_fn = &file.functions[graph[*node].function];
                    let mut found =
                        index.methods_of(&index.owner_types(*fi, register_fn), handler, service);
                    if found.is_empty() {
                        found =
                            index.module_functions(&module_key(file), handler, language_of(file));
                    }
                    handlers.extend(found.into_iter().map(|n| (n, registration.methods.clone())));
                }
                if !handler.is_empty()
                    && (register_node.is_none()
                        || (handlers.is_empty() && !registration.class_handler_methods.is_empty()))
                {
                    for node in graph.node_indices() {
                        let n = &graph[node];
                        if n.service != *service {
                            continue;
                        }
                        let function = &program.files[n.file].functions[n.function];
                        match function.owner.as_deref() {
                            None if function.name == handler => {
                                handlers.push((node, registration.methods.clone()))
                            }
                            Some(owner)
                                if base_name(owner) == handler
                                    && registration
                                        .class_handler_methods
                                        .contains(&function.name) =>
                            {
                                handlers.push((node, vec![function.name.to_ascii_uppercase()]))
                            }
                            _ => {}
                        }
                    }
                }
                if handlers.is_empty()
                    && let Some(node) = register_node
                {
                    handlers.push((*node, registration.methods.clone()));
                }
                for (node, methods) in handlers {
                    let route = if registration.regex_route {
                        let n = &graph[node];
                        let function = &program.files[n.file].functions[n.function];
                        let params: Vec<String> = function
                            .params
                            .iter()
                            .skip(usize::from(function.owner.is_some()))
                            .map(|p| p.name.clone())
                            .collect();
                        match conventions::reverse_regex_route(route, &params) {
                            Some(route) => join(&route),
                            None => continue,
                        }
                    } else {
                        join(route)
                    };
                    entries.push(EntrySite {
                        node,
                        entry: conventions::registered_entry(registration, route, &methods),
                        position: *position,
                    });
                }
            }
            EntryKind::Consumer | EntryKind::Scheduled => {}
        }
    }
    diagnostics
}

fn find_proto<'a>(
    program: &'a Program,
    service_name: &str,
    import: Option<&str>,
) -> Option<&'a ProtoFile> {
    let candidates: Vec<&ProtoFile> = program
        .protos
        .iter()
        .filter(|p| p.services.iter().any(|(name, _)| name == service_name))
        .collect();
    let by_import = import.and_then(|import| {
        candidates
            .iter()
            .copied()
            .find(|p| go_import_path(&program.go_modules, &p.dir).as_deref() == Some(import))
    });
    by_import.or_else(|| candidates.first().copied())
}

/// The RPCs a `.proto` file declares for a service.
fn proto_rpcs<'a>(proto: &'a ProtoFile, service: &str) -> Option<&'a [String]> {
    proto
        .services
        .iter()
        .find(|(name, _)| name == service)
        .map(|(_, methods)| methods.as_slice())
}

/// The RPC a method name in code stands for: the name as declared, else the one equal
/// to it ignoring case and underscores. Code generators respell RPC names in their
/// language's style (`GetStock` as `getStock`, `get_stock` as `GetStock`), and two RPCs
/// of one service never share a spelling, or their generated code would not compile.
fn rpc_named<'a>(rpcs: &'a [String], name: &str) -> Option<&'a str> {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    rpcs.iter()
        .find(|rpc| *rpc == name)
        .or_else(|| rpcs.iter().find(|rpc| fold(rpc) == fold(name)))
        .map(String::as_str)
}

/// Sets an RPC site's names: `full_method` (`/package.Service/Method`), `rpc_service`
/// (`package.Service`) and `rpc_method` (`Method`).
fn insert_rpc_names(attrs: &mut Attrs, package: &str, service: &str, method: &str) {
    let full = conventions::rpc_full_method(package, service, method);
    let rpc_service = full
        .trim_start_matches('/')
        .rsplit_once('/')
        .map_or("", |(service, _)| service)
        .to_string();
    attrs.insert("full_method".into(), vec![full]);
    attrs.insert("rpc_service".into(), vec![rpc_service]);
    attrs.insert("rpc_method".into(), vec![method.to_string()]);
}

/// RPC entries declared on the type implementing a service (a `service` attribute,
/// no `full_method` yet): each method that is one of the service's RPCs by the
/// `.proto` declaring it serves that RPC; the other methods serve nothing. Without a
/// `.proto`, the rule's `default_package` and `default_method` (else the method's
/// name) stand for the proto names, with a warning.
fn resolve_rpc_entries(
    program: &Program,
    graph: &DiGraph<FunctionNode, CallEdge>,
    entries: &mut Vec<EntrySite>,
) -> Vec<crate::diagnostics::Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut warned = BTreeSet::new();
    entries.retain_mut(|site| {
        let entry = &mut site.entry;
        if entry.kind != EntryKind::Rpc || entry.attrs.contains_key("full_method") {
            return true;
        }
        let Some(service) = entry.attr("service").map(str::to_string) else {
            return true;
        };
        let n = &graph[site.node];
        let file = &program.files[n.file];
        let function = &file.functions[n.function];
        let proto = find_proto(program, &service, entry.attr("package"));
        let (package, method) = match proto.and_then(|p| Some((p, proto_rpcs(p, &service)?))) {
            Some((proto, rpcs)) => match rpc_named(rpcs, &function.name) {
                Some(rpc) => (proto.package.clone(), rpc.to_string()),
                None => return false,
            },
            None => {
                if warned.insert((file.path.clone(), service.clone())) {
                    diagnostics.push(crate::diagnostics::Diagnostic::warning(
                        file.path.clone(),
                        format!("RPC service {service} is implemented but no .proto declares it: its names are guessed from the code"),
                    ));
                }
                (
                    entry.attr("default_package").unwrap_or("").to_string(),
                    entry
                        .attr("default_method")
                        .unwrap_or(&function.name)
                        .to_string(),
                )
            }
        };
        insert_rpc_names(&mut entry.attrs, &package, &service, &method);
        true
    });
    diagnostics
}

/// RPC stub effects name the stub's import path as `package`: the `.proto` declaring
/// the service gives the proto package and the RPC the method stands for, and
/// `full_method` follows. Without one, the rule's `default_package` (else the import
/// path's last element) and `default_method` (else the method) stand for them.
fn resolve_rpc_packages(program: &Program, effects: &mut [EffectSite]) {
    for site in effects.iter_mut() {
        if site.effect.kind != EffectKind::Rpc {
            continue;
        }
        let (Some(service), Some(method)) = (
            site.effect.attr("service").map(str::to_string),
            site.effect.attr("method").map(str::to_string),
        ) else {
            continue;
        };
        let import = site.effect.attr("package").map(str::to_string);
        let (package, method) = match find_proto(program, &service, import.as_deref()) {
            Some(p) => (
                p.package.clone(),
                proto_rpcs(p, &service)
                    .and_then(|rpcs| rpc_named(rpcs, &method))
                    .unwrap_or(&method)
                    .to_string(),
            ),
            None => (
                site.effect
                    .attr("default_package")
                    .map(str::to_string)
                    .or_else(|| {
                        import
                            .as_deref()
                            .map(|i| i.rsplit('/').next().unwrap_or(i).to_string())
                    })
                    .unwrap_or_default(),
                site.effect
                    .attr("default_method")
                    .unwrap_or(&method)
                    .to_string(),
            ),
        };
        site.effect
            .attrs
            .insert("package".into(), vec![package.clone()]);
        insert_rpc_names(&mut site.effect.attrs, &package, &service, &method);
    }
}

/// Whether a route template (`/a/{id}`, `/a/<int:id>`, `/a/:id`) matches a client path
/// pattern (`/a/{}`); returns the number of literal segments that agree.
pub fn route_matches(route: &str, path: &str) -> Option<usize> {
    let route_segments: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    let path_segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    if route_segments.len() != path_segments.len() {
        return None;
    }
    let mut literal = 0;
    for (r, p) in route_segments.iter().zip(&path_segments) {
        let r_var = r.starts_with('{') || r.starts_with('<') || r.starts_with(':');
        let p_var = p.contains('{');
        if r_var || p_var {
            continue;
        }
        if r != p {
            return None;
        }
        literal += usize::from(!r.is_empty());
    }
    Some(literal)
}

fn cross_service_edges(
    program: &Program,
    graph: &DiGraph<FunctionNode, CallEdge>,
    effects: &[EffectSite],
    entries: &[EntrySite],
) -> Vec<(NodeIndex, NodeIndex, CallEdge)> {
    let services: BTreeSet<&str> = program.services.iter().map(String::as_str).collect();
    let mut by_method: BTreeMap<&str, Vec<NodeIndex>> = BTreeMap::new();
    for entry in entries {
        if entry.entry.kind == EntryKind::Rpc
            && let Some(full_method) = entry.entry.attr("full_method")
        {
            by_method.entry(full_method).or_default().push(entry.node);
        }
    }
    // HTTP routes by their number of segments (only routes of that length can match a
    // path), each read once: comparing every call with every route is quadratic.
    struct Route<'a> {
        service: &'a str,
        route: &'a str,
        methods: Vec<&'a str>,
        node: NodeIndex,
    }
    let mut routes: BTreeMap<(usize, &str), Vec<Route<'_>>> = BTreeMap::new();
    for entry in entries {
        if entry.entry.kind != EntryKind::Http {
            continue;
        }
        let Some(route) = entry.entry.attr("route") else {
            continue;
        };
        let service = graph[entry.node].service.as_str();
        routes
            .entry((route.trim_end_matches('/').split('/').count(), service))
            .or_default()
            .push(Route {
                service,
                route,
                methods: entry.entry.methods(),
                node: entry.node,
            });
    }
    let mut edges = Vec::new();
    for site in effects {
        let caller = &graph[site.node];
        let call = &program.files[caller.file].functions[caller.function].calls[site.call];
        let edge = |kind| CallEdge {
            kind,
            call: site.call,
            in_loop: call.in_loop,
        };
        match site.effect.kind {
            EffectKind::Http => {
                let Some(url) = site.effect.attr("url") else {
                    continue;
                };
                let method = site.effect.attr("method");
                let Some(path) = url_path(url) else { continue };
                let host = url_host(url).filter(|h| services.contains(h.as_str()));
                let mut best: Vec<(usize, NodeIndex)> = Vec::new();
                let segments = path.trim_end_matches('/').split('/').count();
                let candidates = routes
                    .range((segments, "")..)
                    .take_while(|((n, _), _)| *n == segments)
                    .filter(|((_, service), _)| {
                        *service != caller.service && host.as_deref().is_none_or(|h| h == *service)
                    })
                    .flat_map(|(_, list)| list);
                for route in candidates {
                    if route.service == caller.service
                        || host.as_deref().is_some_and(|h| h != route.service)
                    {
                        continue;
                    }
                    if let Some(m) = method
                        && !route.methods.is_empty()
                        && !route.methods.contains(&m)
                    {
                        continue;
                    }
                    if let Some(score) = route_matches(route.route, &path) {
                        best.push((score, route.node));
                    }
                }
                if let Some(top) = best.iter().map(|(s, _)| *s).max() {
                    for (_, node) in best.into_iter().filter(|(s, _)| *s == top) {
                        edges.push((site.node, node, edge(EdgeKind::Http)));
                    }
                }
            }
            EffectKind::Rpc => {
                let Some(full) = site.effect.attr("full_method") else {
                    continue;
                };
                for &node in by_method.get(full).into_iter().flatten() {
                    if graph[node].service != caller.service {
                        edges.push((site.node, node, edge(EdgeKind::Rpc)));
                    }
                }
            }
            _ => {}
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_multiply_argument_variants() {
        let call = crate::facts::Call {
            args: vec![None, Some("x".into())],
            arg_alternatives: vec![(0, vec!["http://a/x".into(), "http://b/x".into()])],
            ..crate::facts::Call::default()
        };
        let variants = argument_variants(call.args.clone(), &call);
        assert_eq!(
            variants,
            [
                vec![Some("http://a/x".to_string()), Some("x".to_string())],
                vec![Some("http://b/x".to_string()), Some("x".to_string())],
            ]
        );
    }

    #[test]
    fn rpc_names_match_as_declared_else_as_generators_respell_them() {
        let rpcs = vec!["GetStock".to_string(), "reserve_items".to_string()];
        assert_eq!(rpc_named(&rpcs, "GetStock"), Some("GetStock"));
        assert_eq!(rpc_named(&rpcs, "getStock"), Some("GetStock"));
        assert_eq!(rpc_named(&rpcs, "reserveItems"), Some("reserve_items"));
        assert_eq!(rpc_named(&rpcs, "ReserveItems"), Some("reserve_items"));
        assert_eq!(rpc_named(&rpcs, "stock"), None);
        let mut attrs = Attrs::new();
        insert_rpc_names(&mut attrs, "shop.inventory", "Inventory", "GetStock");
        assert_eq!(attrs["full_method"], ["/shop.inventory.Inventory/GetStock"]);
        assert_eq!(attrs["rpc_service"], ["shop.inventory.Inventory"]);
        assert_eq!(attrs["rpc_method"], ["GetStock"]);
        insert_rpc_names(&mut attrs, "", "Inventory", "GetStock");
        assert_eq!(attrs["rpc_service"], ["Inventory"]);
    }

    #[test]
    fn routes_match_client_paths() {
        assert_eq!(
            route_matches("/api/v1/orders/{id}", "/api/v1/orders/{}"),
            Some(3)
        );
        assert_eq!(
            route_matches("/api/v1/orders/<int:id>", "/api/v1/orders/{}"),
            Some(3)
        );
        assert_eq!(route_matches("/api/v1/orders/{id}", "/api/v1/orders"), None);
        assert_eq!(
            route_matches("/api/v1/orders/all", "/api/v1/orders/{}"),
            Some(3)
        );
        assert_eq!(route_matches("/api/v1/x", "/api/v1/y"), None);
    }

    #[test]
    fn reads_proto_names() {
        let proto = parse_proto(
            "services/geo/proto",
            "syntax = \"proto3\";\npackage geo;\nservice Geo {\n  rpc Nearby(Request) returns (Result);\n}\n",
        );
        assert_eq!(proto.package, "geo");
        assert_eq!(
            proto.services,
            [("Geo".to_string(), vec!["Nearby".to_string()])]
        );
        let modules = vec![("hotel".to_string(), "github.com/x/hotel".to_string())];
        assert_eq!(
            go_import_path(&modules, "hotel/services/geo").as_deref(),
            Some("github.com/x/hotel/services/geo")
        );
        assert_eq!(go_import_path(&modules, "other"), None);
    }
}
