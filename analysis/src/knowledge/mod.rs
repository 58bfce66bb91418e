//! Framework and instrumentation knowledge as data: every file under `frameworks/` and
//! `profiles/` is embedded here, parsed and checked once, and served to the stages
//! that classify calls, find entries and name spans. This is the only module that
//! lists the data files; adding a framework or a profile is adding a file here and
//! its fixture (see `docs/architecture.md`).

pub mod model;
pub mod pattern;

use crate::facts::Language;
use model::{FrameworkFile, ProfileFile, SiteClass};
use pattern::{Pattern, Template};
use std::sync::OnceLock;

/// The framework files: (path inside the crate, text).
pub const FRAMEWORK_FILES: &[(&str, &str)] = &[
    (
        "frameworks/java/spring-web.toml",
        include_str!("../../frameworks/java/spring-web.toml"),
    ),
    (
        "frameworks/java/jax-rs.toml",
        include_str!("../../frameworks/java/jax-rs.toml"),
    ),
    (
        "frameworks/java/spring-cloud-openfeign.toml",
        include_str!("../../frameworks/java/spring-cloud-openfeign.toml"),
    ),
    (
        "frameworks/java/spring-data.toml",
        include_str!("../../frameworks/java/spring-data.toml"),
    ),
    (
        "frameworks/java/spring-boot.toml",
        include_str!("../../frameworks/java/spring-boot.toml"),
    ),
    (
        "frameworks/java/spring-data-rest.toml",
        include_str!("../../frameworks/java/spring-data-rest.toml"),
    ),
    (
        "frameworks/java/spring-cloud-gateway.toml",
        include_str!("../../frameworks/java/spring-cloud-gateway.toml"),
    ),
    (
        "frameworks/java/spring-amqp.toml",
        include_str!("../../frameworks/java/spring-amqp.toml"),
    ),
    (
        "frameworks/java/spring-webflux.toml",
        include_str!("../../frameworks/java/spring-webflux.toml"),
    ),
    (
        "frameworks/java/okhttp.toml",
        include_str!("../../frameworks/java/okhttp.toml"),
    ),
    (
        "frameworks/java/grpc-java.toml",
        include_str!("../../frameworks/java/grpc-java.toml"),
    ),
    (
        "frameworks/java/apache-httpclient.toml",
        include_str!("../../frameworks/java/apache-httpclient.toml"),
    ),
    (
        "frameworks/java/servlet.toml",
        include_str!("../../frameworks/java/servlet.toml"),
    ),
    (
        "frameworks/java/spring-data-redis.toml",
        include_str!("../../frameworks/java/spring-data-redis.toml"),
    ),
    (
        "frameworks/java/jedis.toml",
        include_str!("../../frameworks/java/jedis.toml"),
    ),
    (
        "frameworks/java/lettuce.toml",
        include_str!("../../frameworks/java/lettuce.toml"),
    ),
    (
        "frameworks/java/kafka-clients.toml",
        include_str!("../../frameworks/java/kafka-clients.toml"),
    ),
    (
        "frameworks/java/spring-scheduling.toml",
        include_str!("../../frameworks/java/spring-scheduling.toml"),
    ),
    (
        "frameworks/python/flask.toml",
        include_str!("../../frameworks/python/flask.toml"),
    ),
    (
        "frameworks/python/fastapi.toml",
        include_str!("../../frameworks/python/fastapi.toml"),
    ),
    (
        "frameworks/python/tornado.toml",
        include_str!("../../frameworks/python/tornado.toml"),
    ),
    (
        "frameworks/python/django.toml",
        include_str!("../../frameworks/python/django.toml"),
    ),
    (
        "frameworks/python/requests.toml",
        include_str!("../../frameworks/python/requests.toml"),
    ),
    (
        "frameworks/python/httpx.toml",
        include_str!("../../frameworks/python/httpx.toml"),
    ),
    (
        "frameworks/python/aiohttp.toml",
        include_str!("../../frameworks/python/aiohttp.toml"),
    ),
    (
        "frameworks/python/celery.toml",
        include_str!("../../frameworks/python/celery.toml"),
    ),
    (
        "frameworks/python/grpcio.toml",
        include_str!("../../frameworks/python/grpcio.toml"),
    ),
    (
        "frameworks/python/sqlalchemy.toml",
        include_str!("../../frameworks/python/sqlalchemy.toml"),
    ),
    (
        "frameworks/python/psycopg.toml",
        include_str!("../../frameworks/python/psycopg.toml"),
    ),
    (
        "frameworks/python/pymongo.toml",
        include_str!("../../frameworks/python/pymongo.toml"),
    ),
    (
        "frameworks/python/redis.toml",
        include_str!("../../frameworks/python/redis.toml"),
    ),
    (
        "frameworks/go/gin.toml",
        include_str!("../../frameworks/go/gin.toml"),
    ),
    (
        "frameworks/go/echo.toml",
        include_str!("../../frameworks/go/echo.toml"),
    ),
    (
        "frameworks/go/chi.toml",
        include_str!("../../frameworks/go/chi.toml"),
    ),
    (
        "frameworks/go/gorilla-mux.toml",
        include_str!("../../frameworks/go/gorilla-mux.toml"),
    ),
    (
        "frameworks/go/go-redis.toml",
        include_str!("../../frameworks/go/go-redis.toml"),
    ),
    (
        "frameworks/go/go-kit.toml",
        include_str!("../../frameworks/go/go-kit.toml"),
    ),
    (
        "frameworks/go/net-http.toml",
        include_str!("../../frameworks/go/net-http.toml"),
    ),
    (
        "frameworks/go/grpc.toml",
        include_str!("../../frameworks/go/grpc.toml"),
    ),
    (
        "frameworks/go/mongo.toml",
        include_str!("../../frameworks/go/mongo.toml"),
    ),
    (
        "frameworks/go/memcache.toml",
        include_str!("../../frameworks/go/memcache.toml"),
    ),
    (
        "frameworks/go/database-sql.toml",
        include_str!("../../frameworks/go/database-sql.toml"),
    ),
];

