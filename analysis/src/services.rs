//! Services: which service each file belongs to, from build and configuration files.
//!
//! A *service root* is a directory that holds a service: a Maven module (`pom.xml`,
//! unless it only aggregates modules), a Gradle module, a Dockerfile or a docker-compose
//! build context, a Python project, or a Go `cmd/<name>` / `services/<name>` folder. A
//! file belongs to the deepest root above it; files under no root belong to their
//! top-level folder. The root's name is, in order of preference: Spring's
//! `spring.application.name` (unless templated), the docker-compose service built from
//! it, the Maven artifactId, the folder name. That is the name tracing agents report,
//! e.g. `ts-order-service` in TrainTicket or `geo` in hotelReservation.

use crate::discover::{ConfigFile, ConfigKind};
use std::collections::BTreeMap;

/// Maps files to services.
#[derive(Debug, Clone, Default)]
pub struct ServiceMap {
    /// Service root directory (relative, no trailing `/`; `""` is the root) → name.
    roots: BTreeMap<String, String>,
    /// Name of the source root folder, for files at the top level.
    root_name: String,
}

impl ServiceMap {
    /// Builds the map from configuration files and the source paths.
    pub fn build<'a>(
        configs: &[ConfigFile],
        source_paths: impl IntoIterator<Item = &'a str>,
        root_name: &str,
    ) -> Self {
        let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
        for config in configs {
            let dir = parent_dir(&config.rel_path);
            match config.kind {
                ConfigKind::MavenPom => {
                    if is_aggregator_pom(&config.text) {
                        continue;
                    }
                    let entry = candidates.entry(dir.to_string()).or_default();
                    entry.artifact = pom_artifact_id(&config.text).filter(|n| !is_templated(n));
                }
                ConfigKind::SpringConfig => {
                    if let Some(name) = spring_application_name(&config.text) {
                        let module = spring_module_dir(&config.rel_path);
                        let entry = candidates.entry(module.to_string()).or_default();
                        // application.yml beats profile-specific files: first (sorted) wins.
                        if entry.spring.is_none() && !is_templated(&name) {
                            entry.spring = Some(name);
                        }
                    }
                }
                ConfigKind::Gradle | ConfigKind::Dockerfile | ConfigKind::PythonProject => {
                    if !dir.is_empty() {
                        candidates.entry(dir.to_string()).or_default();
                    }
                }
                ConfigKind::Compose => {
                    for (service, context) in compose_build_contexts(&config.text) {
                        let joined = join_dir(dir, &context);
                        if !joined.is_empty() {
                            candidates.entry(joined).or_default().compose = Some(service);
                        }
                    }
                }
                ConfigKind::GoMod
                | ConfigKind::Proto
                | ConfigKind::Requirements
                | ConfigKind::Manifest
                | ConfigKind::SqlScript
                | ConfigKind::WebXml => {}
            }
        }
        for path in source_paths {
            if let Some(dir) = go_service_dir(path) {
                candidates.entry(dir.to_string()).or_default();
            }
        }
        let roots = candidates
            .into_iter()
            .map(|(dir, candidate)| {
                let folder = dir.rsplit('/').next().unwrap_or(&dir).to_string();
                let name = candidate
                    .spring
                    .or(candidate.compose)
                    .or(candidate.artifact)
                    .unwrap_or(if dir.is_empty() {
                        root_name.to_string()
                    } else {
                        folder
                    });
                (dir, name)
            })
            .collect();
        Self {
            roots,
            root_name: root_name.to_string(),
        }
    }

    /// The service of a file (relative path).
    pub fn service_of(&self, path: &str) -> String {
        let mut dir = parent_dir(path);
        loop {
            if let Some(name) = self.roots.get(dir) {
                return name.clone();
            }
            if dir.is_empty() {
                break;
            }
            dir = parent_dir(dir);
        }
        match path.split_once('/') {
            Some((top, _)) => top.to_string(),
            None => self.root_name.clone(),
        }
    }

    /// Every service root and its name.
    pub fn roots(&self) -> &BTreeMap<String, String> {
        &self.roots
    }
}

#[derive(Debug, Default)]
struct Candidate {
    spring: Option<String>,
    compose: Option<String>,
    artifact: Option<String>,
}

fn is_templated(name: &str) -> bool {
    name.contains("${") || name.contains("{{") || name.trim().is_empty()
}

