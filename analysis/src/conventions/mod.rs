//! The engine that applies framework and instrumentation data
//! ([`crate::knowledge`]) to facts: which calls leave the process ([`Effect`]), which
//! functions serve requests ([`Entry`]), which calls register handlers
//! ([`Registration`]), and the span names each profile gives a site ([`site_names`]).
//!
//! Nothing here names a framework: every library, annotation, method and naming
//! template comes from a data file. What is here is generic: matching patterns on
//! receivers, callees and annotations, collecting attributes, expanding templates.
//! Everything works on facts plus what resolution learned about a call's receiver;
//! nothing here knows about tree-sitter or the call graph.

use crate::facts::{Annotation, Call, FileFacts, Function, Language, TypeDecl};
use crate::knowledge::model::{
    AttrTemplates, CallRule, EntryRule, FrameworkFile, MatchAs, NameRule, ProfileFile, SiteClass,
};
pub use crate::knowledge::model::{EffectKind, EntryKind};
use crate::knowledge::pattern::{Attrs, Pattern, Template};
use crate::knowledge::{self, Knowledge};
use policy_schema::Matcher;
use std::collections::BTreeMap;

/// What resolution knows about a call, for classification.
#[derive(Clone, Copy)]
pub struct CallContext<'a, 'p> {
    /// The file.
    pub file: &'a FileFacts,
    /// The calling function.
    pub function: &'a Function,
    /// The call.
    pub call: &'a Call,
    /// Declared type of the receiver, as written (`OrderRepository`, `pb.GeoClient`).
    pub receiver_type: Option<&'a str>,
    /// Supertypes of the receiver's type, transitively, as written
    /// (`MongoRepository<Order, String>`).
    pub receiver_supertypes: &'a [String],
    /// Generic arguments of the receiver type's supertypes, transitively:
    /// `("CrudRepository", ["Order", "String"])`.
    pub receiver_supertype_args: &'a [(String, Vec<String>)],
    /// Import path the receiver names when it is a package or module alias
    /// (`net/http`, `requests`), or the import path of the receiver type's package.
    pub receiver_import: Option<&'a str>,
    /// Argument patterns with named string constants substituted.
    pub args: &'a [Option<String>],
    /// Resolves a type name written in the calling file to its declaration.
    pub resolve_type: &'a dyn Fn(&str) -> Option<&'p TypeDecl>,
    /// Attributes of the calling service (from its configuration and dependencies).
    pub service_attrs: &'a Attrs,
    /// Annotations of the called method's declaration, when resolution found it.
    pub callee_annotations: &'a [Annotation],
    /// Every type declared in the calling service (entities for per-entity statements).
    pub service_types: &'a [&'p TypeDecl],
    /// The calling service's SQL scripts: (path relative to the source root, text).
    pub service_scripts: &'a [(String, String)],
}

/// A call that leaves the process (or reaches a store): what tracing agents make exit
/// spans of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Effect {
    /// What kind of exit.
    pub kind: EffectKind,
    /// The library, as its data file names it.
    pub library: String,
    /// What is known about the call: `method`, `url`, `system`, `operation`, ...
    pub attrs: Attrs,
}

impl Effect {
    /// The first value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        first(&self.attrs, name)
    }

    /// Score reason kind of this effect.
    pub fn reason_kind(&self) -> &'static str {
        match self.kind {
            EffectKind::Http | EffectKind::Rpc => "external-call",
            EffectKind::Database => "database",
            EffectKind::Produce => "messaging",
        }
    }
}

/// A function that serves requests or messages: what agents make entry spans of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// What it serves.
    pub kind: EntryKind,
    /// The framework, as its data file names it.
    pub framework: String,
    /// `route`, `method` (`*` for any, with `any_method`), `destination`, `full_method`.
    pub attrs: Attrs,
}

impl Entry {
    /// The first value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        first(&self.attrs, name)
    }

    /// The HTTP methods an entry serves; empty when any.
    pub fn methods(&self) -> Vec<&str> {
        if self.attrs.contains_key("any_method") {
            return Vec::new();
        }
        self.attrs
            .get("method")
            .map(|m| m.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

fn first<'a>(attrs: &'a Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name)?.first().map(String::as_str)
}

fn compile(list: &[String]) -> Vec<Pattern> {
    // Patterns were checked when the data loaded.
    list.iter().filter_map(|p| Pattern::parse(p).ok()).collect()
}

/// The captures of the first pattern of `list` that matches `text`.
fn first_match(list: &[String], text: &str) -> Option<BTreeMap<String, String>> {
    compile(list).iter().find_map(|p| p.captures(text))
}

fn set(attrs: &mut Attrs, name: &str, value: impl Into<String>) {
    attrs.insert(name.to_string(), vec![value.into()]);
}

/// Expands attribute templates over `base`, adding the results to `out`.
fn expand_into(templates: &AttrTemplates, base: &Attrs, out: &mut Attrs) {
    for (name, list) in templates {
        let mut values: Vec<String> = Vec::new();
        for text in list {
            if let Ok(template) = Template::parse(text) {
                for value in template.expand(base) {
                    if !values.contains(&value) {
                        values.push(value);
                    }
                }
            }
        }
        if !values.is_empty() {
            out.insert(name.clone(), values);
        }
    }
}

/// Classifies a call: the [`Effect`]s of the first framework rule of its language that
/// says it leaves the process or reaches a store (rules are tried in data-file
/// order): the call's own, unless the rule says it has no span, then one per SQL
/// statement the rule says it issues. Empty when no rule matches.
pub fn classify(language: Language, context: &CallContext<'_, '_>) -> Vec<Effect> {
    classify_with(knowledge::embedded(), language, context)
}

/// [`classify`] with given knowledge.
pub fn classify_with(
    knowledge: &Knowledge,
    language: Language,
    context: &CallContext<'_, '_>,
) -> Vec<Effect> {
    let Some((rule, effect, base)) = knowledge
        .frameworks_of(language)
        .flat_map(|f| &f.calls)
        .find_map(|rule| apply_call_rule(rule, context).map(|(e, b)| (rule, e, b)))
    else {
        return Vec::new();
    };
    let mut out = statement_effects(rule, context, &effect, &base);
    if !rule.statements_only {
        out.insert(0, effect);
    }
    let mut unique: Vec<Effect> = Vec::new();
    for effect in out {
        if !unique.contains(&effect) {
            unique.push(effect);
        }
    }
    unique
}

/// Whether attributes meet conditions: each named attribute has a value matching one
/// of its patterns (`[]`: the attribute is absent or empty).
fn attrs_meet(conditions: &BTreeMap<String, Vec<String>>, attrs: &Attrs) -> bool {
    conditions.iter().all(
        |(name, list)| match attrs.get(name).filter(|v| !v.is_empty()) {
            None => list.is_empty(),
            Some(values) => {
                let patterns = compile(list);
                !list.is_empty() && values.iter().any(|v| patterns.iter().any(|p| p.matches(v)))
            }
        },
    )
}

/// Whether some named attribute has a value matching one of its patterns.
fn attrs_hit(conditions: &BTreeMap<String, Vec<String>>, attrs: &Attrs) -> bool {
    conditions.iter().any(|(name, list)| {
        let patterns = compile(list);
        attrs
            .get(name)
            .is_some_and(|values| values.iter().any(|v| patterns.iter().any(|p| p.matches(v))))
    })
}

/// What an entity's declaration says: `entity`, `entity_qualified`, `table` (its own,
/// then its collection tables), `id_generation`; and the store its annotations imply.
fn entity_attrs(
    rule: &CallRule,
    written: &str,
    decl: Option<&TypeDecl>,
) -> (Attrs, Option<String>) {
    let mut attrs = Attrs::new();
    let simple = base_name(written).to_string();
    set(&mut attrs, "entity", simple.clone());
    set(
        &mut attrs,
        "entity_qualified",
        decl.map_or(simple.clone(), |d| d.qualified.clone()),
    );
    let table = decl.and_then(|d| named_argument(&d.annotations, &rule.entity_tables));
    let table = table.unwrap_or_else(|| knowledge::pattern::snake_case(&simple));
    let mut tables = vec![table.clone()];
    if let Some(decl) = decl {
        for field in &decl.fields {
            let collection = field.annotations.iter().any(|a| {
                rule.entity_collection_annotations
                    .iter()
                    .any(|c| *c == base_name(&a.name))
            });
            if !collection {
                continue;
            }
            let named = named_argument(&field.annotations, &rule.entity_collection_tables);
            tables.push(named.unwrap_or_else(|| {
                format!(
                    "{}_{}",
                    knowledge::pattern::snake_case(&simple),
                    knowledge::pattern::snake_case(&field.name)
                )
            }));
        }
        if let Some((annotation, strategy)) = &rule.entity_generated_id
            && let Some(generated) = decl
                .fields
                .iter()
                .flat_map(|f| &f.annotations)
                .find(|a| base_name(&a.name) == annotation)
        {
            let value = generated
                .args
                .iter()
                .find(|(k, _)| k.as_deref() == Some(strategy.as_str()))
                .map(|(_, v)| base_name(v.trim()).to_string())
                .unwrap_or_else(|| "AUTO".to_string());
            set(&mut attrs, "id_generation", value);
        }
    }
    attrs.insert("table".into(), tables);
    let store = decl.and_then(|d| {
        rule.entity_stores.iter().find_map(|(annotation, store)| {
            d.annotations
                .iter()
                .any(|a| Pattern::parse(annotation).is_ok_and(|p| p.matches(base_name(&a.name))))
                .then(|| store.clone())
        })
    });
    (attrs, store)
}

/// The SQL statements a call issues by its rule's `statements`, one effect each.
fn statement_effects(
    rule: &CallRule,
    context: &CallContext<'_, '_>,
    effect: &Effect,
    base: &Attrs,
) -> Vec<Effect> {
    let mut out = Vec::new();
    if rule.statements.is_empty() {
        return out;
    }
    let mut known = base.clone();
    for (name, values) in &effect.attrs {
        known.insert(name.clone(), values.clone());
    }
    // The statement spans carry the call's own attributes, not what its method name
    // suggested for its span (lookups, statements, tables).
    let mut own = Attrs::new();
    expand_into(&rule.attrs, base, &mut own);
    // The system may come from the receiver's supertypes rather than the templates.
    if let Some(system) = effect.attrs.get("system") {
        own.insert("system".into(), system.clone());
    }
    let mut push = |library: &str, sql: &str| {
        if let Some(summary) = sql_statement_attrs(sql) {
            let mut attrs = own.clone();
            attrs.remove("table");
            attrs.remove("statement");
            attrs.extend(summary);
            out.push(Effect {
                kind: rule.effect,
                library: library.to_string(),
                attrs,
            });
        }
    };
    for statement in &rule.statements {
        if !statement.scripts.is_empty() {
            if !attrs_meet(&statement.when, &known) {
                continue;
            }
            let patterns = compile(&statement.scripts);
            let mut scripts: Vec<&(String, String)> = context
                .service_scripts
                .iter()
                .filter(|(path, _)| patterns.iter().any(|p| p.matches(path)))
                .collect();
            scripts.sort();
            for (_, text) in scripts {
                for sql in split_sql_script(text) {
                    push(&statement.library, &sql);
                }
            }
            continue;
        }
        let mut variants: Vec<Attrs> = Vec::new();
        if statement.per_entity.is_empty() {
            variants.push(known.clone());
        } else {
            let patterns = compile(&statement.per_entity);
            for decl in context.service_types {
                if !decl
                    .annotations
                    .iter()
                    .any(|a| patterns.iter().any(|p| annotation_captures(p, a).is_some()))
                {
                    continue;
                }
                let mut attrs = known.clone();
                attrs.remove("id_generation");
                attrs.extend(entity_attrs(rule, &decl.name, Some(decl)).0);
                variants.push(attrs);
            }
        }
        for attrs in variants {
            if !attrs_meet(&statement.when, &attrs) {
                continue;
            }
            for text in &statement.sql {
                if let Ok(template) = Template::parse(text) {
                    for sql in template.expand(&attrs) {
                        push(&statement.library, &sql);
                    }
                }
            }
        }
    }
    out
}