/// The instrumentation profiles: (path inside the crate, text).
pub const PROFILE_FILES: &[(&str, &str)] = &[
    (
        "profiles/skywalking-8.toml",
        include_str!("../../profiles/skywalking-8.toml"),
    ),
    (
        "profiles/skywalking.toml",
        include_str!("../../profiles/skywalking.toml"),
    ),
    (
        "profiles/otel-java-1.toml",
        include_str!("../../profiles/otel-java-1.toml"),
    ),
    (
        "profiles/otel-java-2.toml",
        include_str!("../../profiles/otel-java-2.toml"),
    ),
    (
        "profiles/otel-python.toml",
        include_str!("../../profiles/otel-python.toml"),
    ),
    (
        "profiles/otel-go.toml",
        include_str!("../../profiles/otel-go.toml"),
    ),
    (
        "profiles/opentracing-go.toml",
        include_str!("../../profiles/opentracing-go.toml"),
    ),
];

/// Everything the data files say, parsed and checked.
#[derive(Debug)]
pub struct Knowledge {
    /// Framework files, in registry order (the order rules are tried in).
    pub frameworks: Vec<FrameworkFile>,
    /// Profiles, in registry order.
    pub profiles: Vec<ProfileFile>,
}

/// What is wrong with a data file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DataError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Knowledge {
    /// The frameworks of a language.
    pub fn frameworks_of(&self, language: Language) -> impl Iterator<Item = &FrameworkFile> {
        self.frameworks
            .iter()
            .filter(move |f| f.language == language)
    }

    /// The profiles of a language.
    pub fn profiles_of(&self, language: Language) -> impl Iterator<Item = &ProfileFile> {
        self.profiles.iter().filter(move |p| p.language == language)
    }

    /// A profile by id.
    pub fn profile(&self, id: &str) -> Option<&ProfileFile> {
        self.profiles.iter().find(|p| p.id == id)
    }
}