/// The directory of a relative path (`""` for top-level files).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join_dir(base: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if base.is_empty() {
        Vec::new()
    } else {
        base.split('/').collect()
    };
    for part in rel.trim().trim_matches('"').trim_matches('\'').split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// A Spring config under `X/src/main/resources/` belongs to module `X`.
fn spring_module_dir(path: &str) -> &str {
    let dir = parent_dir(path);
    for marker in ["/src/main/resources", "src/main/resources"] {
        if let Some(at) = dir.find(marker) {
            return &dir[..at];
        }
    }
    dir
}

/// Go services: `cmd/<name>/...` and `services/<name>/...` (at any depth).
fn go_service_dir(path: &str) -> Option<&str> {
    if !path.ends_with(".go") {
        return None;
    }
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        if matches!(*part, "cmd" | "services" | "service") && i + 2 < parts.len() {
            let end: usize = parts[..=i + 1].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
            return Some(&path[..end]);
        }
    }
    None
}

fn is_aggregator_pom(text: &str) -> bool {
    text.contains("<modules>") || text.contains("<packaging>pom</packaging>")
}

/// The project's own artifactId (not the parent's nor a dependency's).
pub fn pom_artifact_id(text: &str) -> Option<String> {
    pom_project_value(text, "artifactId")
}

/// The context path a servlet container gives a WAR-packaged Maven project that a
/// deployment line copies into a container's `webapps/` directory (Tomcat, Jetty: the
/// WAR's file name is the context path, `ROOT` the empty one): the file name the line
/// gives, else the build's `finalName` (default `artifactId-version`). `None` when the
/// project is no WAR, nothing deploys it so, or the name is not known from the pom
/// (an unresolved `${...}`). `deployment` lines are lower case.
pub fn war_context_path(pom: &str, deployment: &[String]) -> Option<String> {
    if pom_project_value(pom, "packaging").as_deref() != Some("war") {
        return None;
    }
    let target = deployment.iter().find_map(|line| {
        if !line.starts_with("copy ") && !line.starts_with("add ") {
            return None;
        }
        let at = line.find("webapps/")?;
        let rest = &line[at + "webapps/".len()..];
        Some(rest.split_whitespace().next().unwrap_or("").to_string())
    })?;
    let artifact = pom_artifact_id(pom)?;
    let version = pom_project_value(pom, "version");
    let named = xml_values(pom, "finalName")
        .next()
        .unwrap_or_else(|| format!("{artifact}-${{project.version}}"));
    let mut name = named
        .replace("${project.artifactId}", &artifact)
        .replace("${artifactId}", &artifact);
    if let Some(version) = &version {
        name = name
            .replace("${project.version}", version)
            .replace("${version}", version);
    }
    let file = target.trim_end_matches('/');
    let name = match file.strip_suffix(".war") {
        // Lower case on the line: the pom's spelling when it is the same name.
        Some(renamed) if !renamed.eq_ignore_ascii_case(&name) => renamed.to_string(),
        _ if !file.is_empty() && !file.ends_with(".war") => return None,
        _ if name.contains("${") => return None,
        _ => name,
    };
    Some(if name.eq_ignore_ascii_case("ROOT") {
        String::new()
    } else {
        format!("/{name}")
    })
}

/// The value of a top-level element of the project (not the parent's, a dependency's
/// or a plugin's).
fn pom_project_value(text: &str, wanted: &str) -> Option<String> {
    let mut depth_skip = 0usize;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let close = rest.find('>')?;
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        let name = tag.split_whitespace().next().unwrap_or("");
        match name {
            "parent"
            | "dependencies"
            | "dependencyManagement"
            | "build"
            | "plugins"
            | "profiles"
            | "exclusions"
            | "reporting" => depth_skip += 1,
            "/parent"
            | "/dependencies"
            | "/dependencyManagement"
            | "/build"
            | "/plugins"
            | "/profiles"
            | "/exclusions"
            | "/reporting" => depth_skip = depth_skip.saturating_sub(1),
            _ if name == wanted && depth_skip == 0 => {
                let end = rest.find('<')?;
                return Some(rest[..end].trim().to_string());
            }
            _ => {}
        }
    }
    None
}

/// `spring.application.name` from YAML or properties text.
pub fn spring_application_name(text: &str) -> Option<String> {
    let wanted = ["spring", "application", "name"];
    if let Some(value) = text.lines().find_map(|line| {
        let line = line.trim();
        let (key, value) = line.split_once('=').or_else(|| line.split_once(':'))?;
        (key.trim() == "spring.application.name").then(|| value.trim().to_string())
    }) {
        return Some(unquote(&value));
    }
    yaml_values(text)
        .into_iter()
        .find(|(path, _)| path.iter().map(String::as_str).eq(wanted))
        .map(|(_, value)| value)
}