/// The statements of a SQL script: split at `;` outside quotes and comments, each
/// trimmed, comments dropped, empty ones skipped.
pub fn split_sql_script(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            current.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                current.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                for next in chars.by_ref() {
                    if next == '\n' {
                        break;
                    }
                }
                current.push(' ');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for next in chars.by_ref() {
                    if last == '*' && next == '/' {
                        break;
                    }
                    last = next;
                }
                current.push(' ');
            }
            ';' => {
                let statement = current.trim();
                if !statement.is_empty() {
                    out.push(statement.to_string());
                }
                current.clear();
            }
            c => current.push(c),
        }
    }
    let statement = current.trim();
    if !statement.is_empty() {
        out.push(statement.to_string());
    }
    out
}

/// SQL's data-manipulation keywords: `statement`, with the main table.
const SQL_DML: [&str; 6] = ["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "CALL"];
/// SQL's schema keywords: `ddl`, with the object kind and name.
const SQL_DDL: [&str; 3] = ["CREATE", "DROP", "ALTER"];

/// The summary of one SQL statement as attributes: DML gives `statement` (upper case)
/// and `table` when a single main table is named (`FROM`, `INTO`, `UPDATE`; none for
/// joins); DDL gives `ddl` (upper case), `ddl_object` (the word after it, past
/// `IF NOT EXISTS`, as written: `table`, `TABLE`, `sequence`), `ddl_keyword` (that word
/// upper case) and `table` (the object's name). Another first word gives `sql_keyword`
/// (upper case). Every statement has `sql_word`, its first word as written. `None` for
/// an empty statement.
pub fn sql_statement_attrs(statement: &str) -> Option<Attrs> {
    let words: Vec<&str> = statement
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    let keyword = words.first()?.to_ascii_uppercase();
    let clean = |word: &str| {
        word.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .to_string()
    };
    let mut attrs = Attrs::new();
    set(&mut attrs, "sql_word", words[0]);
    if SQL_DML.contains(&keyword.as_str()) {
        set(&mut attrs, "statement", keyword.clone());
        let joined = words.iter().any(|w| w.eq_ignore_ascii_case("join"));
        if let Some((_, table)) = sql_summary(statement).filter(|_| !joined) {
            set(&mut attrs, "table", table);
        }
    } else if SQL_DDL.contains(&keyword.as_str()) {
        set(&mut attrs, "ddl", keyword);
        let skip = |w: &&&str| {
            ["if", "not", "exists"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k))
        };
        let mut rest = words[1..].iter().filter(|w| !skip(w));
        if let Some(object) = rest.next() {
            set(&mut attrs, "ddl_object", object.to_string());
            set(&mut attrs, "ddl_keyword", object.to_ascii_uppercase());
            if let Some(name) = rest.next().map(|w| clean(w)).filter(|n| !n.is_empty()) {
                set(&mut attrs, "table", name);
            }
        }
    } else {
        set(&mut attrs, "sql_keyword", keyword);
    }
    Some(attrs)
}

fn apply_call_rule(rule: &CallRule, context: &CallContext<'_, '_>) -> Option<(Effect, Attrs)> {
    let call = context.call;
    let mut captured: BTreeMap<String, String> = BTreeMap::new();
    let receiver_type = context.receiver_type.map(base_name);
    let written = context
        .receiver_type
        .map(|w| w.trim().trim_start_matches(['*', '&']));
    let receiver_text = call.receiver.as_deref().unwrap_or("").to_ascii_lowercase();
    let mut need = |list: &[String], text: Option<&str>| -> bool {
        if list.is_empty() {
            return true;
        }
        match text.and_then(|t| first_match(list, t)) {
            Some(found) => {
                captured.extend(found);
                true
            }
            None => false,
        }
    };
    if !need(&rule.receiver_types, receiver_type)
        || !need(&rule.receiver_written, written)
        || !need(&rule.receiver_imports, context.receiver_import)
        || !need(&rule.receiver_texts, Some(&receiver_text))
        || !need(&rule.callees, Some(&call.callee))
    {
        return None;
    }
    if !rule.receiver_supertypes.is_empty() {
        let supers = compile(&rule.receiver_supertypes);
        if !context
            .receiver_supertypes
            .iter()
            .any(|s| supers.iter().any(|p| p.matches(base_name(s))))
        {
            return None;
        }
    }
    let excluded = |list: &[String], text: Option<&str>| {
        text.is_some_and(|t| compile(list).iter().any(|p| p.matches(t)))
    };
    if excluded(&rule.not_receiver_imports, context.receiver_import)
        || excluded(&rule.not_receiver_texts, Some(&receiver_text))
        || excluded(&rule.not_callees, Some(&call.callee))
    {
        return None;
    }
    let typed = context.receiver_type.is_some();
    let imported = context.receiver_import.is_some();
    if (rule.untyped && (typed || imported)) || (rule.package_call && (typed || !imported)) {
        return None;
    }
    if rule.undeclared
        && context
            .receiver_type
            .is_some_and(|t| (context.resolve_type)(t).is_some())
    {
        return None;
    }
    let imports = |list: &[String]| {
        let patterns = compile(list);
        context
            .file
            .imports
            .iter()
            .any(|i| patterns.iter().any(|p| p.matches(&i.path)))
    };
    if (!rule.file_imports.is_empty() && !imports(&rule.file_imports))
        || (!rule.not_file_imports.is_empty() && imports(&rule.not_file_imports))
    {
        return None;
    }
    let count = call.args.len();
    if rule.min_args.is_some_and(|m| count < m) || rule.max_args.is_some_and(|m| count > m) {
        return None;
    }

    // The call's own attributes, for the templates.
    let mut base: Attrs = Attrs::new();
    set(&mut base, "callee", call.callee.clone());
    if let Some(receiver) = &call.receiver {
        set(&mut base, "receiver", receiver.clone());
    }
    if let Some(receiver_type) = receiver_type {
        set(&mut base, "receiver_type", receiver_type);
    }
    if let Some(written) = written {
        set(
            &mut base,
            "receiver_type_path",
            written_type_path(context.file, written),
        );
    }
    let import = context.receiver_import.map(str::to_string).or_else(|| {
        written
            .and_then(|w| w.split_once('.'))
            .map(|(package, _)| package.to_string())
    });
    if let Some(import) = import {
        set(&mut base, "receiver_import", import);
    }
    for (index, arg) in context.args.iter().enumerate() {
        if let Some(arg) = arg {
            set(&mut base, &format!("arg{index}"), arg.clone());
        }
    }
    if let Some(method) = method_in_args(call) {
        set(&mut base, "method_arg", method);
    }
    for (name, value) in &captured {
        set(&mut base, name, value.clone());
    }
    let mut entity_store = None;
    if let Some(index) = rule.entity_arg {
        let entity = context
            .receiver_supertype_args
            .iter()
            .find_map(|(_, args)| args.get(index))
            .cloned();
        if let Some(entity) = entity {
            let decl = (context.resolve_type)(&entity);
            let (attrs, store) = entity_attrs(rule, &entity, decl);
            base.extend(attrs);
            entity_store = store;
        }
    }
    if let Some(store) =
        entity_store.or_else(|| first(context.service_attrs, "store").map(str::to_string))
    {
        set(&mut base, "store", store);
    }
    for (name, values) in context.service_attrs {
        base.entry(name.clone()).or_insert_with(|| values.clone());
    }

    let mut attrs = Attrs::new();
    expand_into(&rule.attrs, &base, &mut attrs);
    let lower = call.callee.to_ascii_lowercase();
    if let Some(by) = rule
        .by_callee
        .iter()
        .find(|by| compile(&by.callees).iter().any(|p| p.matches(&lower)))
    {
        expand_into(&by.attrs, &base, &mut attrs);
    }
    if let Some((by, captures)) = rule.by_arg_type.iter().find_map(|by| {
        let text = call.arg_texts.get(by.arg)?;
        let written = arg_type(context.function, text)?;
        first_match(&by.types, base_name(&written)).map(|c| (by, c))
    }) {
        let mut with = base.clone();
        for (name, value) in captures {
            set(&mut with, &name, value);
        }
        if let Some(literal) = call
            .arg_texts
            .get(by.arg)
            .and_then(|text| created_literal_arg(text))
        {
            set(&mut with, "created_arg0", literal);
        }
        expand_into(&by.attrs, &with, &mut attrs);
    }
    for by in &rule.chained {
        if let Some(mate) = chain_mate(context.function, call, &by.callees) {
            let mut mate_attrs = Attrs::new();
            set(&mut mate_attrs, "callee", mate.callee.clone());
            for (index, arg) in mate.args.iter().enumerate() {
                if let Some(arg) = arg {
                    set(&mut mate_attrs, &format!("arg{index}"), arg.clone());
                }
            }
            if let Some(method) = method_in_args(mate) {
                set(&mut mate_attrs, "method_arg", method);
            }
            expand_into(&by.attrs, &mate_attrs, &mut attrs);
        }
    }
    if let Some((_, system)) = rule.system_by_supertype.iter().find(|(pattern, _)| {
        Pattern::parse(pattern).is_ok_and(|p| {
            context
                .receiver_supertypes
                .iter()
                .any(|s| p.matches(base_name(s)))
        })
    }) {
        set(&mut attrs, "system", system.clone());
    }
    for name in ["entity", "entity_qualified", "table", "id_generation"] {
        if let Some(value) = base.get(name) {
            attrs.insert(name.to_string(), value.clone());
        }
    }
    if let Some(index) = rule.sql_arg
        && let Some(Some(text)) = context.args.get(index)
        && let Some((operation, target)) = sql_summary(text)
    {
        set(&mut attrs, "statement", operation);
        set(&mut attrs, "table", target);
    }
    if let Some((annotation, arg)) = &rule.query_annotation
        && let Some(query) = context
            .callee_annotations
            .iter()
            .find(|a| base_name(&a.name) == annotation)
    {
        let text = query
            .args
            .iter()
            .find(|(k, _)| k.as_deref().is_none_or(|k| k == arg))
            .map(|(_, v)| v.as_str());
        if let Some((operation, target)) = text.and_then(sql_summary) {
            let native = rule.native_query_arg.as_deref().is_some_and(|flag| {
                query
                    .args
                    .iter()
                    .any(|(k, v)| k.as_deref() == Some(flag) && v.trim() == "true")
            });
            set(&mut attrs, "query_statement", operation.clone());
            set(&mut attrs, "query_target", target.clone());
            // The method's own statement replaces what its name suggested.
            attrs.remove("lookup");
            if native {
                set(&mut attrs, "statement", operation);
                set(&mut attrs, "table", target);
            }
        }
    }
    for (name, value) in captured {
        attrs.entry(name).or_insert_with(|| vec![value]);
    }
    Some((
        Effect {
            kind: rule.effect,
            library: rule.library.clone(),
            attrs,
        },
        base,
    ))
}

/// The type of an argument: the type created in place (`new HttpGet(url)`), or the
/// declared type of the parameter or local it names, as written.
fn arg_type(function: &Function, text: &str) -> Option<String> {
    let text = text.trim();
    if let Some(created) = text.strip_prefix("new ") {
        let end = created.find(['(', '<', '{']).unwrap_or(created.len());
        let written = created[..end].trim();
        return (!written.is_empty()).then(|| written.to_string());
    }
    function
        .locals
        .iter()
        .chain(&function.params)
        .find(|f| f.name == text)
        .map(|f| f.type_name.clone())
}

/// The first argument of an object created in place when it is a plain string literal:
/// `new ProducerRecord<>("orders", key, value)` → `orders`.
fn created_literal_arg(text: &str) -> Option<String> {
    let created = text.trim().strip_prefix("new ")?;
    let open = created.find('(')?;
    let rest = created[open + 1..].trim_start().strip_prefix('"')?;
    let close = rest.find('"')?;
    let literal = &rest[..close];
    (!literal.contains('\\')).then(|| literal.to_string())
}

/// A call's text without whitespace, as the receiver of a call made on its result
/// reads: `client.get()`.
fn call_text(call: &Call) -> String {
    let mut out: String = call.receiver.as_deref().unwrap_or("").to_string();
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(&call.callee);
    out.push('(');
    out.push_str(&call.arg_texts.join(","));
    out.push(')');
    out.retain(|c| !c.is_whitespace());
    out
}

