//! Python conventions: Flask and FastAPI routes, `requests` / `httpx` clients,
//! SQLAlchemy sessions and queries, pymongo collections, redis, and the span names of
//! the OpenTelemetry Python instrumentations (`GET /route` server spans, `GET` /
//! `HTTP GET` client spans, `SELECT ...` database spans).

use super::{CallContext, DbSystem, Effect, Entry, base_name};
use crate::facts::{Call, FileFacts, Function};
use policy_schema::Matcher;

const HTTP_VERBS: [&str; 7] = ["get", "post", "put", "delete", "patch", "head", "options"];

const MONGO_OPERATIONS: [&str; 14] = [
    "find_one",
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "aggregate",
    "count_documents",
    "find_one_and_update",
    "find_one_and_delete",
    "bulk_write",
    "distinct",
];

/// Classifies a call.
pub fn classify(context: &CallContext<'_>) -> Option<Effect> {
    let call = context.call;
    let callee = call.callee.as_str();
    let receiver = call.receiver.as_deref().unwrap_or("");
    let import = context.receiver_import.unwrap_or("");
    let receiver_type = context.receiver_type.map(base_name).unwrap_or("");
    let imports_http = context
        .file
        .imports
        .iter()
        .any(|i| matches!(i.path.as_str(), "requests" | "httpx"));
    let imports_sqlalchemy = context
        .file
        .imports
        .iter()
        .any(|i| i.path.contains("sqlalchemy"));
    let http_client = matches!(import, "requests" | "httpx")
        || (receiver_type.is_empty()
            && import.is_empty()
            && imports_http
            && !imports_sqlalchemy
            && receiver.to_ascii_lowercase().ends_with("session")
            && !receiver.starts_with("db."))
        || matches!(receiver_type, "Session" if import.starts_with("requests"))
        || matches!(receiver_type, "Client" | "AsyncClient" if import.starts_with("httpx"))
        || (receiver_type.is_empty()
            && import.is_empty()
            && matches!(receiver, "requests" | "httpx"));
    if http_client {
        if HTTP_VERBS.contains(&callee) {
            return Some(Effect::Http {
                client: "requests",
                method: Some(callee.to_ascii_uppercase()),
                url: context.args.first().cloned().flatten(),
            });
        }
        if callee == "request" {
            return Some(Effect::Http {
                client: "requests",
                method: context
                    .args
                    .first()
                    .cloned()
                    .flatten()
                    .map(|m| m.to_ascii_uppercase()),
                url: context.args.get(1).cloned().flatten(),
            });
        }
        return None;
    }
    let lower = receiver.to_ascii_lowercase();
    let is_session = receiver_type == "Session" || lower.ends_with("session");
    if is_session
        && matches!(
            callee,
            "query"
                | "add"
                | "add_all"
                | "delete"
                | "execute"
                | "commit"
                | "get"
                | "merge"
                | "scalars"
                | "scalar"
        )
    {
        return Some(Effect::Database {
            system: DbSystem::Sql,
            library: "sqlalchemy",
            target: receiver.to_string(),
            operation: callee.to_string(),
        });
    }
    if receiver.ends_with(".query")
        && matches!(
            callee,
            "get" | "filter" | "filter_by" | "all" | "first" | "get_or_404" | "first_or_404"
        )
    {
        return Some(Effect::Database {
            system: DbSystem::Sql,
            library: "sqlalchemy",
            target: receiver.to_string(),
            operation: callee.to_string(),
        });
    }
    if MONGO_OPERATIONS.contains(&callee)
        || (callee == "find" && (lower.contains("collection") || lower.starts_with("db.")))
    {
        return Some(Effect::Database {
            system: DbSystem::Mongo,
            library: "pymongo",
            target: receiver.to_string(),
            operation: callee.to_string(),
        });
    }
    if (receiver_type == "Redis" || lower.contains("redis"))
        && matches!(
            callee,
            "get"
                | "set"
                | "hget"
                | "hset"
                | "delete"
                | "incr"
                | "expire"
                | "mget"
                | "lpush"
                | "rpush"
        )
    {
        return Some(Effect::Database {
            system: DbSystem::Redis,
            library: "redis",
            target: receiver.to_string(),
            operation: callee.to_string(),
        });
    }
    None
}