fn unquote(value: &str) -> String {
    value
        .trim()
        .trim_matches('"')
        .trim_matches('\'')
        .to_string()
}

/// Key paths and scalar values of a simple YAML document (indentation only; lists of
/// scalars, anchors and flow style are ignored). Enough for names in config files.
pub fn yaml_values(text: &str) -> Vec<(Vec<String>, String)> {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.split(" #").next().unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        let Some((key, value)) = item.split_once(':') else {
            continue;
        };
        if key.contains(' ') && !key.starts_with('"') {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let key = unquote(key);
        let value = value.trim();
        if value.is_empty() {
            stack.push((indent, key));
        } else {
            let mut path: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
            path.push(key);
            out.push((path, unquote(value)));
        }
    }
    out
}

/// docker-compose services with a build context: (service name, context dir).
pub fn compose_build_contexts(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, value) in yaml_values(text) {
        match path.as_slice() {
            [services, name, build] if services == "services" && build == "build" => {
                out.push((name.clone(), value))
            }
            [services, name, build, context]
                if services == "services" && build == "build" && context == "context" =>
            {
                out.push((name.clone(), value))
            }
            [name, build] if build == "build" && name != "services" => {
                out.push((name.clone(), value))
            }
            _ => {}
        }
    }
    out
}

/// Build dependencies a build file declares, lower case: Maven `group:artifact` (and
/// `group:artifact:version` when the version is literal), Gradle coordinates, Go module
/// paths, Python distribution names.
pub fn dependencies_of(config: &ConfigFile) -> Vec<String> {
    let text = &config.text;
    let mut out = Vec::new();
    match config.kind {
        ConfigKind::MavenPom => {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("<dependency>") {
                let after = &rest[start + "<dependency>".len()..];
                let end = after.find("</dependency>").unwrap_or(after.len());
                let block = &after[..end];
                let tag = |name: &str| {
                    let open = format!("<{name}>");
                    let start = block.find(&open)? + open.len();
                    let end = block[start..].find('<')? + start;
                    Some(block[start..end].trim().to_ascii_lowercase())
                };
                if let (Some(group), Some(artifact)) = (tag("groupId"), tag("artifactId")) {
                    out.push(format!("{group}:{artifact}"));
                    if let Some(version) = tag("version").filter(|v| !v.contains("${")) {
                        out.push(format!("{group}:{artifact}:{version}"));
                    }
                }
                rest = &after[end..];
            }
        }
        ConfigKind::Gradle => {
            for quoted in text.split(['\'', '"']).skip(1).step_by(2) {
                let parts: Vec<&str> = quoted.split(':').collect();
                if (2..=3).contains(&parts.len())
                    && parts.iter().all(|p| !p.is_empty() && !p.contains(' '))
                {
                    out.push(format!("{}:{}", parts[0], parts[1]).to_ascii_lowercase());
                    if parts.len() == 3 {
                        out.push(quoted.to_ascii_lowercase());
                    }
                }
            }
        }
        ConfigKind::GoMod => {
            let mut in_block = false;
            for line in text.lines() {
                let line = line.split("//").next().unwrap_or("").trim();
                if line.starts_with("require (") {
                    in_block = true;
                    continue;
                }
                if in_block && line.starts_with(')') {
                    in_block = false;
                    continue;
                }
                let spec = if in_block {
                    Some(line)
                } else {
                    line.strip_prefix("require ")
                };
                if let Some(module) = spec.and_then(|s| s.split_whitespace().next()) {
                    out.push(module.to_ascii_lowercase());
                }
            }
        }
        ConfigKind::Requirements => {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if line.is_empty() || line.starts_with('-') {
                    continue;
                }
                let name = line
                    .split(|c: char| "=<>~!;[ @".contains(c))
                    .next()
                    .unwrap_or("");
                if !name.is_empty() {
                    out.push(name.to_ascii_lowercase().replace('_', "-"));
                }
            }
        }
        ConfigKind::PythonProject => {
            let mut in_list = false;
            for line in text.lines() {
                let trimmed = line.trim();
                if trimmed.starts_with("dependencies") || trimmed.starts_with("install_requires") {
                    in_list = true;
                }
                if in_list {
                    for quoted in trimmed.split(['"', '\'']).skip(1).step_by(2) {
                        let name = quoted
                            .split(|c: char| "=<>~!;[ @".contains(c))
                            .next()
                            .unwrap_or("");
                        if !name.is_empty() {
                            out.push(name.to_ascii_lowercase().replace('_', "-"));
                        }
                    }
                    if trimmed.contains(']') {
                        in_list = false;
                    }
                }
            }
        }
        _ => {}
    }
    out.sort();
    out.dedup();
    out
}