/// The nearest other call of `call`'s fluent chain in `function` whose callee matches:
/// a call made on its result further down (the first after it), else one it is made on
/// (the last before it).
fn chain_mate<'f>(function: &'f Function, call: &Call, callees: &[String]) -> Option<&'f Call> {
    let patterns = compile(callees);
    let own = call_text(call);
    let receiver: String = call
        .receiver
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let here = (call.position.line, call.position.column);
    let at = |c: &Call| (c.position.line, c.position.column);
    // The same call again (`ops.opsForValue()` starting another chain) ends this one.
    let next_same = function
        .calls
        .iter()
        .filter(|c| c.callee == call.callee && at(c) > here && call_text(c) == own)
        .map(at)
        .min();
    let named = |c: &&Call| patterns.iter().any(|p| p.matches(&c.callee));
    let later = function
        .calls
        .iter()
        .filter(named)
        .filter(|c| at(c) > here && next_same.is_none_or(|end| at(c) < end))
        .filter(|c| {
            c.receiver.as_deref().is_some_and(|r| {
                let r: String = r.chars().filter(|c| !c.is_whitespace()).collect();
                r.starts_with(&own)
            })
        })
        .min_by_key(|c| (c.position.line, c.position.column));
    later.or_else(|| {
        function
            .calls
            .iter()
            .filter(named)
            .filter(|c| (c.position.line, c.position.column) < here)
            .filter(|c| receiver.starts_with(&call_text(c)))
            .max_by_key(|c| (c.position.line, c.position.column))
    })
}

/// The operation and main table of a SQL or JPQL statement, as tracing agents
/// summarize it: the first keyword, and the identifier after `FROM` (`SELECT`,
/// `DELETE`), `INTO` (`INSERT`) or the keyword (`UPDATE`).
pub fn sql_summary(statement: &str) -> Option<(String, String)> {
    // `INSERT INTO stock(sku) ...`: the table ends where its column list starts.
    let words: Vec<&str> = statement
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ','))
        .filter(|w| !w.is_empty())
        .collect();
    let operation = words.first()?.to_ascii_uppercase();
    let after = |keyword: &str| {
        words
            .iter()
            .position(|w| w.eq_ignore_ascii_case(keyword))
            .and_then(|i| words.get(i + 1))
    };
    let target = match operation.as_str() {
        "SELECT" | "DELETE" => after("from"),
        "INSERT" => after("into"),
        "UPDATE" => words.get(1),
        _ => None,
    }?;
    let target = target.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'));
    (!target.is_empty()).then(|| (operation, target.to_string()))
}

/// The owner type of a function, declared in its file.
pub fn owner_of<'a>(file: &'a FileFacts, function: &Function) -> Option<&'a TypeDecl> {
    let owner = function.owner.as_deref()?;
    file.types
        .iter()
        .find(|t| t.name == owner || t.qualified == owner)
}

/// Whether an annotation's name (as written, or its last identifier) matches.
fn annotation_captures(
    pattern: &Pattern,
    annotation: &Annotation,
) -> Option<BTreeMap<String, String>> {
    pattern
        .captures(&annotation.name)
        .or_else(|| pattern.captures(base_name(&annotation.name)))
}

const HTTP_METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// Cleans an argument value for an attribute: HTTP methods upper case without their
/// enum qualifier (`RequestMethod.POST` → `POST`), others without quotes.
fn normalize(attr: &str, value: &str) -> Option<String> {
    let trimmed = value.trim().trim_matches(['"', '\'', '[', ']', ' ']);
    match attr {
        "method" => {
            let last = trimmed
                .rsplit('.')
                .next()
                .unwrap_or(trimmed)
                .to_ascii_uppercase();
            // A constant named after the method (`MethodPut`) names it too.
            let last = match last.strip_prefix("METHOD") {
                Some(rest) if HTTP_METHODS.contains(&rest) => rest.to_string(),
                _ => last,
            };
            HTTP_METHODS.contains(&last.as_str()).then_some(last)
        }
        "path" => (trimmed.is_empty() || trimmed.starts_with('/') || !trimmed.contains('.'))
            .then(|| trimmed.to_string()),
        _ => Some(trimmed.to_string()),
    }
}

/// The first value, unquoted, of a named argument among `annotations`, trying each
/// `(annotation, argument)` pair in order (`@Table(name)`, `@CollectionTable(name)`).
fn named_argument(annotations: &[Annotation], pairs: &[(String, String)]) -> Option<String> {
    pairs.iter().find_map(|(annotation, arg)| {
        annotations
            .iter()
            .filter(|a| base_name(&a.name) == annotation)
            .find_map(|a| {
                a.args
                    .iter()
                    .find(|(k, _)| k.as_deref() == Some(arg.as_str()))
                    .map(|(_, v)| v.trim_matches('"').to_string())
            })
    })
}

/// Values of annotation arguments named `keys` (`""`: positional).
fn argument_values(annotation: &Annotation, keys: &[String], attr: &str) -> Vec<String> {
    annotation
        .args
        .iter()
        .filter(|(key, _)| {
            keys.iter()
                .any(|k| key.as_deref().unwrap_or("") == k.as_str())
        })
        .filter_map(|(_, value)| normalize(attr, value))
        .collect()
}

/// What one mapping annotation of an entry rule says: its attributes (methods from the
/// table or the arguments, paths, destinations, captures).
fn mapping_attrs(
    rule: &EntryRule,
    annotation: &Annotation,
    args_from: &Annotation,
    declared: Option<(&FileFacts, &Function)>,
) -> Option<Attrs> {
    let (captures, table) = rule.annotations.iter().find_map(|(pattern, table)| {
        let pattern = Pattern::parse(pattern).ok()?;
        annotation_captures(&pattern, annotation).map(|c| (c, table))
    })?;
    Some(table_attrs(
        rule,
        captures,
        table,
        Some(args_from),
        declared,
    ))
}

/// The attributes of an entry rule's matched table entry: its templates over the
/// captures, then the annotation arguments `args_from` gives, then the defaults.
fn table_attrs(
    rule: &EntryRule,
    captures: BTreeMap<String, String>,
    table: &AttrTemplates,
    args_from: Option<&Annotation>,
    declared: Option<(&FileFacts, &Function)>,
) -> Attrs {
    let mut base = Attrs::new();
    for (name, value) in captures {
        set(&mut base, &name, value);
    }
    let mut attrs = base.clone();
    // Templates also read the declaring function and module, which are no attributes.
    if let Some((file, function)) = declared {
        base.entry("function".into())
            .or_insert_with(|| vec![function.name.clone()]);
        if !file.package.is_empty() {
            base.entry("module".into())
                .or_insert_with(|| vec![file.package.clone()]);
        }
    }
    expand_into(table, &base, &mut attrs);
    for (attr, keys) in &rule.args {
        if attrs.contains_key(attr) {
            continue;
        }
        let values = args_from
            .map(|a| argument_values(a, keys, attr))
            .unwrap_or_default();
        if !values.is_empty() {
            attrs.insert(attr.clone(), values);
        }
    }
    let mut defaults = Attrs::new();
    expand_into(&rule.defaults, &base, &mut defaults);
    for (name, values) in defaults {
        attrs.entry(name).or_insert(values);
    }
    attrs
}

/// Joins route parts with single slashes; `"/"` when all are empty.
pub fn join_route(prefix: &str, path: &str) -> String {
    let mut route = String::new();
    for part in [prefix, path] {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !part.starts_with('/') && !route.ends_with('/') {
            route.push('/');
        }
        if route.ends_with('/') && part.starts_with('/') {
            route.pop();
        }
        route.push_str(part);
    }
    if route.is_empty() { "/".into() } else { route }
}

/// Sets `method`, `methods` and `any_method` of an HTTP entry from its methods.
fn http_entry(framework: &str, route: String, methods: &[String], extra: &Attrs) -> Entry {
    let mut attrs = extra.clone();
    attrs.remove("path");
    set(&mut attrs, "route", route);
    if methods.is_empty() {
        set(&mut attrs, "method", "*");
        set(&mut attrs, "methods", "*");
        set(&mut attrs, "any_method", "true");
    } else {
        attrs.insert("method".into(), methods.to_vec());
        set(&mut attrs, "methods", methods.join(","));
    }
    Entry {
        kind: EntryKind::Http,
        framework: framework.to_string(),
        attrs,
    }
}