/// Exit span names.
pub fn effect_names(effect: &Effect) -> Vec<Matcher> {
    let mut names = Vec::new();
    match effect {
        Effect::Http { method, .. } => match method {
            Some(m) => {
                names.push(Matcher::Exact(m.clone()));
                names.push(Matcher::Exact(format!("HTTP {m}")));
            }
            None => names.push(Matcher::Glob("HTTP *".into())),
        },
        Effect::Database {
            system: DbSystem::Sql,
            operation,
            ..
        } => {
            let statement = match operation.as_str() {
                "add" | "add_all" | "merge" => "INSERT",
                "delete" => "DELETE",
                "commit" => "COMMIT",
                "execute" => "",
                _ => "SELECT",
            };
            if !statement.is_empty() {
                names.push(Matcher::Glob(format!("{statement}*")));
            }
        }
        Effect::Database {
            system: DbSystem::Mongo,
            operation,
            ..
        } => {
            let command = match operation.as_str() {
                "find_one" | "find" => "find",
                "insert_one" | "insert_many" => "insert",
                "update_one" | "update_many" | "replace_one" => "update",
                "delete_one" | "delete_many" => "delete",
                "count_documents" => "aggregate",
                "find_one_and_update" | "find_one_and_delete" => "findAndModify",
                other => other,
            };
            names.push(Matcher::Glob(format!("*.{command}")));
            names.push(Matcher::Exact(command.to_string()));
        }
        Effect::Database {
            system: DbSystem::Redis,
            operation,
            ..
        } => {
            names.push(Matcher::Exact(operation.to_ascii_uppercase()));
        }
        _ => {}
    }
    names
}

/// Entries declared by decorators: `@app.route("/x", methods=[...])`,
/// `@bp.get("/x")`, `@router.post("/x")`. `prefix_of` gives the route prefix of the
/// decorator's object (a Blueprint's `url_prefix`, an APIRouter's `prefix`, plus the
/// prefix it is registered or included with).
pub fn declared_entries(function: &Function, prefix_of: &dyn Fn(&str) -> String) -> Vec<Entry> {
    let mut entries = Vec::new();
    for decorator in &function.annotations {
        let Some((object, verb)) = decorator.name.rsplit_once('.') else {
            continue;
        };
        let Some(path) = decorator
            .args
            .iter()
            .find(|(name, value)| {
                name.as_deref().is_none_or(|n| n == "path" || n == "rule")
                    && (value.starts_with('/') || value.is_empty())
            })
            .map(|(_, value)| value.clone())
        else {
            continue;
        };
        let prefix = prefix_of(object);
        let route = match (prefix.trim_end_matches('/'), path.as_str()) {
            ("", "") => "/".to_string(),
            (prefix, path) => format!("{prefix}{path}"),
        };
        let framework = if route.contains('<') {
            "flask"
        } else {
            "fastapi"
        };
        let methods: Vec<String> = match verb {
            "route" => {
                let listed: Vec<String> = decorator
                    .args
                    .iter()
                    .filter(|(name, _)| name.as_deref() == Some("methods"))
                    .map(|(_, value)| {
                        value
                            .trim_matches(['"', '\'', '[', ']'])
                            .to_ascii_uppercase()
                    })
                    .collect();
                if listed.is_empty() {
                    vec!["GET".into()]
                } else {
                    listed
                }
            }
            "api_route" => Vec::new(),
            verb if HTTP_VERBS.contains(&verb) => vec![verb.to_ascii_uppercase()],
            _ => continue,
        };
        entries.push(Entry::Http {
            framework: if verb == "route" { "flask" } else { framework },
            methods,
            route,
        });
    }
    entries
}

/// Entry span names.
pub fn entry_names(entry: &Entry) -> Vec<Matcher> {
    let mut names = Vec::new();
    if let Entry::Http {
        framework,
        methods,
        route,
    } = entry
    {
        // Django reports `request.resolver_match.route`, which has no leading slash.
        let mut routes = vec![route.clone()];
        if *framework == "django" && route.len() > 1 {
            routes.push(route.trim_start_matches('/').to_string());
        }
        for route in routes {
            names.push(Matcher::Exact(route.clone()));
            for method in methods {
                names.push(Matcher::Exact(format!("{method} {route}")));
            }
            if methods.is_empty() {
                names.push(Matcher::Glob(format!("* {route}")));
            }
        }
    }
    names
}

