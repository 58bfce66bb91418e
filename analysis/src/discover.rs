//! Discovery: which files under the source root are source code to analyze, and which
//! are build or configuration files that name services (pom.xml, application.yml,
//! go.mod, docker-compose, .proto, ...).
//!
//! Discovery stays inside the source tree: symbolic links below the root are not
//! followed unless [`DiscoverOptions::follow_symlinks`] says so, and a followed link
//! that leads out of the tree is reported.
//!
//! Vendored, generated and build output is skipped by default, and so are tests unless
//! asked for. Nothing here panics on a strange tree: unreadable entries and symlink
//! loops become warnings.

use crate::diagnostics::Diagnostic;
use crate::facts::Language;
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Default size limit for one source file (1 MiB): bigger files are generated data.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Config files are small; anything larger is not read.
const MAX_CONFIG_SIZE: u64 = 256 * 1024;

/// Directory names never entered.
const SKIPPED_DIRS: &[&str] = &[
    "vendor",
    "node_modules",
    "target",
    "build",
    "dist",
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".idea",
    ".gradle",
    "site-packages",
];

/// What to include.
#[derive(Debug, Clone)]
pub struct DiscoverOptions {
    /// Analyze tests too (`src/test/`, `*_test.go`, `test_*.py`, `tests/`).
    pub include_tests: bool,
    /// Only files matching one of these globs (relative paths), when not empty.
    pub include: Vec<String>,
    /// Skip files matching one of these globs.
    pub exclude: Vec<String>,
    /// Files larger than this are skipped with a warning.
    pub max_file_size: u64,
    /// Follow symbolic links (off by default: the analysis stays inside the tree).
    /// A followed link that leads out of the tree gets a warning.
    pub follow_symlinks: bool,
}

impl Default for DiscoverOptions {
    fn default() -> Self {
        Self {
            include_tests: false,
            include: Vec::new(),
            exclude: Vec::new(),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            follow_symlinks: false,
        }
    }
}

/// A source file to parse.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// Path relative to the root, `/`-separated.
    pub rel_path: String,
    /// Path to open.
    pub abs_path: PathBuf,
    /// Its language.
    pub language: Language,
}

/// Kinds of configuration files that name services or RPC interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfigKind {
    /// Maven `pom.xml`.
    MavenPom,
    /// Gradle build file.
    Gradle,
    /// Spring `application*.yml` / `application*.properties` / `bootstrap*.yml`.
    SpringConfig,
    /// Go `go.mod`.
    GoMod,
    /// A `Dockerfile`.
    Dockerfile,
    /// `docker-compose*.yml`.
    Compose,
    /// A Kubernetes workload manifest or Helm template (`kind: Deployment`, ...): its
    /// container commands and environment say which agent runs.
    Manifest,
    /// Protocol buffers `.proto`.
    Proto,
    /// Python `pyproject.toml` / `setup.py` / `setup.cfg`.
    PythonProject,
    /// Python `requirements*.txt`.
    Requirements,
    /// A SQL script (`schema.sql`, `data.sql`): frameworks may run it at startup.
    SqlScript,
    /// A servlet deployment descriptor (`WEB-INF/web.xml`): its servlet mappings are
    /// application configuration (`services::config_pairs`).
    WebXml,
}

impl ConfigKind {
    /// Application configuration a framework reads at run time (keys and values).
    pub fn is_application_config(self) -> bool {
        matches!(self, ConfigKind::SpringConfig | ConfigKind::WebXml)
    }
}

/// A configuration file with its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// Path relative to the root.
    pub rel_path: String,
    /// Kind.
    pub kind: ConfigKind,
    /// Content (lossily decoded).
    pub text: String,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Source files, sorted by path.
    pub sources: Vec<SourceFile>,
    /// Configuration files, sorted by path.
    pub configs: Vec<ConfigFile>,
    /// Skipped files and other oddities.
    pub diagnostics: Vec<Diagnostic>,
    /// Files skipped because vendored, generated, tests or excluded (not warned).
    pub skipped: usize,
}