/// Entries a function declares by itself (annotations, decorators). `prefix_of` gives
/// the route prefix of a router variable; `service_attrs` holds `context_path`.
pub fn declared_entries(
    language: Language,
    file: &FileFacts,
    function: &Function,
    prefix_of: &dyn Fn(&str) -> String,
    service_attrs: &Attrs,
) -> Vec<(Entry, Option<crate::facts::Position>)> {
    let owner = owner_of(file, function);
    let mut entries: Vec<(Entry, Option<crate::facts::Position>)> = Vec::new();
    for rule in knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.entries)
    {
        if !rule.owner_annotations.is_empty() {
            let patterns = compile(&rule.owner_annotations);
            let owned = owner.is_some_and(|t| {
                t.annotations
                    .iter()
                    .any(|a| patterns.iter().any(|p| annotation_captures(p, a).is_some()))
            });
            if !owned {
                continue;
            }
        }
        let owner_paths = match &rule.owner_paths_from {
            Some(template) => {
                let key = owner.map(|t| template.replace("{owner}", &t.qualified));
                match key.and_then(|key| service_attrs.get(&key)) {
                    Some(paths) if !paths.is_empty() => Some(paths),
                    _ => continue,
                }
            }
            None => None,
        };
        let mut owner_captures = BTreeMap::new();
        if !rule.owner_supertypes.is_empty() {
            let patterns = compile(&rule.owner_supertypes);
            let found = owner.and_then(|t| {
                t.supertypes.iter().find_map(|written| {
                    let written = written.split('<').next().unwrap_or(written).trim();
                    patterns
                        .iter()
                        .find_map(|p| p.captures(written))
                        .map(|captures| (captures, written))
                })
            });
            let Some((captures, written)) = found else {
                continue;
            };
            owner_captures = captures;
            owner_captures.insert("supertype_import".into(), written_type_path(file, written));
        }
        if !rule.param_types.is_empty() {
            let patterns = compile(&rule.param_types);
            if !function
                .params
                .iter()
                .any(|p| patterns.iter().any(|pattern| pattern.matches(&p.type_name)))
            {
                continue;
            }
        }
        let owner_args = rule.args_from_owner.as_deref().and_then(|name| {
            owner?
                .annotations
                .iter()
                .find(|a| base_name(&a.name) == name)
        });
        if rule.args_from_owner.is_some() && owner_args.is_none() {
            continue;
        }
        let sibling_args = rule.args_from_function.as_deref().and_then(|name| {
            function
                .annotations
                .iter()
                .find(|a| base_name(&a.name) == name)
        });
        let mut found: Vec<(Attrs, Option<crate::facts::Position>)> = Vec::new();
        for annotation in &function.annotations {
            let args_from = owner_args.or(sibling_args).unwrap_or(annotation);
            if let Some(mut attrs) =
                mapping_attrs(rule, annotation, args_from, Some((file, function)))
            {
                for (name, value) in &owner_captures {
                    attrs
                        .entry(name.clone())
                        .or_insert_with(|| vec![value.clone()]);
                }
                found.push((attrs, Some(annotation.position)));
            }
        }
        // Methods served by their name: the arguments are the owner annotation's.
        if let Some((captures, table)) = rule.functions.iter().find_map(|(pattern, table)| {
            Pattern::parse(pattern)
                .ok()?
                .captures(&function.name)
                .map(|c| (c, table))
        }) {
            let mut captures = captures;
            for (name, value) in &owner_captures {
                captures
                    .entry(name.clone())
                    .or_insert_with(|| value.clone());
            }
            found.push((
                table_attrs(rule, captures, table, owner_args, Some((file, function))),
                Some(function.position),
            ));
        }
        for (attrs, at) in found {
            match rule.kind {
                EntryKind::Http => {
                    let mut prefixes: Vec<String> = rule
                        .prefix_annotation
                        .as_deref()
                        .map(|name| {
                            owner
                                .into_iter()
                                .flat_map(|t| &t.annotations)
                                .filter(|a| base_name(&a.name) == name)
                                .flat_map(|a| {
                                    argument_values(
                                        a,
                                        &["value".into(), "path".into(), String::new()],
                                        "path",
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(router) = rule
                        .router_capture
                        .as_deref()
                        .and_then(|c| first(&attrs, c))
                    {
                        prefixes = vec![prefix_of(router)];
                    }
                    if prefixes.is_empty() {
                        prefixes.push(String::new());
                    }
                    let context = first(service_attrs, "context_path").unwrap_or("");
                    let service_prefix = rule
                        .service_prefix
                        .as_deref()
                        .and_then(|attr| first(service_attrs, attr))
                        .unwrap_or("");
                    let context = join_route(context, service_prefix);
                    let paths = owner_paths
                        .or(attrs.get("path"))
                        .cloned()
                        .unwrap_or_else(|| vec![String::new()]);
                    let methods = attrs.get("method").cloned().unwrap_or_default();
                    for prefix in &prefixes {
                        for path in &paths {
                            let route = join_route(&context, &join_route(prefix, path));
                            entries
                                .push((http_entry(&rule.framework, route, &methods, &attrs), at));
                        }
                    }
                }
                EntryKind::Consumer => {
                    for destination in attrs.get("destination").cloned().unwrap_or_default() {
                        let mut attrs = attrs.clone();
                        set(&mut attrs, "destination", destination);
                        entries.push((
                            Entry {
                                kind: rule.kind,
                                framework: rule.framework.clone(),
                                attrs,
                            },
                            at,
                        ));
                    }
                }
                EntryKind::Scheduled | EntryKind::Rpc => entries.push((
                    Entry {
                        kind: rule.kind,
                        framework: rule.framework.clone(),
                        attrs,
                    },
                    at,
                )),
            }
        }
    }
    let mut unique: Vec<(Entry, Option<crate::facts::Position>)> = Vec::new();
    for (entry, at) in entries {
        if !unique.iter().any(|(e, _)| *e == entry) {
            unique.push((entry, at));
        }
    }
    unique
}

/// The qualified name a type name written in a file stands for: as written when it
/// is qualified (`a.b.FooGrpc.Stub` → `a.b.FooGrpc`, up to the first type name),
/// else the import binding its first identifier, else that identifier in the file's
/// own package.
pub fn written_type_path(file: &FileFacts, written: &str) -> String {
    let segments: Vec<&str> = written.split('.').collect();
    let first_type = segments
        .iter()
        .position(|s| s.starts_with(char::is_uppercase))
        .unwrap_or(0);
    if first_type > 0 {
        return segments[..=first_type].join(".");
    }
    let name = segments[0];
    if let Some(import) = file.imports.iter().find(|i| {
        let bound = i.alias.as_deref().or_else(|| i.path.rsplit('.').next());
        i.names.is_empty() && bound == Some(name)
    }) {
        return import.path.clone();
    }
    if file.package.is_empty() {
        name.to_string()
    } else {
        format!("{}.{name}", file.package)
    }
}

/// A call through an interface a framework makes into remote calls (a declarative
/// HTTP client), as an HTTP effect of the method's mapping.
pub fn client_effect(language: Language, client: &TypeDecl, method: &Function) -> Option<Effect> {
    let knowledge = knowledge::embedded();
    knowledge
        .frameworks_of(language)
        .flat_map(|f| &f.clients)
        .find_map(|rule| {
            let annotation = client
                .annotations
                .iter()
                .find(|a| base_name(&a.name) == rule.annotation)?;
            let value = |keys: &[String]| argument_values(annotation, keys, "").into_iter().next();
            let base = value(&rule.url_args)
                .filter(|u| u.contains("://"))
                .or_else(|| value(&rule.name_args).map(|name| format!("http://{name}")))?;
            let prefix = value(&rule.path_args).unwrap_or_default();
            let mappings = knowledge
                .frameworks_of(language)
                .flat_map(|f| &f.entries)
                .find(|e| e.framework == rule.mappings_of)?;
            let attrs = method
                .annotations
                .iter()
                .find_map(|a| mapping_attrs(mappings, a, a, None))?;
            let path = join_route(&prefix, first(&attrs, "path").unwrap_or(""));
            let mut out = Attrs::new();
            set(
                &mut out,
                "url",
                format!("{}{path}", base.trim_end_matches('/')),
            );
            if let Some(method) = first(&attrs, "method") {
                set(&mut out, "method", method);
            }
            Some(Effect {
                kind: EffectKind::Http,
                library: rule.library.clone(),
                attrs: out,
            })
        })
}

/// What a registration call says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// What the handler serves.
    pub kind: EntryKind,
    /// Framework.
    pub framework: String,
    /// The route, for HTTP.
    pub route: Option<String>,
    /// The handler's name (a function or a class).
    pub handler: Option<String>,
    /// A module whose routes are included under `route`.
    pub include: Option<String>,
    /// Methods of a class handler that serve the HTTP method of their name.
    pub class_handler_methods: Vec<String>,
    /// Patterns on chained calls listing the HTTP methods ([`chained_methods`]).
    pub methods_calls: Vec<String>,
    /// Patterns on calls of the receiver chain giving the route ([`chained_route`]).
    pub route_calls: Vec<String>,
    /// The framework names the route without its trailing slash.
    pub trim_trailing_slash: bool,
    /// HTTP methods, when the call lists them.
    pub methods: Vec<String>,
    /// The RPC service name.
    pub service: Option<String>,
    /// The route is a regular expression to reverse with the handler's parameters
    /// ([`reverse_regex_route`]).
    pub regex_route: bool,
    /// More attributes.
    pub attrs: Attrs,
}

/// The value of a keyword argument (`prefix="/api"`) of a call, when literal.
pub fn keyword_arg(call: &Call, keyword: &str) -> Option<String> {
    call.arg_texts.iter().enumerate().find_map(|(i, text)| {
        let (name, _) = text.split_once('=')?;
        (name.trim() == keyword)
            .then(|| call.args.get(i).cloned().flatten())
            .flatten()
    })
}

fn keyword_text<'a>(call: &'a Call, keyword: &str) -> Option<&'a str> {
    call.arg_texts.iter().find_map(|text| {
        let (name, value) = text.split_once('=')?;
        (name.trim() == keyword).then_some(value.trim())
    })
}

/// The last identifier of a handler expression: `http.HandlerFunc(s.search)` →
/// `search`, `views.OrderView.as_view()` → `OrderView` (after the suffixes).
fn handler_name(text: &str, suffixes: &[String]) -> Option<String> {
    let mut text = text.trim();
    for suffix in suffixes {
        if let Some(stripped) = text.strip_suffix(suffix.as_str()) {
            text = stripped;
        }
    }
    let inner = text
        .rsplit('(')
        .next()
        .unwrap_or(text)
        .trim_end_matches(')')
        .trim();
    // `views.index`, or a method reference `handler::get`.
    let name = inner.rsplit(['.', ':']).next().unwrap_or(inner).trim();
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then(|| name.to_string())
}

/// Reads a registration call (`mux.HandleFunc("/x", h)`, `path("x/", views.x)`,
/// `pb.RegisterGeoServer(s, srv)`), if a framework rule of the language knows it: one
/// registration, or one per tuple of a rule's `tuples_arg`, by the first rule that reads
/// any.
pub fn registrations(
    language: Language,
    file: &FileFacts,
    call: &Call,
    top_level: bool,
) -> Vec<Registration> {
    for rule in knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.registrations)
    {
        if rule.top_level && !top_level {
            continue;
        }
        if !rule.file_imports.is_empty() {
            let patterns = compile(&rule.file_imports);
            if !file
                .imports
                .iter()
                .any(|i| patterns.iter().any(|p| p.matches(&i.path)))
            {
                continue;
            }
        }
        if rule
            .receiver
            .is_some_and(|wanted| wanted != call.receiver.is_some())
        {
            continue;
        }
        if !rule.receiver_texts.is_empty()
            && !call
                .receiver
                .as_deref()
                .is_some_and(|r| compile(&rule.receiver_texts).iter().any(|p| p.matches(r)))
        {
            continue;
        }
        let Some(captures) = first_match(&rule.callees, &call.callee) else {
            continue;
        };
        let found: Vec<Registration> = match rule.tuples_arg {
            None => read_registration(rule, call, &captures)
                .into_iter()
                .collect(),
            Some(index) => call
                .arg_tuples
                .iter()
                .filter(|(i, _)| *i == index)
                .flat_map(|(_, tuples)| tuples)
                .filter_map(|tuple| {
                    let (args, arg_texts) = tuple.iter().cloned().unzip();
                    let item = Call {
                        args,
                        arg_texts,
                        ..call.clone()
                    };
                    read_registration(rule, &item, &captures)
                })
                .collect(),
        };
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// Whether a call registers anything ([`registrations`]).
pub fn is_registration(language: Language, file: &FileFacts, call: &Call, top_level: bool) -> bool {
    !registrations(language, file, call, top_level).is_empty()
}

fn read_registration(
    rule: &knowledge::model::RegistrationRule,
    call: &Call,
    captures: &BTreeMap<String, String>,
) -> Option<Registration> {
    let mut base = Attrs::new();
    set(&mut base, "callee", call.callee.clone());
    for (name, value) in captures {
        set(&mut base, name, value.clone());
    }
    for (i, arg) in call.args.iter().enumerate() {
        if let Some(arg) = arg {
            set(&mut base, &format!("arg{i}"), arg.clone());
        }
    }
    let mut route_method = None;
    let route = match rule.route_arg {
        Some(index) => {
            let mut route = call.args.get(index)?.clone()?;
            if rule.method_in_route
                && let Some((method, path)) = split_method_prefix(&route)
            {
                route_method = Some(method);
                route = path;
            }
            if !rule.route_patterns.is_empty()
                && !compile(&rule.route_patterns)
                    .iter()
                    .any(|p| p.matches(&route))
            {
                return None;
            }
            Some(route)
        }
        None => None,
    };
    let handler_text = rule
        .handler_kwarg
        .as_deref()
        .and_then(|k| keyword_text(call, k))
        .or_else(|| {
            rule.handler_arg
                .and_then(|i| call.arg_texts.get(i))
                .map(String::as_str)
                .filter(|t| !t.contains('='))
        });
    let include = handler_text.and_then(|text| {
        compile(&rule.include_patterns)
            .iter()
            .find_map(|p| p.captures(text.trim()))
            .and_then(|c| c.get("module").cloned())
    });
    let handler = if include.is_some() {
        None
    } else {
        handler_text.and_then(|t| handler_name(t, &rule.handler_suffixes))
    };
    // A handler written in place (`func(w, r) {...}`) has no name, but the route
    // is still served: the entry belongs to the registering function.
    // So is one a call builds (`transport.NewServer(endpoint, ...)`) when its
    // name says nothing.
    let inline_handler = rule
        .handler_arg
        .and_then(|i| call.arg_texts.get(i))
        .is_some_and(|t| t.trim_start().starts_with("func(") || t.contains('('));
    if rule.kind == EntryKind::Http && handler.is_none() && include.is_none() && !inline_handler {
        return None;
    }
    let methods: Vec<String> = rule
        .methods_kwarg
        .as_deref()
        .and_then(|k| keyword_text(call, k))
        .map(|list| {
            list.split(',')
                .filter_map(|m| normalize("method", m))
                .collect()
        })
        .unwrap_or_default();
    let mut attrs = Attrs::new();
    expand_into(&rule.attrs, &base, &mut attrs);
    let methods = match route_method {
        Some(method) => vec![method],
        None if methods.is_empty() => attrs.get("method").cloned().unwrap_or_default(),
        None => methods,
    };
    Some(Registration {
        kind: rule.kind,
        framework: rule.framework.clone(),
        route,
        handler,
        include,
        class_handler_methods: rule.class_handler_methods.clone(),
        methods_calls: rule.methods_calls.clone(),
        route_calls: rule.route_calls.clone(),
        trim_trailing_slash: rule.trim_trailing_slash,
        methods,
        service: rule
            .service_capture
            .as_deref()
            .and_then(|c| captures.get(c).cloned()),
        regex_route: rule.regex_route,
        attrs,
    })
}

/// A regular-expression route reversed into a template, as Tornado's
/// `PathMatches._find_groups` and a handler's parameters do: anchors dropped, escapes
/// outside groups unescaped, each group `{param}` by the handler's parameters in order
/// (`%s` for every group when their number differs). `None` when the expression cannot
/// be reversed (an escape of a letter or digit outside a group, a group that captures
/// nothing such as `(?:...)`, unbalanced parentheses).
pub fn reverse_regex_route(route: &str, params: &[String]) -> Option<String> {
    let pattern = route.strip_prefix('^').unwrap_or(route);
    let pattern = pattern.strip_suffix('$').unwrap_or(pattern);
    let opened = pattern.matches('(').count();
    let captures = pattern.match_indices('(').filter(|(i, _)| {
        let rest = &pattern[i + 1..];
        !rest.starts_with('?') || rest.starts_with("?P<")
    });
    if captures.count() != opened {
        return None;
    }
    let mut pieces: Vec<String> = Vec::new();
    let mut groups = 0;
    for (k, fragment) in pattern.split('(').enumerate() {
        let literal = if k == 0 {
            fragment
        } else {
            let close = fragment.find(')')?;
            groups += 1;
            pieces.push("\u{0}".to_string());
            &fragment[close + 1..]
        };
        let mut text = String::new();
        let mut chars = literal.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let next = chars.next()?;
                if next.is_ascii_alphanumeric() {
                    return None;
                }
                text.push(next);
            } else {
                text.push(c);
            }
        }
        pieces.push(text);
    }
    let mut names = params.iter();
    Some(
        pieces
            .into_iter()
            .map(|piece| match piece.as_str() {
                "\u{0}" if params.len() == groups => {
                    format!("{{{}}}", names.next().map_or("", String::as_str))
                }
                "\u{0}" => "%s".to_string(),
                _ => piece,
            })
            .collect(),
    )
}