/// A Django URL pattern: `path("orders/<int:id>/", views.detail)` gives the pattern
/// and the view's name; `path("api/", include("orders.urls"))` gives the pattern and
/// the included module as `include:orders.urls`.
pub fn django_url(call: &Call) -> Option<(String, String)> {
    if call.receiver.is_some() || !matches!(call.callee.as_str(), "path" | "re_path" | "url") {
        return None;
    }
    let pattern = call.args.first()?.clone()?;
    let view = call.arg_texts.get(1)?.trim();
    if let Some(inner) = view.strip_prefix("include(") {
        let module = inner
            .trim_end_matches(')')
            .split(',')
            .next()?
            .trim()
            .trim_matches(['"', '\'']);
        return Some((pattern, format!("include:{module}")));
    }
    let view = view.trim_end_matches(".as_view()");
    let name = view.rsplit('.').next()?.trim();
    (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then(|| (pattern, name.to_string()))
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

/// Route prefixes of module-level routers in a file: `bp = Blueprint(..., url_prefix=)`,
/// `router = APIRouter(prefix=)`; (variable, prefix).
pub fn router_prefixes(file: &FileFacts) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for kind in ["Blueprint", "APIRouter"] {
        let globals = file
            .globals
            .iter()
            .filter(|g| crate::conventions::base_name(&g.type_name) == kind);
        let calls: Vec<&Call> = file
            .top_level_calls
            .iter()
            .filter(|c| c.callee == kind)
            .collect();
        for (k, global) in globals.enumerate() {
            let prefix = calls
                .get(k)
                .and_then(|call| {
                    keyword_arg(call, "url_prefix").or_else(|| keyword_arg(call, "prefix"))
                })
                .unwrap_or_default();
            out.push((global.name.clone(), prefix));
        }
    }
    out
}

/// Prefixes routers are mounted with: `app.include_router(router, prefix="/api")`,
/// `app.register_blueprint(bp, url_prefix="/x")`; (variable, prefix).
pub fn mount_prefix(call: &Call) -> Option<(String, String)> {
    let keyword = match call.callee.as_str() {
        "include_router" => "prefix",
        "register_blueprint" => "url_prefix",
        _ => return None,
    };
    let variable = call
        .arg_texts
        .first()?
        .rsplit('.')
        .next()?
        .trim()
        .to_string();
    Some((variable, keyword_arg(call, keyword).unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Annotation, Field, Position};

    fn call(callee: &str, args: &[Option<&str>], texts: &[&str]) -> Call {
        Call {
            callee: callee.into(),
            args: args.iter().map(|a| a.map(str::to_string)).collect(),
            arg_texts: texts.iter().map(|t| t.to_string()).collect(),
            ..Call::default()
        }
    }

    #[test]
    fn routes_take_router_prefixes_and_methods() {
        let file = FileFacts {
            globals: vec![Field {
                name: "bp".into(),
                type_name: "Blueprint".into(),
                annotations: Vec::new(),
            }],
            top_level_calls: vec![call(
                "Blueprint",
                &[Some("orders"), None, Some("/api/orders")],
                &["\"orders\"", "__name__", "url_prefix=\"/api/orders\""],
            )],
            ..FileFacts::default()
        };
        assert_eq!(
            router_prefixes(&file),
            [("bp".to_string(), "/api/orders".to_string())]
        );
        let mount = call(
            "include_router",
            &[None, Some("/v1")],
            &["routes.router", "prefix=\"/v1\""],
        );
        assert_eq!(
            mount_prefix(&mount),
            Some(("router".to_string(), "/v1".to_string()))
        );
        let function = Function {
            annotations: vec![Annotation {
                name: "bp.route".into(),
                args: vec![
                    (None, "/<int:id>".into()),
                    (Some("methods".into()), "POST".into()),
                    (Some("methods".into()), "DELETE".into()),
                ],
                position: Position::default(),
            }],
            ..Function::default()
        };
        let entries = declared_entries(&function, &|var| {
            if var == "bp" {
                "/api/orders".into()
            } else {
                String::new()
            }
        });
        assert_eq!(
            entries,
            [Entry::Http {
                framework: "flask",
                methods: vec!["POST".into(), "DELETE".into()],
                route: "/api/orders/<int:id>".into(),
            }]
        );
    }
}