/// Parses and checks data files: TOML shape, ids matching file names, unique ids,
/// and every pattern and template compiling.
pub fn load(
    frameworks: &[(&str, &str)],
    profiles: &[(&str, &str)],
) -> Result<Knowledge, DataError> {
    let mut knowledge = Knowledge {
        frameworks: Vec::new(),
        profiles: Vec::new(),
    };
    for (path, text) in frameworks {
        let file: FrameworkFile = parse(path, text)?;
        check_id(path, &file.id)?;
        check_framework(&file).map_err(|message| DataError {
            path: path.to_string(),
            message,
        })?;
        knowledge.frameworks.push(file);
    }
    for (path, text) in profiles {
        let file: ProfileFile = parse(path, text)?;
        check_id(path, &file.id.replace('@', "-"))?;
        check_profile(&file).map_err(|message| DataError {
            path: path.to_string(),
            message,
        })?;
        knowledge.profiles.push(file);
    }
    let mut ids: Vec<&str> = knowledge
        .frameworks
        .iter()
        .map(|f| f.id.as_str())
        .chain(knowledge.profiles.iter().map(|p| p.id.as_str()))
        .collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(DataError {
            path: pair[0].to_string(),
            message: "id used by two data files".into(),
        });
    }
    Ok(knowledge)
}

/// The embedded knowledge, loaded once. The files are part of the build and checked by
/// the unit tests, so a failure here is a defect of the build, not of the input.
pub fn embedded() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| {
        load(FRAMEWORK_FILES, PROFILE_FILES)
            .unwrap_or_else(|e| panic!("embedded data file is invalid (checked by tests): {e}"))
    })
}