/// Spans a function's calls open by the frameworks' `spans` rules, named by an
/// argument (a tracing middleware given its operation name), in call order.
pub fn declared_spans(
    language: Language,
    file: &FileFacts,
    function: &Function,
) -> Vec<crate::facts::ManualSpan> {
    let mut out = Vec::new();
    for rule in knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.spans)
    {
        let imports = compile(&rule.file_imports);
        if !file
            .imports
            .iter()
            .any(|i| imports.iter().any(|p| p.matches(&i.path)))
        {
            continue;
        }
        let callees = compile(&rule.callees);
        for call in &function.calls {
            if !callees.iter().any(|p| p.matches(&call.callee)) {
                continue;
            }
            if let Some(name) = call.args.get(rule.name_arg).cloned().flatten() {
                out.push(crate::facts::ManualSpan {
                    name,
                    api: rule.api.clone(),
                    position: call.position,
                });
            }
        }
    }
    out.sort_by_key(|s| s.position);
    out
}

/// Deepest chain of router derivations followed (`r = r.Group(...)` must not loop).
const MAX_ROUTER_DEPTH: usize = 16;

/// The call of `function` that `call`'s receiver is, when the receiver is a call
/// chained on (`r.PathPrefix("/api").Subrouter()`: the `PathPrefix` call): it starts
/// where `call` starts and its text opens the receiver's.
fn receiver_call<'f>(function: &'f Function, call: &Call) -> Option<&'f Call> {
    let receiver = call.receiver.as_deref()?;
    function.calls.iter().find(|c| {
        c.position == call.position
            && !std::ptr::eq(*c, call)
            && c.receiver.as_deref().is_some_and(|r| {
                receiver
                    .strip_prefix(r)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .and_then(|rest| rest.strip_prefix(c.callee.as_str()))
                    .is_some_and(is_one_argument_list)
            })
    })
}

/// Whether `text` is one parenthesized argument list, `(` to its matching `)` and
/// nothing after (`("/x")`, not `("/x").Path("/y")`); quotes are skipped.
fn is_one_argument_list(text: &str) -> bool {
    if !text.starts_with('(') {
        return false;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1 == text.len();
                }
            }
            _ => {}
        }
    }
    false
}

/// The route prefix of the router `call` is made on, by the frameworks' `routers`
/// rules read within `function`: sub-routers (`groups`, `same_prefix`) followed back
/// through chained calls and the variables they are assigned to, the router parameter
/// of a `scopes` call's function literal, and `mounts_at` calls mounting a variable.
/// `mounted` gives the prefix `function` itself is mounted under (it builds the router
/// a `mounts_at` call mounts), for routers it makes from nothing. Empty when none.
pub fn receiver_prefix(
    language: Language,
    function: &Function,
    call: &Call,
    mounted: &str,
) -> String {
    let rules: Vec<&crate::knowledge::model::RouterRule> = knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.routers)
        .collect();
    if rules.iter().all(|r| {
        r.groups.is_empty()
            && r.same_prefix.is_empty()
            && r.scopes.is_empty()
            && r.mounts_at.is_empty()
    }) {
        return String::new();
    }
    let patterns = |list: fn(&crate::knowledge::model::RouterRule) -> &Vec<String>| {
        rules
            .iter()
            .flat_map(|r| compile(list(r)))
            .collect::<Vec<_>>()
    };
    let (groups, same, scopes, mounts) = (
        patterns(|r| &r.groups),
        patterns(|r| &r.same_prefix),
        patterns(|r| &r.scopes),
        patterns(|r| &r.mounts_at),
    );
    let any = |list: &[Pattern], callee: &str| list.iter().any(|p| p.matches(callee));
    RouterWalk {
        function,
        mounted,
        is_group: &|c| any(&groups, c),
        is_same: &|c| any(&same, c),
        is_scope: &|c| any(&scopes, c),
        is_mount: &|c| any(&mounts, c),
    }
    .of_receiver(call, 0)
}

/// The walk behind [`receiver_prefix`].
struct RouterWalk<'a> {
    function: &'a Function,
    mounted: &'a str,
    is_group: &'a dyn Fn(&str) -> bool,
    is_same: &'a dyn Fn(&str) -> bool,
    is_scope: &'a dyn Fn(&str) -> bool,
    is_mount: &'a dyn Fn(&str) -> bool,
}

impl RouterWalk<'_> {
    /// The prefix of the router `call` is called on.
    fn of_receiver(&self, call: &Call, depth: usize) -> String {
        if depth > MAX_ROUTER_DEPTH {
            return String::new();
        }
        if let Some(inner) = receiver_call(self.function, call) {
            return self.of_result(inner, depth + 1);
        }
        let Some(variable) = call.receiver.as_deref() else {
            return String::new();
        };
        // The router parameter of a scope's function literal.
        if let Some(closure) = &call.in_closure
            && closure.params.first().is_some_and(|p| p == variable)
            && (self.is_scope)(&closure.callee)
            && let Some(scope) = self
                .function
                .calls
                .iter()
                .find(|c| c.position == closure.call_position && c.callee == closure.callee)
        {
            return self.of_result(scope, depth + 1);
        }
        // The last assignment of the variable before the call.
        if let Some(made) = self
            .function
            .calls
            .iter()
            .rev()
            .find(|c| c.assigned_to.as_deref() == Some(variable) && c.position < call.position)
        {
            let own = self.of_result(made, depth + 1);
            let made_here = !(self.is_group)(&made.callee)
                && !(self.is_same)(&made.callee)
                && !(self.is_scope)(&made.callee);
            if !made_here {
                return own;
            }
            // A router made here: mounted by a call of this function, else under the
            // prefix this function is mounted with.
            return self
                .mounted_variable(variable, depth)
                .unwrap_or_else(|| self.mounted.to_string());
        }
        self.mounted_variable(variable, depth)
            .unwrap_or_else(|| self.mounted.to_string())
    }

    /// The prefix a `mounts_at` call of the function mounts `variable` under.
    fn mounted_variable(&self, variable: &str, depth: usize) -> Option<String> {
        let mount = self.function.calls.iter().find(|c| {
            (self.is_mount)(&c.callee) && c.arg_texts.get(1).is_some_and(|t| t.trim() == variable)
        })?;
        let path = mount.args.first().cloned().flatten().unwrap_or_default();
        Some(join_prefix(&self.of_receiver(mount, depth + 1), &path))
    }

    /// The prefix of the router a call returns (or hands to its function literal).
    fn of_result(&self, call: &Call, depth: usize) -> String {
        if depth > MAX_ROUTER_DEPTH {
            return String::new();
        }
        let callee = call.callee.as_str();
        if (self.is_group)(callee) || (self.is_scope)(callee) {
            let path = call.args.first().cloned().flatten().unwrap_or_default();
            return join_prefix(&self.of_receiver(call, depth + 1), &path);
        }
        if (self.is_same)(callee) {
            return self.of_receiver(call, depth + 1);
        }
        String::new()
    }
}

/// A prefix and a path joined with one slash between them; empty when both are.
fn join_prefix(prefix: &str, path: &str) -> String {
    if prefix.is_empty() && path.is_empty() {
        return String::new();
    }
    join_route(prefix, path)
}

/// The HTTP methods calls chained on a registration list (`.Methods("GET", "POST")`),
/// by the registration rule's `methods_calls`; empty when none.
pub fn chained_methods(
    function: &Function,
    call: &Call,
    registration: &Registration,
) -> Vec<String> {
    if registration.methods_calls.is_empty() {
        return Vec::new();
    }
    let patterns = compile(&registration.methods_calls);
    function
        .calls
        .iter()
        .filter(|c| patterns.iter().any(|p| p.matches(&c.callee)))
        .filter(|c| receiver_call(function, c).is_some_and(|inner| std::ptr::eq(inner, call)))
        .flat_map(|c| &c.arg_texts)
        .filter_map(|m| normalize("method", m))
        .collect()
}

/// The route and methods a registration's receiver chain gives (`r.Methods("GET")
/// .Path("/x").Handler(h)`: `/x`, `GET`), by its rule's `route_calls` and
/// `methods_calls`, and the chain's first call, whose receiver's prefix applies.
pub fn chained_route<'f>(
    function: &'f Function,
    call: &'f Call,
    registration: &Registration,
) -> Option<(String, Vec<String>, &'f Call)> {
    if registration.route_calls.is_empty() {
        return None;
    }
    let routes = compile(&registration.route_calls);
    let methods_calls = compile(&registration.methods_calls);
    let (mut route, mut methods, mut base) = (None, Vec::new(), call);
    let mut depth = 0;
    while let Some(inner) = receiver_call(function, base) {
        depth += 1;
        if depth > MAX_ROUTER_DEPTH {
            break;
        }
        if route.is_none() && routes.iter().any(|p| p.matches(&inner.callee)) {
            route = inner.args.first().cloned().flatten();
        }
        if methods_calls.iter().any(|p| p.matches(&inner.callee)) {
            methods.extend(
                inner
                    .arg_texts
                    .iter()
                    .filter_map(|m| normalize("method", m)),
            );
        }
        base = inner;
    }
    Some((route?, methods, base))
}

/// The function names whose router a `mounts_at` call mounts under a path
/// (`r.Mount("/users", usersRouter())` → (`usersRouter`, prefix of `r` + `/users`)).
pub fn mounted_functions(language: Language, function: &Function) -> Vec<(String, String)> {
    let mounts: Vec<Pattern> = knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.routers)
        .flat_map(|r| compile(&r.mounts_at))
        .collect();
    let mut out = Vec::new();
    if mounts.is_empty() {
        return out;
    }
    for call in &function.calls {
        if !mounts.iter().any(|p| p.matches(&call.callee)) {
            continue;
        }
        let Some(text) = call.arg_texts.get(1).map(|t| t.trim()) else {
            continue;
        };
        let Some(called) = text.strip_suffix(')').and_then(|t| t.split_once('(')) else {
            continue;
        };
        let Some(name) = handler_name(called.0, &[]) else {
            continue;
        };
        let path = call.args.first().cloned().flatten().unwrap_or_default();
        let prefix = join_prefix(&receiver_prefix(language, function, call, ""), &path);
        out.push((name, prefix));
    }
    out
}

/// `"GET /items/{id}"` → (`GET`, `/items/{id}`): a route led by an HTTP method token
/// (upper-case letters) and blanks, as Go 1.22 `ServeMux` patterns write it.
fn split_method_prefix(route: &str) -> Option<(String, String)> {
    let (method, path) = route.trim().split_once([' ', '\t'])?;
    let path = path.trim_start();
    (!method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()) && path.starts_with('/'))
        .then(|| (method.to_string(), path.to_string()))
}

/// An HTTP entry for a registered route.
pub fn registered_entry(registration: &Registration, route: String, methods: &[String]) -> Entry {
    http_entry(&registration.framework, route, methods, &registration.attrs)
}