/// Why discovery could not run at all.
#[derive(Debug, Error)]
pub enum DiscoverError {
    /// The root does not exist or cannot be read.
    #[error("{path}: {message}")]
    Root {
        /// The root.
        path: String,
        /// Why.
        message: String,
    },
    /// A `--include` / `--exclude` glob is malformed.
    #[error("invalid glob {glob:?}: {message}")]
    BadGlob {
        /// The glob.
        glob: String,
        /// Why.
        message: String,
    },
}

/// Walks `root` (a directory or a single file).
pub fn discover(root: &Path, options: &DiscoverOptions) -> Result<Discovery, DiscoverError> {
    let metadata = std::fs::metadata(root).map_err(|e| DiscoverError::Root {
        path: root.display().to_string(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "no such file or directory".to_string()
        } else {
            e.to_string()
        },
    })?;
    let include = build_globs(&options.include)?;
    let exclude = build_globs(&options.exclude)?;
    let mut found = Discovery::default();
    if metadata.is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        consider_file(
            root,
            &name,
            metadata.len(),
            options,
            &include,
            &exclude,
            &mut found,
        );
    } else {
        // The root itself is entered even when it is a link; links below it are
        // followed only when asked.
        let canonical_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let walker = walkdir::WalkDir::new(root)
            .follow_links(options.follow_symlinks)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| entry.depth() == 0 || !is_skipped_dir(entry));
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error
                        .path()
                        .map(|p| relative(root, p))
                        .unwrap_or_else(|| root.display().to_string());
                    let message = if error.loop_ancestor().is_some() {
                        "symbolic link loop, not followed".to_string()
                    } else {
                        format!(
                            "cannot read: {}",
                            error
                                .io_error()
                                .map_or_else(|| error.to_string(), |e| e.to_string())
                        )
                    };
                    found.diagnostics.push(Diagnostic::warning(path, message));
                    continue;
                }
            };
            if entry.depth() > 0 && entry.path_is_symlink() {
                let rel = relative(root, entry.path());
                if !options.follow_symlinks {
                    found.diagnostics.push(Diagnostic::note(
                        rel,
                        "symbolic link, not followed (--follow-symlinks follows links)",
                    ));
                    continue;
                }
                if let Ok(target) = entry.path().canonicalize()
                    && !target.starts_with(&canonical_root)
                {
                    found.diagnostics.push(Diagnostic::warning(
                        rel,
                        format!(
                            "symbolic link out of the source tree, followed to {}",
                            target.display()
                        ),
                    ));
                }
            }
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = relative(root, entry.path());
            let size = match entry.metadata() {
                Ok(m) => m.len(),
                Err(e) => {
                    found
                        .diagnostics
                        .push(Diagnostic::warning(rel, format!("cannot read: {e}")));
                    continue;
                }
            };
            consider_file(
                entry.path(),
                &rel,
                size,
                options,
                &include,
                &exclude,
                &mut found,
            );
        }
    }
    found.sources.sort();
    found.configs.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    found.diagnostics.sort();
    Ok(found)
}

fn build_globs(globs: &[String]) -> Result<Option<GlobSet>, DiscoverError> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let parsed = Glob::new(glob).map_err(|e| DiscoverError::BadGlob {
            glob: glob.clone(),
            message: e.kind().to_string(),
        })?;
        builder.add(parsed);
    }
    builder
        .build()
        .map(Some)
        .map_err(|e| DiscoverError::BadGlob {
            glob: globs.join(","),
            message: e.to_string(),
        })
}

fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    entry.file_type().is_dir()
        && entry.file_name().to_str().is_some_and(|name| {
            SKIPPED_DIRS.contains(&name) || (name.starts_with('.') && name.len() > 1)
        })
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a relative path is test code.
pub fn is_test_path(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let in_test_dir = rel
        .split('/')
        .rev()
        .skip(1)
        .any(|dir| matches!(dir, "test" | "tests" | "testing" | "__tests__"));
    in_test_dir
        || rel.contains("src/test/")
        || name.ends_with("_test.go")
        || (name.starts_with("test_") && name.ends_with(".py"))
        || name.ends_with("_test.py")
        || name == "conftest.py"
}

/// Whether a relative path is generated code, by its name.
pub fn is_generated_name(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.ends_with(".pb.go")
        || name.ends_with(".pb.gw.go")
        || name.contains("_pb2")
        || name.ends_with("_generated.go")
        || name.contains(".min.")
}