/// Key paths and values of a Spring configuration file (YAML or properties), as
/// dotted keys.
pub fn config_pairs(config: &ConfigFile) -> Vec<(String, String)> {
    if config.kind == ConfigKind::WebXml {
        let mut pairs = servlet_paths(&config.text);
        pairs.extend(servlet_mappings(&config.text));
        return pairs;
    }
    if config.rel_path.ends_with(".properties") {
        return config
            .text
            .lines()
            .filter_map(|line| {
                let line = line.trim();
                if line.starts_with('#') || line.starts_with('!') {
                    return None;
                }
                let (key, value) = line.split_once('=').or_else(|| line.split_once(':'))?;
                Some((key.trim().to_string(), unquote(value)))
            })
            .collect();
    }
    yaml_values(&config.text)
        .into_iter()
        .map(|(path, value)| (path.join("."), value))
        .collect()
}

/// A web.xml's servlet paths: `servlet-path.<servlet-class>` (and
/// `servlet-path.<servlet-name>`, which a JAX-RS container reads as the `Application`
/// subclass when no class is given) for every path-prefix `url-pattern` (`/rest/*` →
/// `/rest`, `/*` → empty), the servlet path the Servlet specification (12.2) gives a
/// request under it. Exact and extension mappings have no fixed prefix: left out.
fn servlet_paths(text: &str) -> Vec<(String, String)> {
    let text = without_xml_comments(text);
    let classes: BTreeMap<String, String> = xml_blocks(&text, "servlet")
        .filter_map(|block| {
            let name = xml_values(block, "servlet-name").next()?;
            let class = xml_values(block, "servlet-class").next()?;
            Some((name, class))
        })
        .collect();
    let mut pairs = Vec::new();
    for block in xml_blocks(&text, "servlet-mapping") {
        let Some(name) = xml_values(block, "servlet-name").next() else {
            continue;
        };
        for pattern in xml_values(block, "url-pattern") {
            let Some(path) = pattern.strip_suffix("/*") else {
                continue;
            };
            for owner in std::iter::once(&name).chain(classes.get(&name)) {
                pairs.push((format!("servlet-path.{owner}"), path.to_string()));
            }
        }
    }
    pairs
}

/// A web.xml's servlet mappings by servlet class: `servlet-mapping.<servlet-class>`
/// (a nested class's `$` read as `.`, the name the parser gives it) once for every
/// route its `url-pattern`s (Servlet specification 12.2) can be reported as, the way
/// the OpenTelemetry Java agent's `MappingResolver` reports the mapping that served a
/// request: an exact (`/foo`) or path-prefix (`/foo/*`) pattern as written, an
/// extension pattern `*.do` as `/*.do`, the default servlet `/` (and `/*`) as `/` for
/// the context root and `/*` for every other path, the empty pattern as `/`. JSP
/// files (`<jsp-file>`, `*.jsp`) are no servlet class of the code: left out.
fn servlet_mappings(text: &str) -> Vec<(String, String)> {
    let text = without_xml_comments(text);
    let classes: BTreeMap<String, String> = xml_blocks(&text, "servlet")
        .filter_map(|block| {
            let name = xml_values(block, "servlet-name").next()?;
            let class = xml_values(block, "servlet-class").next()?;
            Some((name, class.replace('$', ".")))
        })
        .collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for block in xml_blocks(&text, "servlet-mapping") {
        let Some(class) = xml_values(block, "servlet-name")
            .next()
            .and_then(|name| classes.get(&name))
        else {
            continue;
        };
        for pattern in xml_values(block, "url-pattern") {
            let routes: Vec<String> = match pattern.as_str() {
                "" => vec!["/".into()],
                "/" | "/*" => vec!["/".into(), "/*".into()],
                "*.jsp" | "*.jspx" => Vec::new(),
                extension if extension.starts_with("*.") && extension.len() > 2 => {
                    vec![format!("/{extension}")]
                }
                other => vec![other.to_string()],
            };
            for route in routes {
                let pair = (format!("servlet-mapping.{class}"), route);
                if !pairs.contains(&pair) {
                    pairs.push(pair);
                }
            }
        }
    }
    pairs
}