/// Route prefixes of module-level routers in a file (`bp = Blueprint(...,
/// url_prefix=...)`): (variable, prefix).
pub fn router_prefixes(language: Language, file: &FileFacts) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.routers)
    {
        let types = compile(&rule.types);
        let globals = file
            .globals
            .iter()
            .filter(|g| types.iter().any(|p| p.matches(base_name(&g.type_name))));
        let calls: Vec<&Call> = file
            .top_level_calls
            .iter()
            .filter(|c| types.iter().any(|p| p.matches(&c.callee)))
            .collect();
        for (k, global) in globals.enumerate() {
            let prefix = calls
                .get(k)
                .and_then(|call| {
                    rule.prefix_kwargs
                        .iter()
                        .find_map(|kw| keyword_arg(call, kw))
                })
                .unwrap_or_default();
            out.push((global.name.clone(), prefix));
        }
    }
    out
}

/// Prefixes routers are mounted with (`app.include_router(router, prefix="/api")`):
/// (variable, prefix).
pub fn mount_prefix(language: Language, call: &Call) -> Option<(String, String)> {
    knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.routers)
        .find_map(|rule| {
            if !compile(&rule.mounts)
                .iter()
                .any(|p| p.matches(&call.callee))
            {
                return None;
            }
            let variable = call
                .arg_texts
                .first()?
                .rsplit('.')
                .next()?
                .trim()
                .to_string();
            let prefix = rule
                .prefix_kwargs
                .iter()
                .find_map(|kw| keyword_arg(call, kw))
                .unwrap_or_default();
            Some((variable, prefix))
        })
}

/// Service attributes from configuration files (`(dotted key, value)` pairs) and
/// build dependencies (lower-case names), by the frameworks of a language.
pub fn service_attrs(
    language: Language,
    config: &[(String, String)],
    dependencies: &[String],
) -> Attrs {
    let mut attrs = Attrs::new();
    for file in knowledge::embedded().frameworks_of(language) {
        for rule in &file.config {
            if let Some(prefix) = &rule.key_prefix {
                for (key, value) in config {
                    if let Some(rest) = key.strip_prefix(prefix.as_str()) {
                        let values = attrs.entry(format!("{}.{rest}", rule.attr)).or_default();
                        if !values.contains(value) {
                            values.push(value.clone());
                        }
                    }
                }
                continue;
            }
            if attrs.contains_key(&rule.attr) {
                continue;
            }
            let Some(value) = rule
                .keys
                .iter()
                .find_map(|key| config.iter().find(|(k, _)| k == key).map(|(_, v)| v))
            else {
                continue;
            };
            let value = deployment_placeholders(value);
            let found = match &rule.pattern {
                Some(pattern) => Pattern::parse(pattern)
                    .ok()
                    .and_then(|p| p.captures(&value))
                    .and_then(|c| c.get(&rule.attr).cloned()),
                None => Some(value),
            };
            if let Some(found) = found {
                set(&mut attrs, &rule.attr, rule.value.clone().unwrap_or(found));
            }
        }
        for rule in &file.dependencies {
            let patterns = compile(&rule.dependencies);
            if dependencies
                .iter()
                .any(|d| patterns.iter().any(|p| p.matches(d)))
            {
                for (name, values) in &rule.attrs {
                    attrs.entry(name.clone()).or_insert_with(|| values.clone());
                }
            }
        }
    }
    attrs
}

/// Service attributes that `config` rules take from type annotations (JAX-RS
/// `@ApplicationPath` on the `Application` subclass), for attributes `attrs` lacks.
/// Types are visited in the order given (files sorted by path): the first wins.
pub fn annotation_service_attrs<'a>(
    language: Language,
    types: impl Iterator<Item = &'a TypeDecl> + Clone,
    attrs: &mut Attrs,
) {
    let value_keys = ["value".to_string(), String::new()];
    for file in knowledge::embedded().frameworks_of(language) {
        for rule in &file.config {
            if rule.type_annotations.is_empty() || attrs.contains_key(&rule.attr) {
                continue;
            }
            let patterns = compile(&rule.type_annotations);
            let found = types.clone().flat_map(|t| &t.annotations).find_map(|a| {
                patterns
                    .iter()
                    .any(|p| annotation_captures(p, a).is_some())
                    .then(|| argument_values(a, &value_keys, "path").into_iter().next())
                    .flatten()
            });
            if let Some(found) = found {
                set(attrs, &rule.attr, rule.value.clone().unwrap_or(found));
            }
        }
    }
}

/// `${NAME:default}` placeholders are set at deployment: they become `*`, a value that
/// makes the names built from it globs.
fn deployment_placeholders(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let mut depth = 1;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push('*');
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The spans a framework's own code opens inside a request served by an entry of
/// `framework` (its inner rules whose dependency conditions the service meets): the
/// attributes of each, the entry's `framework` among them. None without build files.
/// The entries frameworks serve by themselves in a service that depends on them,
/// anchored to `function` (the one starting the application).
pub fn served_entries(
    language: Language,
    file: &FileFacts,
    function: &Function,
    dependencies: Option<&[String]>,
    service_attrs: &Attrs,
) -> Vec<Entry> {
    let Some(dependencies) = dependencies else {
        return Vec::new();
    };
    let owner = owner_of(file, function);
    let mut out = Vec::new();
    for rule in knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.served)
    {
        let depends = compile(&rule.requires_dependency);
        if !dependencies
            .iter()
            .any(|d| depends.iter().any(|p| p.matches(d)))
            || !compile(&rule.anchor_functions)
                .iter()
                .any(|p| p.matches(&function.name))
        {
            continue;
        }
        let annotations = compile(&rule.anchor_owner_annotations);
        let anchored = annotations.is_empty()
            || owner.is_some_and(|t| {
                t.annotations.iter().any(|a| {
                    annotations
                        .iter()
                        .any(|p| annotation_captures(p, a).is_some())
                })
            });
        if !anchored {
            continue;
        }
        let mut base = Attrs::new();
        set(&mut base, "framework", &rule.framework);
        let mut attrs = base.clone();
        expand_into(&rule.attrs, &base, &mut attrs);
        if rule.kind == EntryKind::Http && !rule.routes.is_empty() {
            let context = join_route(
                first(service_attrs, "context_path").unwrap_or(""),
                rule.service_prefix
                    .as_deref()
                    .and_then(|attr| first(service_attrs, attr))
                    .unwrap_or(""),
            );
            let methods = attrs.get("method").cloned().unwrap_or_default();
            for route in &rule.routes {
                let route = join_route(&context, route);
                out.push(http_entry(&rule.framework, route, &methods, &attrs));
            }
            continue;
        }
        out.push(Entry {
            kind: rule.kind,
            framework: rule.framework.clone(),
            attrs,
        });
    }
    out
}

/// A span a framework opens inside the requests of one of its entries.
#[derive(Debug, Clone)]
pub struct InnerSpan {
    /// Its attributes (`framework` and the rule's).
    pub attrs: Attrs,
    /// It happens in every request (else only in failing ones).
    pub every_request: bool,
    /// The class the profiles name it as.
    pub class: SiteClass,
}

/// The spans frameworks open inside the requests of an entry of `framework`.
pub fn inner_spans(
    language: Language,
    framework: &str,
    dependencies: Option<&[String]>,
) -> Vec<InnerSpan> {
    let Some(dependencies) = dependencies else {
        return Vec::new();
    };
    let depends = |list: &[String]| {
        let patterns = compile(list);
        dependencies
            .iter()
            .any(|d| patterns.iter().any(|p| p.matches(d)))
    };
    let mut out = Vec::new();
    for rule in knowledge::embedded()
        .frameworks_of(language)
        .flat_map(|f| &f.inner)
        .filter(|r| r.entry_framework == framework)
    {
        if !depends(&rule.requires_dependency) || depends(&rule.not_dependency) {
            continue;
        }
        let mut base = Attrs::new();
        set(&mut base, "framework", framework);
        let mut attrs = base.clone();
        expand_into(&rule.attrs, &base, &mut attrs);
        out.push(InnerSpan {
            attrs,
            every_request: rule.every_request,
            class: rule.site,
        });
    }
    out
}

/// A span site as the profiles see it.
#[derive(Debug, Clone, Copy)]
pub struct SiteView<'a> {
    /// The kind of site.
    pub class: SiteClass,
    /// Everything known about it (the effect's or entry's attributes, the function's
    /// `class` and `function`, `library` / `framework`, service attributes).
    pub attrs: &'a Attrs,
    /// The service's build dependencies, lower case; `None` when it has no build file.
    pub dependencies: Option<&'a [String]>,
}

/// One predicted name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PredictedName {
    /// The profile.
    pub profile: String,
    /// The matcher.
    pub matcher: Matcher,
    /// Whether the name is shared by every site with the same name (`GET`).
    pub shared: bool,
    /// The span as it starts, when the instrumentation renames it later.
    pub start: Option<PredictedStart>,
}

/// A span at its start: names (exact), kind, and start-attribute conditions
/// (key, matcher), for a rule a head sampler can apply.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PredictedStart {
    /// Exact names at start.
    pub names: Vec<Matcher>,
    /// The span kind.
    pub kind: policy_schema::SpanKind,
    /// (attribute key, matcher of its value), all of which must hold.
    pub attributes: Vec<(String, Matcher)>,
}

/// The start form of a name rule for a site; `None` when some template has no value.
fn start_of(start: &crate::knowledge::model::StartForm, attrs: &Attrs) -> Option<PredictedStart> {
    let mut names: Vec<Matcher> = Vec::new();
    for text in &start.names {
        for name in Template::parse(text).ok()?.expand(attrs) {
            if !name.contains(['*', '{', '}']) && !names.contains(&Matcher::Exact(name.clone())) {
                names.push(Matcher::Exact(name));
            }
        }
    }
    let mut attributes = Vec::new();
    for (key, text) in &start.attributes {
        // One value per condition: a template with several values (or none) gives no
        // start form rather than a guess.
        let values = Template::parse(text).ok()?.expand(attrs);
        let [value] = values.as_slice() else {
            return None;
        };
        if value.contains('*') {
            return None;
        }
        attributes.push((key.clone(), path_matcher(value)));
    }
    (!names.is_empty()).then_some(PredictedStart {
        names,
        kind: start.kind,
        attributes,
    })
}

fn rule_applies(rule: &NameRule, site: &SiteView<'_>) -> bool {
    if rule.site != site.class
        || !attrs_meet(&rule.when, site.attrs)
        || attrs_hit(&rule.unless, site.attrs)
    {
        return false;
    }
    if !rule.requires_dependency.is_empty()
        && let Some(dependencies) = site.dependencies
    {
        let patterns = compile(&rule.requires_dependency);
        if !dependencies
            .iter()
            .any(|d| patterns.iter().any(|p| p.matches(d)))
        {
            return false;
        }
    }
    true
}

/// The names a profile gives a site.
pub fn profile_names(profile: &ProfileFile, site: &SiteView<'_>) -> Vec<PredictedName> {
    let mut out: Vec<PredictedName> = Vec::new();
    for rule in profile.names.iter().filter(|r| rule_applies(r, site)) {
        for text in &rule.names {
            let Ok(template) = Template::parse(text) else {
                continue;
            };
            let wildcard = template.fields().any(|f| {
                site.attrs
                    .get(f)
                    .is_some_and(|v| v.iter().any(|x| x.contains('*')))
            });
            let glob = wildcard || rule.match_as == MatchAs::Glob;
            for name in template.expand(site.attrs) {
                // In an exact name `*` is text (a servlet mapping `/*`), in a glob any.
                let literal = if glob {
                    name.replace(['*', '{', '}'], "")
                } else {
                    name.replace(['{', '}'], "")
                };
                if literal.trim().len() < 2 {
                    continue;
                }
                let matcher = match rule.match_as {
                    MatchAs::Glob => Matcher::Glob(name),
                    MatchAs::Exact if wildcard => Matcher::Glob(name),
                    MatchAs::Exact => Matcher::Exact(name),
                    MatchAs::Path => path_matcher(&name),
                };
                let predicted = PredictedName {
                    profile: profile.id.clone(),
                    matcher,
                    shared: rule.shared,
                    start: rule
                        .start
                        .as_ref()
                        .and_then(|start| start_of(start, site.attrs)),
                };
                if !out.contains(&predicted) {
                    out.push(predicted);
                }
            }
        }
    }
    out
}

