//! Java conventions: Spring MVC controllers, RestTemplate, Spring Data repositories,
//! MongoTemplate, RabbitTemplate and listeners, and the span names of the SkyWalking
//! Java agent and the OpenTelemetry Java agent for each.
//!
//! SkyWalking names (checked against TrainTicket traces): Spring MVC entries
//! `{GET}/api/v1/x/{id}` (method in braces, then the route template); RestTemplate
//! exits: the concrete path called; MongoDB: `MongoDB/` + the driver operation class
//! (`FindOperation`, `UpdateOperation` for `save` of an entity with an id, ...);
//! RabbitMQ: `RabbitMQ/Topic/{exchange}Queue/{routingKey}/Producer` and
//! `RabbitMQ/Topic/{exchange}/Queue/{queue}/Consumer`.
//! OpenTelemetry names: `GET /route` server spans, `Controller.method` handler spans,
//! `Repository.method` Spring Data spans, `GET` / `HTTP GET` client spans.

use super::{
    CallContext, DbSystem, Effect, Entry, base_name, method_in_args, path_matcher, url_path,
};
use crate::facts::{Annotation, FileFacts, Function, TypeDecl};
use policy_schema::Matcher;

const MAPPINGS: [(&str, Option<&str>); 6] = [
    ("RequestMapping", None),
    ("GetMapping", Some("GET")),
    ("PostMapping", Some("POST")),
    ("PutMapping", Some("PUT")),
    ("DeleteMapping", Some("DELETE")),
    ("PatchMapping", Some("PATCH")),
];

/// Classifies a call.
pub fn classify(context: &CallContext<'_>) -> Option<Effect> {
    let call = context.call;
    let callee = call.callee.as_str();
    let receiver_type = context.receiver_type.map(base_name).unwrap_or("");
    let receiver_text = call.receiver.as_deref().unwrap_or("").to_ascii_lowercase();
    let is_rest_template = matches!(
        receiver_type,
        "RestTemplate" | "TestRestTemplate" | "RestOperations"
    ) || (receiver_type.is_empty()
        && receiver_text.ends_with("resttemplate"));
    if is_rest_template {
        let method = match callee {
            "exchange" | "execute" => method_in_args(call),
            "getForObject" | "getForEntity" => Some("GET".into()),
            "postForObject" | "postForEntity" | "postForLocation" => Some("POST".into()),
            "put" => Some("PUT".into()),
            "delete" => Some("DELETE".into()),
            "patchForObject" => Some("PATCH".into()),
            _ => return None,
        };
        return Some(Effect::Http {
            client: "RestTemplate",
            method,
            url: context.args.first().cloned().flatten(),
        });
    }
    if matches!(receiver_type, "RabbitTemplate" | "AmqpTemplate")
        || (receiver_type.is_empty() && receiver_text.ends_with("rabbittemplate"))
    {
        if !matches!(
            callee,
            "convertAndSend" | "send" | "convertSendAndReceive" | "sendAndReceive"
        ) {
            return None;
        }
        let strings: Vec<Option<String>> = context.args.to_vec();
        let (exchange, destination) = if strings.len() >= 3 {
            (strings[0].clone(), strings[1].clone())
        } else {
            (Some(String::new()), strings.first().cloned().flatten())
        };
        return Some(Effect::Produce {
            system: "rabbitmq",
            exchange,
            destination,
        });
    }
    if matches!(receiver_type, "KafkaTemplate") && callee == "send" {
        return Some(Effect::Produce {
            system: "kafka",
            exchange: None,
            destination: context.args.first().cloned().flatten(),
        });
    }
    if matches!(receiver_type, "MongoTemplate" | "MongoOperations") {
        return Some(Effect::Database {
            system: DbSystem::Mongo,
            library: "MongoTemplate",
            target: receiver_type.to_string(),
            operation: callee.to_string(),
        });
    }
    if matches!(
        receiver_type,
        "JdbcTemplate" | "NamedParameterJdbcTemplate" | "EntityManager"
    ) {
        return Some(Effect::Database {
            system: DbSystem::Sql,
            library: "jdbc",
            target: receiver_type.to_string(),
            operation: callee.to_string(),
        });
    }
    let supers: Vec<&str> = context
        .receiver_supertypes
        .iter()
        .map(|s| base_name(s))
        .collect();
    let is_repository = supers.iter().any(|s| s.ends_with("Repository"))
        || (receiver_type.ends_with("Repository") && !receiver_type.is_empty());
    if is_repository && !is_object_method(callee) {
        let system = if supers.iter().any(|s| s.contains("Mongo")) {
            DbSystem::Mongo
        } else if supers.iter().any(|s| s.starts_with("Jpa")) {
            DbSystem::Sql
        } else {
            context.store_hint.unwrap_or(DbSystem::Unknown)
        };
        return Some(Effect::Database {
            system,
            library: "spring-data",
            target: receiver_type.to_string(),
            operation: callee.to_string(),
        });
    }
    None
}