fn without_xml_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("-->")
            .map_or("", |end| &rest[start + end + 3..]);
    }
    out.push_str(rest);
    out
}

/// The contents of every `<tag>...</tag>` element (without attributes on the tag).
fn xml_blocks<'a>(text: &'a str, tag: &str) -> impl Iterator<Item = &'a str> + use<'a> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let end = rest[start..].find(&close)? + start;
        let block = &rest[start..end];
        rest = &rest[end + close.len()..];
        Some(block)
    })
}

fn xml_values<'a>(text: &'a str, tag: &str) -> impl Iterator<Item = String> + use<'a> {
    xml_blocks(text, tag).map(|v| v.trim().to_string())
}

/// The `module` line of a go.mod.
pub fn go_module_path(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("module "))
        .map(|m| unquote(m.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_war_copied_into_webapps_is_served_under_its_name() {
        let pom = "<project><parent><artifactId>p</artifactId><version>9</version></parent>\
            <artifactId>Shop.Auth</artifactId><version>1.2</version><packaging>war</packaging>\
            <build><finalName>${project.artifactId}</finalName></build></project>";
        let copy = |line: &str| vec!["from tomcat".to_string(), line.to_string()];
        let dir = copy("copy target/*.war /usr/local/tomcat/webapps/");
        assert_eq!(war_context_path(pom, &dir).as_deref(), Some("/Shop.Auth"));
        let same = copy("copy target/x.war /usr/local/tomcat/webapps/shop.auth.war");
        assert_eq!(war_context_path(pom, &same).as_deref(), Some("/Shop.Auth"));
        let root = copy("copy target/*.war /usr/local/tomcat/webapps/root.war");
        assert_eq!(war_context_path(pom, &root).as_deref(), Some(""));
        // Removing the default applications is no deployment.
        let removed = copy("run rm -rf /usr/local/tomcat/webapps/*");
        assert_eq!(war_context_path(pom, &removed), None);
        let jar = pom.replace("war</packaging>", "jar</packaging>");
        assert_eq!(war_context_path(&jar, &dir), None);
        let default_name = pom.replace(
            "<build><finalName>${project.artifactId}</finalName></build>",
            "",
        );
        assert_eq!(
            war_context_path(&default_name, &dir).as_deref(),
            Some("/Shop.Auth-1.2")
        );
        let inherited = default_name.replace("<version>1.2</version>", "");
        assert_eq!(war_context_path(&inherited, &dir), None);
    }

    #[test]
    fn web_xml_gives_the_servlet_path_of_each_prefix_mapping() {
        let text = r#"<web-app>
  <servlet><servlet-name>rest</servlet-name>
    <servlet-class>org.example.Container</servlet-class></servlet>
  <!-- <servlet-mapping><servlet-name>rest</servlet-name><url-pattern>/old/*</url-pattern></servlet-mapping> -->
  <servlet-mapping><servlet-name>rest</servlet-name>
    <url-pattern> /api/v1/* </url-pattern><url-pattern>*.do</url-pattern></servlet-mapping>
  <servlet-mapping><servlet-name>org.example.App</servlet-name>
    <url-pattern>/*</url-pattern></servlet-mapping>
</web-app>"#;
        let pairs = config_pairs(&config("WEB-INF/web.xml", ConfigKind::WebXml, text));
        let pairs: Vec<_> = pairs
            .into_iter()
            .filter(|(key, _)| key.starts_with("servlet-path."))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("servlet-path.rest".to_string(), "/api/v1".to_string()),
                (
                    "servlet-path.org.example.Container".into(),
                    "/api/v1".into()
                ),
                ("servlet-path.org.example.App".into(), String::new()),
            ]
        );
    }

    #[test]
    fn web_xml_maps_each_servlet_class_to_the_routes_the_agent_reports() {
        let text = r#"<web-app>
  <servlet><servlet-name>orders</servlet-name>
    <servlet-class>shop.OrderServlet</servlet-class></servlet>
  <servlet><servlet-name>nested</servlet-name>
    <servlet-class>shop.Servlets$Health</servlet-class></servlet>
  <servlet><servlet-name>page</servlet-name><jsp-file>/page.jsp</jsp-file></servlet>
  <servlet-mapping><servlet-name>orders</servlet-name>
    <url-pattern>/orders</url-pattern><url-pattern>/orders/*</url-pattern>
    <url-pattern>*.do</url-pattern><url-pattern>*.jsp</url-pattern></servlet-mapping>
  <!-- <servlet-mapping><servlet-name>orders</servlet-name><url-pattern>/old</url-pattern></servlet-mapping> -->
  <servlet-mapping><servlet-name>nested</servlet-name><url-pattern>/</url-pattern>
    <url-pattern></url-pattern></servlet-mapping>
  <servlet-mapping><servlet-name>page</servlet-name><url-pattern>/page</url-pattern></servlet-mapping>
</web-app>"#;
        let pairs: Vec<(String, String)> =
            config_pairs(&config("WEB-INF/web.xml", ConfigKind::WebXml, text))
                .into_iter()
                .filter(|(key, _)| key.starts_with("servlet-mapping."))
                .collect();
        let pair = |key: &str, route: &str| (format!("servlet-mapping.{key}"), route.to_string());
        assert_eq!(
            pairs,
            vec![
                pair("shop.OrderServlet", "/orders"),
                pair("shop.OrderServlet", "/orders/*"),
                pair("shop.OrderServlet", "/*.do"),
                pair("shop.Servlets.Health", "/"),
                pair("shop.Servlets.Health", "/*"),
            ]
        );
    }

    fn config(rel_path: &str, kind: ConfigKind, text: &str) -> ConfigFile {
        ConfigFile {
            rel_path: rel_path.into(),
            kind,
            text: text.into(),
        }
    }

    #[test]
    fn names_services_from_spring_maven_go_and_folders() {
        let configs = vec![
            config(
                "pom.xml",
                ConfigKind::MavenPom,
                "<project><modules><module>a</module></modules></project>",
            ),
            config(
                "ts-order-service/pom.xml",
                ConfigKind::MavenPom,
                "<project><parent><artifactId>ts</artifactId></parent><artifactId>order-artifact</artifactId></project>",
            ),
            config(
                "ts-order-service/src/main/resources/application.yml",
                ConfigKind::SpringConfig,
                "server:\n  port: 1\nspring:\n  application:\n    name: ts-order-service\n",
            ),
            config(
                "pay/pom.xml",
                ConfigKind::MavenPom,
                "<project><artifactId>payment</artifactId></project>",
            ),
            config(
                "pay/src/main/resources/application.properties",
                ConfigKind::SpringConfig,
                "spring.application.name=${APP_NAME}\n",
            ),
        ];
        let paths = [
            "ts-order-service/src/main/java/order/A.java",
            "pay/src/main/java/p/P.java",
            "hotel/cmd/geo/main.go",
            "hotel/services/geo/server.go",
            "misc/tool.py",
            "top.py",
        ];
        let map = ServiceMap::build(&configs, paths, "root");
        assert_eq!(map.service_of(paths[0]), "ts-order-service");
        assert_eq!(map.service_of(paths[1]), "payment");
        assert_eq!(map.service_of(paths[2]), "geo");
        assert_eq!(map.service_of(paths[3]), "geo");
        assert_eq!(map.service_of(paths[4]), "misc");
        assert_eq!(map.service_of(paths[5]), "root");
    }

    #[test]
    fn compose_contexts_name_services() {
        let text = "version: '3'\nservices:\n  cart-api:\n    build: ./cart\n  web:\n    build:\n      context: web/app\n    ports:\n      - 80:80\n";
        assert_eq!(
            compose_build_contexts(text),
            [
                ("cart-api".to_string(), "./cart".to_string()),
                ("web".to_string(), "web/app".to_string())
            ]
        );
        let configs = vec![config("docker-compose.yml", ConfigKind::Compose, text)];
        let map = ServiceMap::build(&configs, ["cart/app.py"], "root");
        assert_eq!(map.service_of("cart/app.py"), "cart-api");
        assert_eq!(map.service_of("web/app/main.py"), "web");
    }

    #[test]
    fn reads_go_mod_and_pom() {
        assert_eq!(
            go_module_path("module github.com/a/b\n\ngo 1.21\n").as_deref(),
            Some("github.com/a/b")
        );
        assert_eq!(pom_artifact_id("<project><dependencies><dependency><artifactId>x</artifactId></dependency></dependencies><artifactId>me</artifactId></project>").as_deref(), Some("me"));
    }
}
