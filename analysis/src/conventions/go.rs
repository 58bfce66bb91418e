//! Go conventions: net/http handlers (`HandleFunc` / `Handle` on any mux), gRPC
//! servers (`pb.RegisterXServer`) and client stubs (`pb.NewXClient(conn).Method`),
//! net/http clients, memcached and MongoDB calls, and the span names of OpenTracing
//! (`/pkg.Service/Method` from the gRPC interceptors, `HTTP GET /route` from the
//! nethttp middleware) and OpenTelemetry (`pkg.Service/Method`, `GET`).

use super::{CallContext, DbSystem, Effect, Entry, base_name};
use policy_schema::Matcher;

const MONGO_METHODS: [&str; 18] = [
    "Find",
    "FindOne",
    "FindId",
    "Insert",
    "InsertOne",
    "InsertMany",
    "Update",
    "UpdateOne",
    "UpdateMany",
    "UpdateId",
    "Upsert",
    "Remove",
    "RemoveId",
    "DeleteOne",
    "DeleteMany",
    "Aggregate",
    "Pipe",
    "CountDocuments",
];

const MEMCACHED_METHODS: [&str; 9] = [
    "Get",
    "GetMulti",
    "Set",
    "Add",
    "Replace",
    "Delete",
    "Increment",
    "Decrement",
    "Touch",
];

/// Classifies a call.
pub fn classify(context: &CallContext<'_>) -> Option<Effect> {
    let call = context.call;
    let callee = call.callee.as_str();
    let receiver = call.receiver.as_deref().unwrap_or("");
    let import = context.receiver_import.unwrap_or("");
    let written = context.receiver_type.unwrap_or("");
    let receiver_type = base_name(written);
    if import == "net/http" && context.receiver_type.is_none() {
        return match callee {
            "Get" | "Head" | "Post" | "PostForm" => Some(Effect::Http {
                client: "net/http",
                method: Some(if callee == "PostForm" {
                    "POST".into()
                } else {
                    callee.to_ascii_uppercase()
                }),
                url: context.args.first().cloned().flatten(),
            }),
            _ => None,
        };
    }
    if receiver_type == "Client" && import.ends_with("net/http") && callee == "Do" {
        return Some(Effect::Http {
            client: "net/http",
            method: None,
            url: None,
        });
    }
    if let Some(service) = receiver_type.strip_suffix("Client")
        && !service.is_empty()
        && written.contains('.')
        && !import.ends_with("memcache")
        && import != "net/http"
        && callee.chars().next().is_some_and(char::is_uppercase)
    {
        return Some(Effect::GrpcClient {
            package: if import.is_empty() {
                written.split('.').next().unwrap_or("").to_string()
            } else {
                import.to_string()
            },
            service: service.to_string(),
            method: callee.to_string(),
        });
    }
    if (import.ends_with("memcache") || receiver.to_ascii_lowercase().contains("memc"))
        && MEMCACHED_METHODS.contains(&callee)
    {
        return Some(Effect::Database {
            system: DbSystem::Memcached,
            library: "gomemcache",
            target: receiver.to_string(),
            operation: callee.to_string(),
        });
    }
    let mongo_receiver = import.contains("mgo")
        || import.contains("mongo")
        || matches!(receiver_type, "Collection" | "Session" | "Database")
        || receiver.contains(".C(")
        || receiver.contains(".Collection(");
    if mongo_receiver && MONGO_METHODS.contains(&callee) {
        return Some(Effect::Database {
            system: DbSystem::Mongo,
            library: if import.contains("mgo") {
                "mgo"
            } else {
                "mongo-go-driver"
            },
            target: receiver.to_string(),
            operation: callee.to_string(),
        });
    }
    None
}

/// Exit span names.
pub fn effect_names(effect: &Effect) -> Vec<Matcher> {
    match effect {
        Effect::Http {
            method: Some(m), ..
        } => {
            vec![
                Matcher::Exact(format!("HTTP {m}")),
                Matcher::Exact(m.clone()),
            ]
        }
        Effect::Http { method: None, .. } => vec![Matcher::Glob("HTTP *".into())],
        Effect::Database {
            system: DbSystem::Mongo,
            library: "mongo-go-driver",
            operation,
            ..
        } => {
            let command = match operation.as_str() {
                "CountDocuments" | "Aggregate" => "aggregate".to_string(),
                other => other
                    .trim_end_matches("One")
                    .trim_end_matches("Many")
                    .to_ascii_lowercase(),
            };
            vec![Matcher::Glob(format!("*.{command}"))]
        }
        _ => Vec::new(),
    }
}

/// gRPC full method names of a stub call: `/pkg.Service/Method`.
pub fn grpc_full_method(proto_package: &str, service: &str, method: &str) -> String {
    if proto_package.is_empty() {
        format!("/{service}/{method}")
    } else {
        format!("/{proto_package}.{service}/{method}")
    }
}

/// Names of a gRPC span (client or server): OpenTracing's `/pkg.S/M` and
/// OpenTelemetry's `pkg.S/M`.
pub fn grpc_names(full_method: &str) -> Vec<Matcher> {
    vec![
        Matcher::Exact(full_method.to_string()),
        Matcher::Exact(full_method.trim_start_matches('/').to_string()),
    ]
}

/// Entry span names.
pub fn entry_names(entry: &Entry) -> Vec<Matcher> {
    match entry {
        Entry::Grpc { full_method } => grpc_names(full_method),
        Entry::Http { methods, route, .. } => {
            let mut names = vec![
                Matcher::Glob(format!("HTTP * {route}")),
                Matcher::Exact(route.clone()),
            ];
            for method in methods {
                names.push(Matcher::Exact(format!("{method} {route}")));
            }
            if methods.is_empty() {
                names.push(Matcher::Glob(format!("* {route}")));
            }
            names
        }
        Entry::Consumer { .. } => Vec::new(),
    }
}

/// A route registration: `mux.HandleFunc("/x", h)`, `http.Handle("/x", ...)`,
/// `r.HandleFunc("/x", h).Methods("GET")`. Returns the pattern and the handler's name.
pub fn route_registration(call: &crate::facts::Call) -> Option<(String, String)> {
    if !matches!(
        call.callee.as_str(),
        "HandleFunc"
            | "Handle"
            | "Get"
            | "Post"
            | "Put"
            | "Delete"
            | "GET"
            | "POST"
            | "PUT"
            | "DELETE"
    ) || call.receiver.is_none()
    {
        return None;
    }
    let pattern = call.args.first()?.clone()?;
    if !pattern.starts_with('/') {
        return None;
    }
    let handler_text = call.arg_texts.get(1)?;
    let inner = handler_text
        .rsplit('(')
        .next()
        .unwrap_or(handler_text)
        .trim_end_matches(')')
        .trim();
    let handler = inner.rsplit('.').next().unwrap_or(inner).trim().to_string();
    (!handler.is_empty() && handler.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then_some((pattern, handler))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Call;

    #[test]
    fn reads_route_registrations() {
        let call = Call {
            callee: "Handle".into(),
            receiver: Some("mux".into()),
            args: vec![Some("/hotels".into()), None],
            arg_texts: vec![
                "\"/hotels\"".into(),
                "http.HandlerFunc(s.searchHandler)".into(),
            ],
            ..Call::default()
        };
        assert_eq!(
            route_registration(&call),
            Some(("/hotels".into(), "searchHandler".into()))
        );
        assert_eq!(grpc_full_method("geo", "Geo", "Nearby"), "/geo.Geo/Nearby");
    }
}