fn is_object_method(name: &str) -> bool {
    matches!(name, "toString" | "hashCode" | "equals" | "getClass")
}

/// The MongoDB driver operations a Spring Data / MongoTemplate method runs (legacy
/// driver names first, as TrainTicket's SkyWalking traces show them; then the
/// names of newer drivers).
pub fn mongo_operations(method: &str) -> Vec<&'static str> {
    let m = method.to_ascii_lowercase();
    if m.starts_with("count") {
        vec!["CountOperation"]
    } else if m.starts_with("exists") {
        vec!["CountOperation", "FindOperation"]
    } else if m.starts_with("delete") || m.starts_with("remove") {
        vec!["DeleteOperation", "MixedBulkWriteOperation"]
    } else if m.starts_with("insert") {
        vec!["InsertOperation", "MixedBulkWriteOperation"]
    } else if m.starts_with("save") || m.starts_with("update") || m.starts_with("upsert") {
        vec!["UpdateOperation", "MixedBulkWriteOperation"]
    } else if m.starts_with("aggregate") {
        vec!["AggregateOperation"]
    } else if m.starts_with("findandmodify") || m.starts_with("findandremove") {
        vec!["FindAndUpdateOperation", "FindAndDeleteOperation"]
    } else if m.starts_with("find")
        || m.starts_with("get")
        || m.starts_with("read")
        || m.starts_with("query")
        || m.starts_with("search")
        || m.starts_with("stream")
    {
        vec!["FindOperation"]
    } else {
        Vec::new()
    }
}

/// Exit span names of an effect.
pub fn effect_names(effect: &Effect) -> Vec<Matcher> {
    let mut names = Vec::new();
    match effect {
        Effect::Http { method, url, .. } => {
            if let Some(path) = url.as_deref().and_then(url_path) {
                names.push(path_matcher(&path));
            }
            match method {
                Some(m) => {
                    names.push(Matcher::Exact(m.clone()));
                    names.push(Matcher::Exact(format!("HTTP {m}")));
                }
                None => names.push(Matcher::Glob("HTTP *".into())),
            }
        }
        Effect::Database {
            system,
            library,
            target,
            operation,
        } => {
            if *system == DbSystem::Mongo {
                for op in mongo_operations(operation) {
                    names.push(Matcher::Exact(format!("MongoDB/{op}")));
                }
            }
            if *system == DbSystem::Sql {
                let statement = if mongo_operations(operation).first() == Some(&"FindOperation") {
                    "executeQuery"
                } else {
                    "executeUpdate"
                };
                names.push(Matcher::Exact(format!(
                    "Mysql/JDBI/PreparedStatement/{statement}"
                )));
            }
            if *library == "spring-data" && !target.is_empty() {
                names.push(Matcher::Exact(format!("{target}.{operation}")));
            }
        }
        Effect::Produce {
            system: "rabbitmq",
            exchange,
            destination,
        } => {
            if let Some(queue) = destination {
                match exchange {
                    Some(exchange) => names.push(Matcher::Exact(format!(
                        "RabbitMQ/Topic/{exchange}Queue/{queue}/Producer"
                    ))),
                    None => names.push(Matcher::Glob(format!(
                        "RabbitMQ/Topic/*Queue/{queue}/Producer"
                    ))),
                }
            }
            let exchange_name = match exchange.as_deref() {
                Some("") => "<default>",
                Some(name) => name,
                None => "*",
            };
            names.push(if exchange_name == "*" {
                Matcher::Glob("* publish".into())
            } else {
                Matcher::Exact(format!("{exchange_name} publish"))
            });
        }
        Effect::Produce { destination, .. } => {
            if let Some(topic) = destination {
                names.push(Matcher::Exact(format!("Kafka/{topic}/Producer")));
                names.push(Matcher::Exact(format!("{topic} publish")));
            }
        }
        Effect::GrpcClient { .. } => {}
    }
    names
}

