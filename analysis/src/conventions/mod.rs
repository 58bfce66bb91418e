//! Naming and library conventions, one module per language: which calls are HTTP
//! clients, databases, message producers or gRPC stubs ([`Effect`]), which functions
//! are server entry points ([`Entry`]: Spring MVC, Flask/FastAPI, net/http, gRPC,
//! message listeners), and the span names tracing agents give each of them
//! (SkyWalking and OpenTelemetry for Java; OpenTelemetry for Python; OpenTracing and
//! OpenTelemetry for Go).
//!
//! Everything here works on facts plus what resolution learned about a call's
//! receiver; nothing here knows about tree-sitter or the call graph.

pub mod go;
pub mod java;
pub mod python;

use crate::facts::{Call, FileFacts, Function, Language};
use policy_schema::Matcher;

/// What resolution knows about a call, for classification.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// The file.
    pub file: &'a FileFacts,
    /// The calling function.
    pub function: &'a Function,
    /// The call.
    pub call: &'a Call,
    /// Declared type of the receiver, as written, without generics or `*`
    /// (`OrderRepository`, `pb.GeoClient`, `Session`).
    pub receiver_type: Option<&'a str>,
    /// Supertypes of the receiver's type, transitively, as written
    /// (`MongoRepository<Order, String>`).
    pub receiver_supertypes: &'a [String],
    /// Import path the receiver names when it is a package or module alias
    /// (`net/http`, `requests`), or the import path of the receiver type's package.
    pub receiver_import: Option<&'a str>,
    /// Argument patterns with named string constants substituted.
    pub args: &'a [Option<String>],
    /// The store behind a repository receiver, when known: from its entity's
    /// annotations (`@Document` → MongoDB, `@Entity` → SQL) or the service's
    /// configuration (`spring.data.mongodb` / `spring.datasource`).
    pub store_hint: Option<DbSystem>,
}

/// A database family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DbSystem {
    /// MongoDB.
    Mongo,
    /// A SQL database.
    Sql,
    /// Redis.
    Redis,
    /// Memcached.
    Memcached,
    /// Some repository whose store is unknown.
    Unknown,
}

/// A call that leaves the process (or reaches a store): what tracing agents make exit
/// spans of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// An HTTP client call.
    Http {
        /// Client library: `RestTemplate`, `requests`, `net/http`.
        client: &'static str,
        /// HTTP method, upper case, when known.
        method: Option<String>,
        /// URL pattern with `{}` placeholders, when known.
        url: Option<String>,
    },
    /// A database call.
    Database {
        /// Which store.
        system: DbSystem,
        /// Library: `spring-data`, `MongoTemplate`, `sqlalchemy`, `pymongo`, `mgo`, ...
        library: &'static str,
        /// The receiver's type or text (`OrderRepository`, `db.session`).
        target: String,
        /// The called method (`findByOrderId`, `query`, `Find`).
        operation: String,
    },
    /// A message sent.
    Produce {
        /// `rabbitmq` or `kafka`.
        system: &'static str,
        /// Exchange (RabbitMQ), when known; `""` is the default exchange.
        exchange: Option<String>,
        /// Routing key, queue or topic, when known.
        destination: Option<String>,
    },
    /// A gRPC client stub call.
    GrpcClient {
        /// The proto package once resolved (`geo`); before, the stub's import path.
        package: String,
        /// The proto service (`Geo` for `GeoClient`).
        service: String,
        /// The RPC method.
        method: String,
    },
}

impl Effect {
    /// Score reason kind of this effect.
    pub fn reason_kind(&self) -> &'static str {
        match self {
            Effect::Http { .. } | Effect::GrpcClient { .. } => "external-call",
            Effect::Database { .. } => "database",
            Effect::Produce { .. } => "messaging",
        }
    }
}

/// A function that serves requests or messages: what agents make entry spans of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entry {
    /// An HTTP route.
    Http {
        /// Framework: `spring-mvc`, `flask`, `fastapi`, `net/http`.
        framework: &'static str,
        /// Methods, upper case; empty when any method.
        methods: Vec<String>,
        /// Route template as the framework writes it (`/orders/{id}`, `/o/<int:id>`).
        route: String,
    },
    /// A gRPC server method.
    Grpc {
        /// Full method, `/pkg.Service/Method`.
        full_method: String,
    },
    /// A message listener.
    Consumer {
        /// `rabbitmq` or `kafka`.
        system: &'static str,
        /// Queue or topic.
        destination: String,
    },
}

/// Classifies a call: an [`Effect`] when it leaves the process or reaches a store.
pub fn classify(language: Language, context: &CallContext<'_>) -> Option<Effect> {
    match language {
        Language::Java => java::classify(context),
        Language::Python => python::classify(context),
        Language::Go => go::classify(context),
    }
}

/// Entries a function declares by itself (annotations, decorators); `prefix_of` gives
/// the route prefix of a Python router variable.
pub fn declared_entries(
    language: Language,
    file: &FileFacts,
    function: &Function,
    prefix_of: &dyn Fn(&str) -> String,
) -> Vec<Entry> {
    match language {
        Language::Java => java::declared_entries(file, function),
        Language::Python => python::declared_entries(function, prefix_of),
        Language::Go => Vec::new(),
    }
}

/// Span names of an exit span for an effect, under each agent the language has.
pub fn effect_names(language: Language, effect: &Effect) -> Vec<Matcher> {
    match language {
        Language::Java => java::effect_names(effect),
        Language::Python => python::effect_names(effect),
        Language::Go => go::effect_names(effect),
    }
}

/// Span names of an entry span, under each agent the language has.
pub fn entry_names(language: Language, entry: &Entry, function: &Function) -> Vec<Matcher> {
    match language {
        Language::Java => java::entry_names(entry, function),
        Language::Python => python::entry_names(entry),
        Language::Go => go::entry_names(entry),
    }
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
    const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
    call.arg_texts.iter().find_map(|text| {
        let last = text
            .rsplit('.')
            .next()
            .unwrap_or(text)
            .trim_matches(['"', '\'']);
        METHODS.contains(&last).then(|| last.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