fn parse<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, DataError> {
    toml::from_str(text).map_err(|e| DataError {
        path: path.to_string(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

fn check_id(path: &str, id: &str) -> Result<(), DataError> {
    let stem = path
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".toml"))
        .unwrap_or(path);
    if stem == id {
        Ok(())
    } else {
        Err(DataError {
            path: path.to_string(),
            message: format!("id {id:?} does not match the file name"),
        })
    }
}

fn patterns(list: &[String]) -> Result<(), String> {
    for text in list {
        Pattern::parse(text).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn templates<'a>(list: impl IntoIterator<Item = &'a String>) -> Result<(), String> {
    for text in list {
        Template::parse(text).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn check_framework(file: &FrameworkFile) -> Result<(), String> {
    for rule in &file.calls {
        for list in [
            &rule.receiver_types,
            &rule.receiver_written,
            &rule.receiver_supertypes,
            &rule.receiver_imports,
            &rule.not_receiver_imports,
            &rule.receiver_texts,
            &rule.not_receiver_texts,
            &rule.file_imports,
            &rule.not_file_imports,
            &rule.callees,
            &rule.not_callees,
        ] {
            patterns(list)?;
        }
        templates(rule.attrs.values().flatten())?;
        for by in rule.by_callee.iter().chain(&rule.chained) {
            patterns(&by.callees)?;
            templates(by.attrs.values().flatten())?;
        }
        for by in &rule.by_arg_type {
            patterns(&by.types)?;
            templates(by.attrs.values().flatten())?;
        }
        for (pattern, _) in rule.system_by_supertype.iter().chain(&rule.entity_stores) {
            Pattern::parse(pattern).map_err(|e| e.to_string())?;
        }
        for statement in &rule.statements {
            templates(&statement.sql)?;
            patterns(&statement.scripts)?;
            patterns(&statement.per_entity)?;
            for list in statement.when.values() {
                patterns(list)?;
            }
            if statement.sql.is_empty() == statement.scripts.is_empty() {
                return Err(format!(
                    "a statement rule of {} gives either sql or scripts",
                    rule.library
                ));
            }
            if !statement.per_entity.is_empty() && !statement.scripts.is_empty() {
                return Err(format!(
                    "a statement rule of {}: per_entity expands sql, not scripts",
                    rule.library
                ));
            }
        }
        if rule.statements_only && rule.statements.is_empty() {
            return Err(format!(
                "{}: statements_only without statements classifies calls into nothing",
                rule.library
            ));
        }
    }
    for rule in &file.served {
        patterns(&rule.requires_dependency)?;
        patterns(&rule.anchor_owner_annotations)?;
        patterns(&rule.anchor_functions)?;
        templates(rule.attrs.values().flatten())?;
        if rule.requires_dependency.is_empty() || rule.anchor_functions.is_empty() {
            return Err(format!(
                "served entries of {:?} need a dependency and an anchoring function",
                rule.framework
            ));
        }
    }
    for rule in &file.inner {
        if !matches!(rule.site, SiteClass::Internal | SiteClass::HttpClient) {
            return Err(format!(
                "inner spans of entry framework {:?}: site must be \"internal\" or \"http.client\"",
                rule.entry_framework
            ));
        }
        patterns(&rule.requires_dependency)?;
        patterns(&rule.not_dependency)?;
        templates(rule.attrs.values().flatten())?;
        if !file
            .entries
            .iter()
            .any(|entry| entry.framework == rule.entry_framework)
            && !file
                .served
                .iter()
                .any(|served| served.framework == rule.entry_framework)
            && !FRAMEWORK_FILES.iter().any(|(_, text)| {
                text.contains(&format!("framework = \"{}\"", rule.entry_framework))
            })
        {
            return Err(format!(
                "inner spans of unknown entry framework {:?}",
                rule.entry_framework
            ));
        }
    }
    for rule in &file.entries {
        patterns(&rule.owner_annotations)?;
        patterns(&rule.owner_supertypes)?;
        patterns(&rule.param_types)?;
        for (pattern, attrs) in rule.annotations.iter().chain(&rule.functions) {
            Pattern::parse(pattern).map_err(|e| e.to_string())?;
            templates(attrs.values().flatten())?;
        }
        if rule.annotations.is_empty() == rule.functions.is_empty() {
            return Err(format!(
                "an entry rule of {:?} gives either annotations or functions",
                rule.framework
            ));
        }
        if !rule.functions.is_empty()
            && rule.owner_annotations.is_empty()
            && rule.owner_supertypes.is_empty()
            && rule.owner_paths_from.is_none()
        {
            return Err(format!(
                "an entry rule of {:?} serves functions by name without an owner condition",
                rule.framework
            ));
        }
        templates(rule.defaults.values().flatten())?;
    }
    for rule in &file.registrations {
        patterns(&rule.callees)?;
        patterns(&rule.file_imports)?;
        patterns(&rule.methods_calls)?;
        patterns(&rule.route_calls)?;
        patterns(&rule.route_patterns)?;
        patterns(&rule.include_patterns)?;
        templates(rule.attrs.values().flatten())?;
    }
    for rule in &file.spans {
        patterns(&rule.callees)?;
        patterns(&rule.file_imports)?;
    }
    for rule in &file.routers {
        patterns(&rule.types)?;
        patterns(&rule.mounts)?;
        patterns(&rule.groups)?;
        patterns(&rule.same_prefix)?;
        patterns(&rule.scopes)?;
        patterns(&rule.mounts_at)?;
    }
    for rule in &file.config {
        if let Some(pattern) = &rule.pattern {
            Pattern::parse(pattern).map_err(|e| e.to_string())?;
        }
        if rule.keys.is_empty() && rule.type_annotations.is_empty() && rule.key_prefix.is_none() {
            return Err(format!(
                "config rule for {:?} has neither keys, key_prefix nor type_annotations",
                rule.attr
            ));
        }
        patterns(&rule.type_annotations)?;
    }
    for rule in &file.dependencies {
        patterns(&rule.dependencies)?;
    }
    for client in &file.clients {
        if !file
            .entries
            .iter()
            .any(|entry| entry.framework == client.mappings_of)
            && !FRAMEWORK_FILES
                .iter()
                .any(|(_, text)| text.contains(&format!("framework = \"{}\"", client.mappings_of)))
        {
            return Err(format!(
                "client {} names mappings of unknown framework {:?}",
                client.library, client.mappings_of
            ));
        }
    }
    Ok(())
}

fn check_profile(file: &ProfileFile) -> Result<(), String> {
    if file.cites.is_empty() {
        return Err("a profile cites the agent's naming code it follows".into());
    }
    patterns(&file.detect.dependencies)?;
    patterns(&file.detect.deployment)?;
    patterns(&file.detect.any_version_dependencies)?;
    patterns(&file.detect.any_version_deployment)?;
    patterns(&file.detect.api_dependencies)?;
    for rule in &file.names {
        templates(&rule.names)?;
        patterns(&rule.requires_dependency)?;
        for list in rule.when.values().chain(rule.unless.values()) {
            patterns(list)?;
        }
        if let Some(start) = &rule.start {
            if start.names.is_empty() {
                return Err("a start form names the span at its start".into());
            }
            templates(&start.names)?;
            templates(start.attributes.values())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_loads() {
        let knowledge = load(FRAMEWORK_FILES, PROFILE_FILES).unwrap();
        assert_eq!(knowledge.frameworks.len(), FRAMEWORK_FILES.len());
        assert_eq!(knowledge.profiles.len(), PROFILE_FILES.len());
    }

    #[test]
    fn bad_files_are_reported_with_their_path() {
        let bad = load(&[("frameworks/java/x.toml", "id = 1")], &[]).unwrap_err();
        assert_eq!(bad.path, "frameworks/java/x.toml");
        let misnamed = load(
            &[(
                "frameworks/java/x.toml",
                "id = \"y\"\nlanguage = \"java\"\ntitle = \"t\"\n",
            )],
            &[],
        )
        .unwrap_err();
        assert!(misnamed.message.contains("file name"), "{misnamed}");
        let bad_pattern = load(
            &[(
                "frameworks/java/x.toml",
                "id = \"x\"\nlanguage = \"java\"\ntitle = \"t\"\n[[calls]]\neffect = \"http\"\nlibrary = \"l\"\ncallees = [\"{oops\"]\n",
            )],
            &[],
        )
        .unwrap_err();
        assert!(bad_pattern.message.contains("unclosed"), "{bad_pattern}");
        let statement = |body: &str| {
            load(
                &[(
                    "frameworks/java/x.toml",
                    &format!(
                        "id = \"x\"\nlanguage = \"java\"\ntitle = \"t\"\n[[calls]]\neffect = \"database\"\nlibrary = \"l\"\nstatements_only = true\n[[calls.statements]]\nlibrary = \"jdbc\"\n{body}"
                    ),
                )],
                &[],
            )
        };
        let neither = statement("").unwrap_err();
        assert!(
            neither.message.contains("either sql or scripts"),
            "{neither}"
        );
        let both = statement("sql = [\"select 1\"]\nscripts = [\"*.sql\"]\n").unwrap_err();
        assert!(both.message.contains("either sql or scripts"), "{both}");
        let entity_scripts =
            statement("scripts = [\"*.sql\"]\nper_entity = [\"Entity\"]\n").unwrap_err();
        assert!(
            entity_scripts.message.contains("per_entity"),
            "{entity_scripts}"
        );
        assert!(statement("sql = [\"select next value for {table}_seq\"]\n").is_ok());
        let no_statements = load(
            &[(
                "frameworks/java/x.toml",
                "id = \"x\"\nlanguage = \"java\"\ntitle = \"t\"\n[[calls]]\neffect = \"database\"\nlibrary = \"l\"\nstatements_only = true\n",
            )],
            &[],
        )
        .unwrap_err();
        assert!(
            no_statements.message.contains("statements_only"),
            "{no_statements}"
        );
        let unknown_inner = load(
            &[(
                "frameworks/java/x.toml",
                "id = \"x\"\nlanguage = \"java\"\ntitle = \"t\"\n[[inner]]\nentry_framework = \"nope\"\nrequires_dependency = [\"a:b\"]\nattrs = {}\n",
            )],
            &[],
        )
        .unwrap_err();
        assert!(
            unknown_inner.message.contains("unknown entry framework"),
            "{unknown_inner}"
        );
        let database_inner = load(
            &[(
                "frameworks/java/x.toml",
                "id = \"x\"\nlanguage = \"java\"\ntitle = \"t\"\n[[inner]]\nentry_framework = \"spring-mvc\"\nsite = \"db\"\nrequires_dependency = [\"a:b\"]\nattrs = {}\n",
            )],
            &[],
        )
        .unwrap_err();
        assert!(
            database_inner.message.contains("site must be"),
            "{database_inner}"
        );
    }
}