fn annotation_strings<'a>(annotation: &'a Annotation, names: &[&str]) -> Vec<&'a str> {
    annotation
        .args
        .iter()
        .filter(|(name, _)| name.as_deref().is_none_or(|n| names.contains(&n)))
        .map(|(_, value)| value.as_str())
        .collect()
}

fn paths_of(annotation: &Annotation) -> Vec<String> {
    annotation_strings(annotation, &["value", "path"])
        .into_iter()
        .filter(|v| !v.contains('.') || v.starts_with('/'))
        .map(|v| v.trim_matches('"').to_string())
        .collect()
}

fn join_route(prefix: &str, path: &str) -> String {
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

/// The request mappings of a method: (HTTP methods, paths) per mapping annotation;
/// a mapping without a path maps `""`.
pub fn mappings(function: &Function) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for annotation in &function.annotations {
        let Some((_, fixed)) = MAPPINGS
            .iter()
            .find(|(n, _)| *n == base_name(&annotation.name))
        else {
            continue;
        };
        let methods: Vec<String> = match fixed {
            Some(m) => vec![m.to_string()],
            None => annotation_strings(annotation, &["method"])
                .into_iter()
                .filter(|v| v.contains("RequestMethod."))
                .map(|v| v.rsplit('.').next().unwrap_or(v).to_string())
                .collect(),
        };
        let mut paths = paths_of(annotation);
        if paths.is_empty() {
            paths.push(String::new());
        }
        out.push((methods, paths));
    }
    out
}

/// A call through a Spring Cloud `@FeignClient` interface: an HTTP call to the
/// client's service (`name`/`value`, or its `url`) at the method's mapping.
pub fn feign_effect(client: &TypeDecl, method: &Function) -> Option<Effect> {
    let annotation = client
        .annotations
        .iter()
        .find(|a| base_name(&a.name) == "FeignClient")?;
    let named = |keys: &[&str]| {
        annotation
            .args
            .iter()
            .find(|(k, _)| k.as_deref().is_some_and(|k| keys.contains(&k)))
            .map(|(_, v)| v.trim_matches('"').to_string())
    };
    let base = named(&["url"]).filter(|u| u.contains("://")).or_else(|| {
        named(&["name", "value"])
            .or_else(|| {
                annotation
                    .args
                    .iter()
                    .find(|(k, _)| k.is_none())
                    .map(|(_, v)| v.clone())
            })
            .map(|name| format!("http://{name}"))
    })?;
    let prefix = named(&["path"]).unwrap_or_default();
    let (methods, paths) = mappings(method).into_iter().next()?;
    let path = join_route(&prefix, paths.first().map_or("", String::as_str));
    Some(Effect::Http {
        client: "Feign",
        method: methods.first().cloned(),
        url: Some(format!("{}{path}", base.trim_end_matches('/'))),
    })
}