/// The names every given profile gives a site, in profile order.
pub fn site_names(profiles: &[&ProfileFile], site: &SiteView<'_>) -> Vec<PredictedName> {
    profiles
        .iter()
        .flat_map(|profile| profile_names(profile, site))
        .collect()
}

/// The profiles `requested` selects for a language: every profile of the language for
/// an empty request.
pub fn profiles_for<'k>(
    knowledge: &'k Knowledge,
    language: Language,
    requested: &[String],
) -> Vec<&'k ProfileFile> {
    knowledge
        .profiles_of(language)
        .filter(|p| requested.is_empty() || requested.contains(&p.id))
        .collect()
}

/// Patterns by strength of evidence: pinned, any version, API.
type ByStrength = [Vec<Pattern>; 3];

/// Detects the instrumentation profiles of services from their build dependencies and
/// deployment lines (lower case). Services share most deployment lines (a chart's
/// template deploys them all), so each distinct text is matched against the patterns
/// once, whatever the number of services.
pub struct ProfileDetector<'k> {
    /// Per profile: its dependency and deployment patterns, by strength.
    profiles: Vec<(&'k ProfileFile, ByStrength, ByStrength)>,
    /// Dependency names and deployment lines → per profile, which strengths match.
    memo: [std::collections::HashMap<String, Vec<[bool; 3]>>; 2],
}

impl<'k> ProfileDetector<'k> {
    /// A detector over every profile of the knowledge.
    pub fn new(knowledge: &'k Knowledge) -> Self {
        let profiles = [Language::Java, Language::Python, Language::Go]
            .into_iter()
            .flat_map(|language| knowledge.profiles_of(language))
            .map(|p| {
                let d = &p.detect;
                (
                    p,
                    [
                        compile(&d.dependencies),
                        compile(&d.any_version_dependencies),
                        compile(&d.api_dependencies),
                    ],
                    [
                        compile(&d.deployment),
                        compile(&d.any_version_deployment),
                        Vec::new(),
                    ],
                )
            })
            .collect();
        Self {
            profiles,
            memo: Default::default(),
        }
    }

    /// The profiles of `language` matching a service's evidence, by the strongest
    /// evidence found: profiles pinned by their own patterns; else every profile whose
    /// any-version patterns match (the agent is there, its version is not said: a policy
    /// carries the names of each); else the profiles whose API the code depends on.
    /// Empty when nothing matches.
    pub fn detect(
        &mut self,
        language: Language,
        dependencies: &[String],
        deployment: &[String],
    ) -> Vec<&'k ProfileFile> {
        let mut strengths = vec![[false; 3]; self.profiles.len()];
        let texts = dependencies
            .iter()
            .map(|d| (false, d))
            .chain(deployment.iter().map(|l| (true, l)));
        for (is_line, text) in texts {
            let memo = &mut self.memo[usize::from(is_line)];
            if !memo.contains_key(text.as_str()) {
                let found = self
                    .profiles
                    .iter()
                    .map(|(_, deps, lines)| {
                        let patterns = if is_line { lines } else { deps };
                        std::array::from_fn(|tier| patterns[tier].iter().any(|p| p.matches(text)))
                    })
                    .collect();
                memo.insert(text.clone(), found);
            }
            for (total, found) in strengths.iter_mut().zip(&memo[text.as_str()]) {
                for tier in 0..3 {
                    total[tier] |= found[tier];
                }
            }
        }
        for tier in 0..3 {
            let found: Vec<&'k ProfileFile> = self
                .profiles
                .iter()
                .zip(&strengths)
                .filter(|((p, _, _), s)| p.language == language && s[tier])
                .map(|((p, _, _), _)| *p)
                .collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }
}

/// Every framework file of a language (for listings and tests).
pub fn frameworks(language: Language) -> Vec<&'static FrameworkFile> {
    knowledge::embedded().frameworks_of(language).collect()
}

/// The last identifier of a type or receiver as written: `pb.GeoClient` → `GeoClient`,
/// `MongoRepository<Order, String>` → `MongoRepository`, `*mgo.Session` → `Session`.
pub fn base_name(written: &str) -> &str {
    let without_generics = written.split('<').next().unwrap_or(written);
    let without_array = without_generics.trim_end_matches("[]");
    without_array
        .trim_start_matches(['*', '&', '['])
        .rsplit('.')
        .next()
        .unwrap_or(without_array)
        .trim()
}

/// A URL pattern's path: `http://host:1/api/{}` → `/api/{}`; `{}/api/x` → `/api/x`
/// (a leading placeholder is a base URL from configuration); query strings dropped.
pub fn url_path(url: &str) -> Option<String> {
    let rest = if let Some((_, after)) = url.split_once("://") {
        match after.find('/') {
            Some(at) => &after[at..],
            None => "/",
        }
    } else if let Some(after) = url.strip_prefix("{}") {
        after
    } else {
        url
    };
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    rest.starts_with('/').then(|| rest.to_string())
}

/// The host of a URL pattern, when literal: `http://ts-order-service:12031/x` →
/// `ts-order-service`.
pub fn url_host(url: &str) -> Option<String> {
    let (_, after) = url.split_once("://")?;
    let authority = after.split('/').next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty() && !host.contains("{}")).then(|| host.to_string())
}

/// A path pattern with `{}` placeholders as a matcher: `Template` with placeholders
/// named `p1`, `p2`, ... (adjacent placeholders merged), or `Exact` when literal.
pub fn path_matcher(path: &str) -> Matcher {
    if !path.contains('{') {
        return Matcher::Exact(path.to_string());
    }
    let mut out = String::new();
    let mut n = 0;
    let mut rest = path;
    let mut last_was_placeholder = false;
    while !rest.is_empty() {
        // `{}` from the extractor, or a URI template variable (`{id}`, as RestTemplate
        // expands them): both stand for a value only known at run time.
        let variable = rest.strip_prefix('{').and_then(|inner| {
            let close = inner.find('}')?;
            inner[..close]
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_')
                .then(|| &inner[close + 1..])
        });
        if let Some(after) = variable {
            if !last_was_placeholder {
                n += 1;
                out.push_str(&format!("{{p{n}}}"));
            }
            last_was_placeholder = true;
            rest = after;
            continue;
        }
        let ch = rest.chars().next().unwrap_or_default();
        match ch {
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            c => out.push(c),
        }
        last_was_placeholder = false;
        rest = &rest[ch.len_utf8()..];
    }
    if n == 0 {
        return Matcher::Exact(path.to_string());
    }
    Matcher::Template(out)
}

/// The HTTP method a call names in its arguments (`HttpMethod.POST`, `"POST"`).
pub fn method_in_args(call: &Call) -> Option<String> {
    call.arg_texts.iter().find_map(|text| {
        let last = text
            .rsplit('.')
            .next()
            .unwrap_or(text)
            .trim_matches(['"', '\'']);
        HTTP_METHODS.contains(&last).then(|| last.to_string())
    })
}