/// Whether YAML text declares a Kubernetes workload, whose pod template runs
/// containers (`kind: Deployment` at the start of a line, Helm templates included).
pub fn is_workload_manifest(text: &str) -> bool {
    text.lines().any(|line| {
        line.strip_prefix("kind:").is_some_and(|kind| {
            matches!(
                kind.trim().trim_matches(['"', '\'']),
                "Deployment"
                    | "StatefulSet"
                    | "DaemonSet"
                    | "ReplicaSet"
                    | "Pod"
                    | "Job"
                    | "CronJob"
            )
        })
    })
}

fn config_kind(name: &str, ext: &str) -> Option<ConfigKind> {
    if name == "pom.xml" {
        Some(ConfigKind::MavenPom)
    } else if name == "web.xml" {
        Some(ConfigKind::WebXml)
    } else if name == "build.gradle" || name == "build.gradle.kts" {
        Some(ConfigKind::Gradle)
    } else if (name.starts_with("application") || name.starts_with("bootstrap"))
        && matches!(ext, "yml" | "yaml" | "properties")
    {
        Some(ConfigKind::SpringConfig)
    } else if name == "go.mod" {
        Some(ConfigKind::GoMod)
    } else if name == "Dockerfile" || name.starts_with("Dockerfile.") {
        Some(ConfigKind::Dockerfile)
    } else if (name.starts_with("docker-compose") || name.starts_with("compose"))
        && matches!(ext, "yml" | "yaml")
    {
        Some(ConfigKind::Compose)
    } else if matches!(ext, "yml" | "yaml") {
        // Kept only when its content declares a workload (`is_workload_manifest`).
        Some(ConfigKind::Manifest)
    } else if ext == "proto" {
        Some(ConfigKind::Proto)
    } else if matches!(name, "pyproject.toml" | "setup.py" | "setup.cfg") {
        Some(ConfigKind::PythonProject)
    } else if name.starts_with("requirements") && ext == "txt" {
        Some(ConfigKind::Requirements)
    } else if ext == "sql" {
        Some(ConfigKind::SqlScript)
    } else {
        None
    }
}