/// Entries declared by annotations: Spring MVC mappings (combined with the class's
/// `@RequestMapping`) and `@RabbitListener` / `@KafkaListener`.
pub fn declared_entries(file: &FileFacts, function: &Function) -> Vec<Entry> {
    let owner = function.owner.as_deref().and_then(|owner| {
        file.types
            .iter()
            .find(|t| t.name == owner || t.qualified == owner)
    });
    let mut entries = Vec::new();
    let is_controller = owner.is_some_and(|t| {
        t.annotations
            .iter()
            .any(|a| matches!(base_name(&a.name), "RestController" | "Controller"))
    });
    if is_controller {
        let prefixes: Vec<String> = owner
            .into_iter()
            .flat_map(|t| t.annotations.iter())
            .filter(|a| base_name(&a.name) == "RequestMapping")
            .flat_map(paths_of)
            .collect();
        let prefixes = if prefixes.is_empty() {
            vec![String::new()]
        } else {
            prefixes
        };
        for (methods, paths) in mappings(function) {
            for prefix in &prefixes {
                for path in &paths {
                    entries.push(Entry::Http {
                        framework: "spring-mvc",
                        methods: methods.clone(),
                        route: join_route(prefix, path),
                    });
                }
            }
        }
    }
    let class_listener = owner.and_then(|t| {
        t.annotations
            .iter()
            .find(|a| base_name(&a.name) == "RabbitListener")
    });
    for annotation in function
        .annotations
        .iter()
        .chain(class_listener.filter(|_| {
            function
                .annotations
                .iter()
                .any(|a| a.name == "RabbitHandler")
        }))
    {
        let system = match base_name(&annotation.name) {
            "RabbitListener" => "rabbitmq",
            "KafkaListener" => "kafka",
            _ => continue,
        };
        for destination in annotation_strings(annotation, &["queues", "topics", "value"]) {
            entries.push(Entry::Consumer {
                system,
                destination: destination.trim_matches('"').to_string(),
            });
        }
    }
    entries
}

/// Entry span names.
pub fn entry_names(entry: &Entry, function: &Function) -> Vec<Matcher> {
    let mut names = Vec::new();
    match entry {
        Entry::Http { methods, route, .. } => {
            if methods.is_empty() {
                names.push(Matcher::Exact(route.clone()));
                names.push(Matcher::Glob(format!("{{*}}{route}")));
                names.push(Matcher::Glob(format!("* {route}")));
            } else {
                names.push(Matcher::Exact(format!("{{{}}}{route}", methods.join(","))));
                for method in methods {
                    names.push(Matcher::Exact(format!("{method} {route}")));
                }
            }
            if let Some(owner) = &function.owner {
                let simple = owner.rsplit('.').next().unwrap_or(owner);
                names.push(Matcher::Exact(format!("{simple}.{}", function.name)));
            }
        }
        Entry::Consumer {
            system: "rabbitmq",
            destination,
        } => {
            names.push(Matcher::Glob(format!(
                "RabbitMQ/Topic/*Queue/{destination}/Consumer"
            )));
            names.push(Matcher::Exact(format!("{destination} process")));
        }
        Entry::Consumer { destination, .. } => {
            names.push(Matcher::Glob(format!("Kafka/{destination}/Consumer/*")));
            names.push(Matcher::Exact(format!("{destination} process")));
        }
        Entry::Grpc { full_method } => {
            names.push(Matcher::Exact(full_method.clone()));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_join_and_mongo_operations_follow_the_driver() {
        assert_eq!(join_route("/api/v1/x", "/{id}"), "/api/v1/x/{id}");
        assert_eq!(join_route("/api/v1/x/", "y"), "/api/v1/x/y");
        assert_eq!(join_route("", ""), "/");
        assert_eq!(mongo_operations("findByOrderId"), ["FindOperation"]);
        assert_eq!(mongo_operations("save")[0], "UpdateOperation");
        assert_eq!(mongo_operations("deleteById")[0], "DeleteOperation");
        assert!(mongo_operations("frobnicate").is_empty());
    }

    #[test]
    fn feign_clients_call_their_service() {
        let client = TypeDecl {
            name: "InventoryClient".into(),
            annotations: vec![Annotation {
                name: "FeignClient".into(),
                args: vec![
                    (Some("name".into()), "shop-inventory-service".into()),
                    (Some("path".into()), "/api/v1/stock".into()),
                ],
                ..Annotation::default()
            }],
            ..TypeDecl::default()
        };
        let method = Function {
            name: "priceOf".into(),
            annotations: vec![Annotation {
                name: "GetMapping".into(),
                args: vec![(None, "/{itemId}/price".into())],
                ..Annotation::default()
            }],
            ..Function::default()
        };
        assert_eq!(
            feign_effect(&client, &method),
            Some(Effect::Http {
                client: "Feign",
                method: Some("GET".into()),
                url: Some("http://shop-inventory-service/api/v1/stock/{itemId}/price".into()),
            })
        );
    }
}