/// gRPC-style full method names: `/pkg.Service/Method`.
pub fn rpc_full_method(package: &str, service: &str, method: &str) -> String {
    if package.is_empty() {
        format!("/{service}/{method}")
    } else {
        format!("/{package}.{service}/{method}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Field, Position, TypeKind};

    fn call_at(receiver: &str, callee: &str, args: &[&str], line: u32) -> Call {
        Call {
            callee: callee.into(),
            receiver: (!receiver.is_empty()).then(|| receiver.to_string()),
            args: args
                .iter()
                .map(|a| Some(a.trim_matches('"').to_string()))
                .collect(),
            arg_texts: args.iter().map(|a| a.to_string()).collect(),
            position: Position { line, column: 1 },
            ..Call::default()
        }
    }

    #[test]
    fn chain_mates_are_the_nearest_calls_of_the_same_fluent_chain() {
        // client.get().uri("/a"); client.get().uri("/b")  and
        // new B().put().url("/c") split over lines.
        let mut function = Function {
            calls: vec![
                call_at("client", "get", &[], 1),
                call_at("client.get()", "uri", &["\"/a\""], 1),
                call_at("client", "get", &[], 2),
                call_at("client\n  .get()", "uri", &["\"/b\""], 3),
                call_at("new B()", "put", &[], 4),
                call_at("new B().put()", "url", &["\"/c\""], 4),
            ],
            ..Function::default()
        };
        // On one line, `uri` comes after `get`.
        function.calls[1].position.column = 20;
        function.calls[5].position.column = 20;
        let later = |i: usize| {
            chain_mate(&function, &function.calls[i], &["uri".into()]).map(|c| c.args[0].clone())
        };
        assert_eq!(later(0), Some(Some("/a".into())));
        assert_eq!(later(2), Some(Some("/b".into())));
        // A call it is made on, before it.
        let earlier = chain_mate(&function, &function.calls[5], &["put".into()]);
        assert_eq!(earlier.map(|c| c.position.line), Some(4));
        assert!(chain_mate(&function, &function.calls[4], &["uri".into()]).is_none());
        // The same call starting another chain ends the first: its `put` is not mine.
        let twice = Function {
            calls: vec![
                call_at("t", "ops", &[], 1),
                call_at("t", "ops", &[], 2),
                call_at("t.ops()", "put", &[], 3),
            ],
            ..Function::default()
        };
        assert!(chain_mate(&twice, &twice.calls[0], &["put".into()]).is_none());
        assert!(chain_mate(&twice, &twice.calls[1], &["put".into()]).is_some());
    }

    #[test]
    fn argument_types_come_from_creation_or_declaration() {
        let function = Function {
            params: vec![Field {
                name: "put".into(),
                type_name: "HttpPut".into(),
                ..Field::default()
            }],
            locals: vec![Field {
                name: "post".into(),
                type_name: "org.x.HttpPost".into(),
                ..Field::default()
            }],
            ..Function::default()
        };
        assert_eq!(
            arg_type(&function, "new HttpGet(url + \"/x\")").as_deref(),
            Some("HttpGet")
        );
        assert_eq!(
            arg_type(&function, "new Box<String>()").as_deref(),
            Some("Box")
        );
        assert_eq!(
            arg_type(&function, "post").as_deref(),
            Some("org.x.HttpPost")
        );
        assert_eq!(arg_type(&function, "put").as_deref(), Some("HttpPut"));
        assert_eq!(arg_type(&function, "other"), None);
        assert_eq!(
            created_literal_arg("new ProducerRecord<>(\"orders\", key, value)").as_deref(),
            Some("orders")
        );
        assert_eq!(created_literal_arg("new HttpGet(base + \"/x\")"), None);
        // A method reference names its method.
        assert_eq!(
            handler_name("this::product", &[]).as_deref(),
            Some("product")
        );
        assert_eq!(handler_name("views.index", &[]).as_deref(), Some("index"));
    }

    #[test]
    fn methods_served_by_name_take_their_path_from_the_owner_annotation() {
        let annotation = Annotation {
            name: "WebServlet".into(),
            args: vec![
                (Some("name".into()), "\"ping\"".into()),
                (Some("urlPatterns".into()), "\"/ping\"".into()),
            ],
            position: Position { line: 1, column: 1 },
        };
        let file = FileFacts {
            language: Some(Language::Java),
            types: vec![TypeDecl {
                name: "Ping".into(),
                qualified: "p.Ping".into(),
                kind: TypeKind::Class,
                annotations: vec![annotation],
                supertypes: vec!["HttpServlet".into()],
                ..TypeDecl::default()
            }],
            ..FileFacts::default()
        };
        let method = |name: &str| Function {
            name: name.into(),
            owner: Some("Ping".into()),
            ..Function::default()
        };
        let routes = |name: &str| {
            declared_entries(
                Language::Java,
                &file,
                &method(name),
                &|_| String::new(),
                &Attrs::new(),
            )
            .into_iter()
            .map(|(e, _)| {
                format!(
                    "{} {}",
                    e.attr("method").unwrap_or(""),
                    e.attr("route").unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
        };
        assert_eq!(routes("doGet"), vec!["GET /ping".to_string()]);
        assert_eq!(routes("service"), vec!["* /ping".to_string()]);
        assert!(routes("log").is_empty());
    }

    fn summary(sql: &str) -> Vec<(String, String)> {
        sql_statement_attrs(sql)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.join(",")))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn go_function(source: &str) -> Function {
        let spec = crate::lang::spec(Language::Go);
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&(spec.grammar)())
            .expect("grammar loads");
        let tree = parser.parse(source, None).expect("parses");
        let facts = (spec.extract)("svc/main.go", source, &tree);
        facts.functions.into_iter().next().expect("a function")
    }

    /// A `spans` rule names a site by the argument of a matching call, only in files
    /// importing the rule's module.
    #[test]
    fn span_rules_name_sites_by_an_argument() {
        let source = concat!(
            "package c\n",
            "import kitot \"github.com/go-kit/kit/tracing/opentracing\"\n",
            "func Make(t Tracer) {\n",
            "\tlist := kitot.TraceServer(t, \"GET /list\")(makeList())\n",
            "\t_ = kitot.TraceServer(t, name)\n",
            "\t_ = list\n",
            "}\n",
        );
        let spec = crate::lang::spec(Language::Go);
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&(spec.grammar)())
            .expect("grammar loads");
        let tree = parser.parse(source, None).expect("parses");
        let file = (spec.extract)("svc/c.go", source, &tree);
        let spans = declared_spans(Language::Go, &file, &file.functions[0]);
        let names: Vec<(&str, &str)> = spans
            .iter()
            .map(|s| (s.name.as_str(), s.api.as_str()))
            .collect();
        assert_eq!(names, [("GET /list", "opentracing")]);
        let mut other = file.clone();
        other.imports.clear();
        assert!(declared_spans(Language::Go, &other, &other.functions[0]).is_empty());
    }

    /// Route prefixes by the routers rules of the Go data files: groups and their
    /// chains, same-prefix calls, scope literals, mounted variables and the prefix the
    /// function itself is mounted under.
    #[test]
    fn receiver_prefixes_follow_groups_scopes_and_mounts() {
        let function = go_function(concat!(
            "package main\n",
            "func routes() {\n",
            "\tr := newRouter()\n",
            "\tv1 := r.Group(\"/api\").Group(\"v1\")\n",
            "\tv1.GET(\"/a\", h)\n",
            "\ts := r.PathPrefix(\"/b\").Subrouter()\n",
            "\ts.HandleFunc(\"/c\", h).Methods(\"GET\", http.MethodPut)\n",
            "\tr.Route(\"/d\", func(r Router) { r.With(m).Get(\"/e\", h) })\n",
            "\tadmin := newRouter()\n",
            "\tadmin.Get(\"/f\", h)\n",
            "\tr.Mount(\"/admin\", admin)\n",
            "\tr.Get(\"/g\", h)\n",
            "\tr.Mount(\"/users\", usersRouter())\n",
            "\ts.Methods(\"POST\").Path(\"/h\").Handler(NewServer(e, dec, enc))\n",
            "}\n",
        ));
        let prefix = |callee: &str, route: &str, mounted: &str| {
            let call = function
                .calls
                .iter()
                .find(|c| {
                    c.callee == callee
                        && c.args.first().cloned().flatten().as_deref() == Some(route)
                })
                .expect("the call");
            receiver_prefix(Language::Go, &function, call, mounted)
        };
        assert_eq!(prefix("GET", "/a", ""), "/api/v1");
        assert_eq!(prefix("HandleFunc", "/c", ""), "/b");
        assert_eq!(prefix("Get", "/e", ""), "/d");
        assert_eq!(prefix("Get", "/f", ""), "/admin");
        assert_eq!(prefix("Get", "/g", ""), "");
        assert_eq!(prefix("Get", "/g", "/outer"), "/outer");
        let handle = function
            .calls
            .iter()
            .find(|c| c.callee == "HandleFunc")
            .expect("HandleFunc");
        let registration = Registration {
            kind: EntryKind::Http,
            framework: String::new(),
            route: None,
            handler: None,
            include: None,
            class_handler_methods: Vec::new(),
            methods_calls: vec!["Methods".into()],
            route_calls: vec!["Path".into()],
            trim_trailing_slash: false,
            methods: Vec::new(),
            service: None,
            regex_route: false,
            attrs: Attrs::new(),
        };
        assert_eq!(
            chained_methods(&function, handle, &registration),
            ["GET", "PUT"]
        );
        let handler = function
            .calls
            .iter()
            .find(|c| c.callee == "Handler")
            .expect("Handler");
        let (route, methods, base) =
            chained_route(&function, handler, &registration).expect("a chained route");
        assert_eq!((route.as_str(), methods), ("/h", vec!["POST".to_string()]));
        assert_eq!(receiver_prefix(Language::Go, &function, base, ""), "/b");
        assert_eq!(
            mounted_functions(Language::Go, &function),
            [("usersRouter".to_string(), "/users".to_string())]
        );
    }

    #[test]
    fn regex_routes_reverse_like_the_framework() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            reverse_regex_route(r"/items/(\d+)", &names(&["item_id"])).as_deref(),
            Some("/items/{item_id}")
        );
        assert_eq!(
            reverse_regex_route(r"^/u/(?P<name>[a-z]+)/(\w+)$", &names(&["name", "tab"]))
                .as_deref(),
            Some("/u/{name}/{tab}")
        );
        // A parameter count that differs keeps the format's `%s`.
        assert_eq!(
            reverse_regex_route(r"/p/(\d+)/(\w+)", &names(&["parts"])).as_deref(),
            Some("/p/%s/%s")
        );
        // No group: the pattern unescaped, whatever the parameters.
        assert_eq!(
            reverse_regex_route(r"/a\.b/[0-9]/", &[]).as_deref(),
            Some("/a.b/[0-9]/")
        );
        // Not reversible: an escape of a letter outside a group, a non-capturing group.
        assert_eq!(reverse_regex_route(r"/files/\d+", &[]), None);
        assert_eq!(reverse_regex_route(r"/x/(?:a|b)", &[]), None);
    }

    #[test]
    fn tuple_lists_give_one_registration_per_tuple() {
        let tuple = |route: &str, handler: &str| {
            vec![
                (Some(route.to_string()), format!("r\"{route}\"")),
                (None, handler.to_string()),
            ]
        };
        let call = Call {
            callee: "Application".into(),
            receiver: Some("tornado.web".into()),
            args: vec![None],
            arg_texts: vec!["[...]".into()],
            arg_tuples: vec![(0, vec![tuple("/a/(\\d+)", "A"), tuple("/b", "views.B")])],
            ..Call::default()
        };
        let file = FileFacts::default();
        let found = registrations(Language::Python, &file, &call, false);
        let read: Vec<(Option<&str>, Option<&str>, bool)> = found
            .iter()
            .map(|r| (r.route.as_deref(), r.handler.as_deref(), r.regex_route))
            .collect();
        assert_eq!(
            read,
            [
                (Some("/a/(\\d+)"), Some("A"), true),
                (Some("/b"), Some("B"), true)
            ]
        );
        assert!(!is_registration(
            Language::Python,
            &file,
            &Call {
                arg_tuples: vec![],
                ..call
            },
            false
        ));
    }

    #[test]
    fn statements_are_summarized_with_their_object_as_written() {
        assert_eq!(
            summary("create table purchase_orders (id bigint not null, primary key (id))"),
            pairs(&[
                ("ddl", "CREATE"),
                ("ddl_keyword", "TABLE"),
                ("ddl_object", "table"),
                ("sql_word", "create"),
                ("table", "purchase_orders"),
            ])
        );
        assert_eq!(
            summary("DROP TABLE IF EXISTS `stock` CASCADE"),
            pairs(&[
                ("ddl", "DROP"),
                ("ddl_keyword", "TABLE"),
                ("ddl_object", "TABLE"),
                ("sql_word", "DROP"),
                ("table", "stock"),
            ])
        );
        assert_eq!(
            summary("select next value for orders_seq"),
            pairs(&[("sql_word", "select"), ("statement", "SELECT")])
        );
        assert_eq!(
            summary("SELECT a.x FROM a JOIN b ON a.id = b.id"),
            pairs(&[("sql_word", "SELECT"), ("statement", "SELECT")])
        );
        assert_eq!(
            summary("insert into stock(sku) values ('x')"),
            pairs(&[
                ("sql_word", "insert"),
                ("statement", "INSERT"),
                ("table", "stock")
            ])
        );
        assert_eq!(
            summary("PRAGMA main.table_info(\"orders\")"),
            pairs(&[("sql_keyword", "PRAGMA"), ("sql_word", "PRAGMA")])
        );
        assert_eq!(sql_statement_attrs("  "), None);
    }

    #[test]
    fn scripts_split_at_semicolons_outside_quotes_and_comments() {
        let script = "-- a comment; not a statement\nCREATE TABLE t (a INT);\n/* x; y */ INSERT INTO t VALUES ('a;b');\n\n;  \nDELETE FROM t";
        assert_eq!(
            split_sql_script(script),
            vec![
                "CREATE TABLE t (a INT)",
                "INSERT INTO t VALUES ('a;b')",
                "DELETE FROM t"
            ]
        );
        assert!(split_sql_script("-- only a comment\n").is_empty());
    }

    #[test]
    fn go_patterns_lead_with_a_method() {
        let split = |route: &str| split_method_prefix(route);
        assert_eq!(
            split("GET /items/{id}"),
            Some(("GET".into(), "/items/{id}".into()))
        );
        assert_eq!(
            split(" POST\t /a/{rest...}"),
            Some(("POST".into(), "/a/{rest...}".into()))
        );
        // No method, a host, or a lower-case word: the route stays whole.
        assert_eq!(split("/items/{id}"), None);
        assert_eq!(split("example.com/items"), None);
        assert_eq!(split("get /items"), None);
        assert_eq!(split("GET items"), None);
    }

    #[test]
    fn url_pieces() {
        let url = "http://ts-order-service:12031/api/v1/orderservice/order/{}/{}";
        assert_eq!(
            url_path(url).as_deref(),
            Some("/api/v1/orderservice/order/{}/{}")
        );
        assert_eq!(url_host(url).as_deref(), Some("ts-order-service"));
        assert_eq!(url_path("{}/api/x?y=1").as_deref(), Some("/api/x"));
        assert_eq!(url_path("{}"), None);
        assert_eq!(url_host("{}/x"), None);
    }

    #[test]
    fn path_matchers_name_placeholders() {
        assert_eq!(
            path_matcher("/api/v1/trainservice/trains/{}"),
            Matcher::Template("/api/v1/trainservice/trains/{p1}".into())
        );
        assert_eq!(
            path_matcher("/a/{}{}/b/{}"),
            Matcher::Template("/a/{p1}/b/{p2}".into())
        );
        assert_eq!(path_matcher("/a/b"), Matcher::Exact("/a/b".into()));
        assert_eq!(
            path_matcher("/orders/{orderId}/items/{}"),
            Matcher::Template("/orders/{p1}/items/{p2}".into())
        );
        assert_eq!(
            path_matcher("/odd/{a b}"),
            Matcher::Exact("/odd/{a b}".into())
        );
        assert_eq!(
            path_matcher("/odd/{a b}/{}"),
            Matcher::Template("/odd/{{a b}}/{p1}".into())
        );
        assert_eq!(
            base_name("MongoRepository<Order, String>"),
            "MongoRepository"
        );
        assert_eq!(base_name("*mgo.Session"), "Session");
        assert_eq!(base_name("pb.GeoClient"), "GeoClient");
    }

    #[test]
    fn routes_join_and_placeholders_become_wildcards() {
        assert_eq!(join_route("/api/v1/x", "/{id}"), "/api/v1/x/{id}");
        assert_eq!(join_route("/api/v1/x/", "y"), "/api/v1/x/y");
        assert_eq!(join_route("", ""), "/");
        assert_eq!(
            deployment_placeholders("jdbc:mysql://${H:db}:${P:3306}/${D:ts}?useSSL=false"),
            "jdbc:mysql://*:*/*?useSSL=false"
        );
        assert_eq!(
            sql_summary("SELECT * FROM price_config WHERE route_id IN ?1"),
            Some(("SELECT".into(), "price_config".into()))
        );
        assert_eq!(
            sql_summary("select r from Route r where r.id = ?1"),
            Some(("SELECT".into(), "Route".into()))
        );
        assert_eq!(
            sql_summary("update `orders` set x = 1"),
            Some(("UPDATE".into(), "orders".into()))
        );
        assert_eq!(
            handler_name("http.HandlerFunc(s.searchHandler)", &[]).as_deref(),
            Some("searchHandler")
        );
        assert_eq!(
            handler_name("views.OrderView.as_view()", &[".as_view()".into()]).as_deref(),
            Some("OrderView")
        );
    }
}