fn consider_file(
    path: &Path,
    rel: &str,
    size: u64,
    options: &DiscoverOptions,
    include: &Option<GlobSet>,
    exclude: &Option<GlobSet>,
    found: &mut Discovery,
) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if let Some(kind) = config_kind(name, ext) {
        // Config files name services even for excluded or test sources: always read.
        if size <= MAX_CONFIG_SIZE && !is_test_path(rel) {
            match std::fs::read(path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    if kind != ConfigKind::Manifest || is_workload_manifest(&text) {
                        found.configs.push(ConfigFile {
                            rel_path: rel.to_string(),
                            kind,
                            text,
                        });
                    }
                }
                Err(e) => found
                    .diagnostics
                    .push(Diagnostic::warning(rel, format!("cannot read: {e}"))),
            }
        }
        if kind == ConfigKind::PythonProject && ext == "py" {
            // setup.py is also Python, but not service code.
            return;
        }
    }
    let Some(spec) = crate::lang::for_extension(ext) else {
        return;
    };
    if exclude.as_ref().is_some_and(|set| set.is_match(rel))
        || include.as_ref().is_some_and(|set| !set.is_match(rel))
        || (!options.include_tests && is_test_path(rel))
        || is_generated_name(rel)
    {
        found.skipped += 1;
        return;
    }
    if size > options.max_file_size {
        found.diagnostics.push(Diagnostic::warning(
            rel,
            format!(
                "skipped: {size} bytes is over the size limit of {} bytes",
                options.max_file_size
            ),
        ));
        return;
    }
    found.sources.push(SourceFile {
        rel_path: rel.to_string(),
        abs_path: path.to_path_buf(),
        language: spec.language,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_tests_and_generated_files() {
        assert!(is_test_path("svc/src/test/java/x/FooTest.java"));
        assert!(is_test_path("geo/geo_test.go"));
        assert!(is_test_path("app/tests/helpers.py"));
        assert!(is_test_path("app/test_views.py"));
        assert!(!is_test_path("app/views.py"));
        assert!(!is_test_path(
            "ts-order-service/src/main/java/order/OrderApplication.java"
        ));
        assert!(is_generated_name("services/geo/proto/geo.pb.go"));
        assert!(is_generated_name("app/api_pb2_grpc.py"));
        assert!(!is_generated_name("app/api.py"));
    }

    #[test]
    fn walks_a_tree_with_skips_limits_and_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("svc/src/main/java/a/A.java", "class A {}");
        write("svc/src/test/java/a/ATest.java", "class ATest {}");
        write("svc/target/classes/B.java", "class B {}");
        write("vendor/x/x.go", "package x");
        write("geo/geo.pb.go", "package geo");
        write("geo/server.go", "package geo");
        write("svc/pom.xml", "<project/>");
        write("big/big.py", &"x = 1\n".repeat(100));
        let options = DiscoverOptions {
            max_file_size: 100,
            ..DiscoverOptions::default()
        };
        let found = discover(root, &options).unwrap();
        let paths: Vec<&str> = found.sources.iter().map(|s| s.rel_path.as_str()).collect();
        assert_eq!(paths, ["geo/server.go", "svc/src/main/java/a/A.java"]);
        assert_eq!(found.configs.len(), 1);
        assert_eq!(found.diagnostics.len(), 1, "{:?}", found.diagnostics);
        assert!(found.diagnostics[0].message.contains("size limit"));

        let options = DiscoverOptions {
            include_tests: true,
            exclude: vec!["geo/**".into()],
            ..DiscoverOptions::default()
        };
        let found = discover(root, &options).unwrap();
        let paths: Vec<&str> = found.sources.iter().map(|s| s.rel_path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "big/big.py",
                "svc/src/main/java/a/A.java",
                "svc/src/test/java/a/ATest.java"
            ]
        );
    }

    #[test]
    fn missing_root_and_bad_glob_are_errors() {
        let missing = discover(
            Path::new("/definitely/not/here"),
            &DiscoverOptions::default(),
        );
        assert!(matches!(missing, Err(DiscoverError::Root { .. })));
        let dir = tempfile::tempdir().unwrap();
        let options = DiscoverOptions {
            include: vec!["a/[".into()],
            ..DiscoverOptions::default()
        };
        assert!(matches!(
            discover(dir.path(), &options),
            Err(DiscoverError::BadGlob { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_warnings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();
        std::fs::write(dir.path().join("a/x.py"), "x = 1\n").unwrap();
        let follow = DiscoverOptions {
            follow_symlinks: true,
            ..DiscoverOptions::default()
        };
        let found = discover(dir.path(), &follow).unwrap();
        assert_eq!(found.sources.len(), 1);
        assert!(found.diagnostics.iter().any(|d| d.message.contains("loop")));
    }

    #[cfg(unix)]
    #[test]
    fn links_are_not_followed_unless_asked_and_leaving_the_tree_is_said() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.py"), "x = 1\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.py"), "y = 2\n").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.py"),
            dir.path().join("linked.py"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("elsewhere")).unwrap();
        std::os::unix::fs::symlink("app.py", dir.path().join("alias.py")).unwrap();
        let found = discover(dir.path(), &DiscoverOptions::default()).unwrap();
        let paths: Vec<&str> = found.sources.iter().map(|s| s.rel_path.as_str()).collect();
        assert_eq!(paths, ["app.py"]);
        let notes: Vec<&str> = found
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("not followed"))
            .filter_map(|d| d.path.as_deref())
            .collect();
        assert_eq!(notes, ["alias.py", "elsewhere", "linked.py"]);

        let follow = DiscoverOptions {
            follow_symlinks: true,
            ..DiscoverOptions::default()
        };
        let found = discover(dir.path(), &follow).unwrap();
        let paths: Vec<&str> = found.sources.iter().map(|s| s.rel_path.as_str()).collect();
        assert_eq!(
            paths,
            ["alias.py", "app.py", "elsewhere/secret.py", "linked.py"]
        );
        let out_of_tree: Vec<&str> = found
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("out of the source tree"))
            .filter_map(|d| d.path.as_deref())
            .collect();
        assert_eq!(out_of_tree, ["elsewhere", "linked.py"]);
    }
}
