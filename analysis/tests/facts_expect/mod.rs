//! Shared by `go_facts.rs` and `python_facts.rs`: reads the `expect:` comments of a sample
//! codebase under `testdata/` and checks each against the facts the language module
//! extracted from that file. One vocabulary for both languages; see `check`.

use std::path::{Path, PathBuf};

use autoscope_analysis::facts::{Call, ErrorAction, FileFacts, Function};
use autoscope_analysis::lang::LanguageSpec;

/// One `expect:` comment: where it is and its words.
#[derive(Debug)]
pub struct Expectation {
    pub line: u32,
    pub words: Vec<String>,
}

/// A sample file, its facts and its expectations.
pub struct Sample {
    pub path: String,
    pub source: String,
    pub facts: FileFacts,
    pub expectations: Vec<Expectation>,
}

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

pub fn extract(spec: &LanguageSpec, path: &str, source: &str) -> FileFacts {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&(spec.grammar)())
        .expect("grammar loads");
    let tree = parser.parse(source, None).expect("parser returns a tree");
    (spec.extract)(path, source, &tree)
}

/// Every file with extension `ext` under `root`, sorted, with facts and expectations.
pub fn samples(spec: &LanguageSpec, root: &Path, ext: &str, comment: &str) -> Vec<Sample> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("testdata is readable") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let source = std::fs::read_to_string(&file).expect("sample is UTF-8");
            let path = file
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            let marker = format!("{comment} expect:");
            let expectations = source
                .lines()
                .enumerate()
                .filter_map(|(index, line)| {
                    let at = line.find(&marker)?;
                    Some(Expectation {
                        line: index as u32 + 1,
                        words: line[at + marker.len()..]
                            .split_whitespace()
                            .map(str::to_string)
                            .collect(),
                    })
                })
                .collect();
            let facts = extract(spec, &path, &source);
            Sample {
                path,
                source,
                facts,
                expectations,
            }
        })
        .collect()
}

fn calls_at(facts: &FileFacts, line: u32) -> Vec<&Call> {
    facts
        .functions
        .iter()
        .flat_map(|f| f.calls.iter())
        .filter(|c| c.position.line == line)
        .collect()
}

/// The innermost function whose lines include `line`.
fn function_around(facts: &FileFacts, line: u32) -> Option<&Function> {
    facts
        .functions
        .iter()
        .filter(|f| f.position.line <= line && line <= f.end_line)
        .max_by_key(|f| f.position.line)
}

/// `key=value` matches a keyword argument; anything else an argument's pattern.
fn has_arg(call: &Call, wanted: &str) -> bool {
    if let Some((key, value)) = wanted.split_once('=')
        && !key.contains('/')
        && !key.contains(':')
    {
        return call
            .args
            .iter()
            .zip(&call.arg_texts)
            .any(|(pattern, text)| {
                text.starts_with(&format!("{key}=")) && pattern.as_deref() == Some(value)
            });
    }
    call.args
        .iter()
        .any(|pattern| pattern.as_deref() == Some(wanted))
}

fn action_name(action: ErrorAction) -> &'static str {
    match action {
        ErrorAction::Log => "log",
        ErrorAction::Rethrow => "rethrow",
        ErrorAction::ReturnError => "return-error",
        ErrorAction::Panic => "panic",
        ErrorAction::Swallow => "swallow",
    }
}

fn call_matches(calls: &[&Call], callee: &str, args: &[String]) -> bool {
    calls
        .iter()
        .any(|c| c.callee == callee && args.iter().all(|a| has_arg(c, a)))
}

/// Checks one expectation; `Err` says what was wrong.
pub fn check(sample: &Sample, expectation: &Expectation) -> Result<(), String> {
    let facts = &sample.facts;
    let line = expectation.line;
    let words = &expectation.words;
    let word = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let calls = calls_at(facts, line);
    let ok = match word(0) {
        "function" => facts
            .functions
            .iter()
            .any(|f| f.position.line == line && f.qualified == word(1)),
        "local" => function_around(facts, line).is_some_and(|f| {
            f.locals
                .iter()
                .any(|l| l.name == word(1) && l.type_name == word(2))
        }),
        "param" => facts.functions.iter().any(|f| {
            f.position.line == line
                && f.params
                    .iter()
                    .any(|p| p.name == word(1) && p.type_name == word(2))
        }),
        "field" => {
            let (owner, name) = word(1).rsplit_once('.').unwrap_or(("", word(1)));
            facts.types.iter().any(|t| {
                (owner.is_empty() || t.name == owner)
                    && t.fields
                        .iter()
                        .any(|f| f.name == name && f.type_name == word(2))
            })
        }
        "embedded" => facts
            .types
            .iter()
            .any(|t| t.supertypes.iter().any(|s| s == word(1))),
        "interface-method" => {
            let (owner, name) = word(1).split_once('.').unwrap_or(("", ""));
            facts
                .types
                .iter()
                .any(|t| t.name == owner && t.fields.iter().any(|f| f.name == name))
        }
        "class" => facts.types.iter().any(|t| {
            t.position.line == line
                && t.qualified == word(1)
                && words[2..].iter().all(|s| t.supertypes.contains(s))
        }),
        "constant" => {
            let (owner, name) = match word(1).split_once('.') {
                Some((owner, name)) => (Some(owner), name),
                None => (None, word(1)),
            };
            facts
                .string_constants
                .iter()
                .any(|c| c.name == name && c.owner.as_deref() == owner && c.value == word(2))
        }
        "global" => facts
            .globals
            .iter()
            .any(|g| g.name == word(1) && g.type_name == word(2)),
        "global-call" => {
            let top: Vec<&Call> = facts
                .top_level_calls
                .iter()
                .filter(|c| c.position.line == line)
                .collect();
            call_matches(&top, word(1), &words[2..])
        }
        "call" => call_matches(&calls, word(1), &words[2..]),
        "grpc-client" => {
            let method = word(1).split_once('.').map(|(_, m)| m).unwrap_or("");
            calls
                .iter()
                .any(|c| c.callee == method && c.receiver.is_some())
        }
        "grpc-server" => calls
            .iter()
            .any(|c| c.callee == format!("Register{}Server", word(1))),
        "http-route" if sample.path.ends_with(".go") => calls.iter().any(|c| {
            matches!(c.callee.as_str(), "Handle" | "HandleFunc")
                && c.args.first().and_then(|a| a.as_deref()) == Some(word(1))
        }),
        "http-route" => {
            let method = word(1);
            let path = word(2);
            let annotations = facts
                .functions
                .iter()
                .flat_map(|f| f.annotations.iter())
                .filter(|a| a.position.line == line);
            annotations.into_iter().any(|a| {
                let positional = a.args.iter().find(|(k, _)| k.is_none());
                let path_ok = positional.is_some_and(|(_, v)| v == path);
                let methods: Vec<&str> = a
                    .args
                    .iter()
                    .filter(|(k, _)| k.as_deref() == Some("methods"))
                    .map(|(_, v)| v.as_str())
                    .collect();
                let verb = a.name.rsplit('.').next().unwrap_or("");
                let method_ok = methods.contains(&method)
                    || verb.eq_ignore_ascii_case(method)
                    || (verb == "route" && methods.is_empty() && method == "GET");
                path_ok && method_ok
            })
        }
        "http-call" => calls.iter().any(|c| {
            (c.callee.eq_ignore_ascii_case(word(1)) || c.callee == "request")
                && c.args.iter().any(|a| a.as_deref() == Some(word(2)))
        }),
        "memcached" | "mongo" | "db-query" => calls
            .iter()
            .any(|c| c.callee == word(1) && c.receiver.is_some()),
        "span" => facts.functions.iter().any(|f| {
            f.manual_spans
                .iter()
                .any(|s| s.position.line == line && s.name == word(1) && s.api == word(2))
        }),
        "handler" => {
            let mut wanted: Vec<&str> = word(2).split(',').collect();
            wanted.sort_unstable();
            facts.functions.iter().any(|f| {
                f.error_handlers.iter().any(|h| {
                    let mut got: Vec<&str> = h.actions.iter().map(|a| action_name(*a)).collect();
                    got.sort_unstable();
                    h.position.line == line && h.kind == word(1) && got == wanted
                })
            })
        }
        "exit" => facts.functions.iter().any(|f| {
            f.error_exits
                .iter()
                .any(|e| e.position.line == line && e.kind == word(1))
        }),
        "loop-call" => calls.iter().any(|c| c.callee == word(1) && c.in_loop),
        "syntax-error" => facts.syntax_errors > 0,
        other => return Err(format!("unknown expectation kind `{other}`")),
    };
    if ok {
        Ok(())
    } else {
        let around: Vec<String> = calls
            .iter()
            .map(|c| format!("{:?}.{} {:?}", c.receiver, c.callee, c.args))
            .collect();
        Err(format!("not found; calls on the line: {around:?}"))
    }
}

/// Checks every expectation of every sample and that only marked files have syntax
/// errors; returns the number of expectations checked.
pub fn check_all(samples: &[Sample]) -> usize {
    let mut failures = Vec::new();
    let mut checked = 0;
    for sample in samples {
        let marked_broken = sample
            .expectations
            .iter()
            .any(|e| e.words.first().is_some_and(|w| w == "syntax-error"));
        if !marked_broken && sample.facts.syntax_errors > 0 {
            failures.push(format!(
                "{}: {} unexpected syntax errors",
                sample.path, sample.facts.syntax_errors
            ));
        }
        for expectation in &sample.expectations {
            checked += 1;
            if let Err(why) = check(sample, expectation) {
                failures.push(format!(
                    "{}:{}: expect {}: {why}",
                    sample.path,
                    expectation.line,
                    expectation.words.join(" ")
                ));
            }
        }
        assert!(!sample.source.is_empty());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    checked
}

/// Compares `actual` with the snapshot file, or rewrites it when AUTOSCOPE_BLESS=1.
pub fn snapshot(path: &Path, actual: &str) {
    if std::env::var("AUTOSCOPE_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(path, actual).expect("snapshot written");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with AUTOSCOPE_BLESS=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "snapshot {} differs; rerun with AUTOSCOPE_BLESS=1 after checking the change.\n--- actual ---\n{actual}",
        path.display()
    );
}

/// Invariants every extraction must keep, whatever the input.
pub fn assert_invariants(facts: &FileFacts, source: &str) {
    let lines = source.lines().count() as u32;
    assert!(facts.lines <= lines + 1);
    for function in &facts.functions {
        assert!(function.position.line <= function.end_line);
        for call in &function.calls {
            assert!(
                function.position.line <= call.position.line
                    && call.position.line <= function.end_line,
                "call {} at {:?} outside {}",
                call.callee,
                call.position,
                function.qualified
            );
            assert_eq!(call.args.len(), call.arg_texts.len());
            assert!(call.arg_texts.iter().all(|t| t.len() <= 200));
        }
        let positions: Vec<_> = function.calls.iter().map(|c| c.position).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_eq!(positions, sorted, "calls in source order");
    }
}

/// `source` with the bytes from `cut_start` (clamped, moved back to a char boundary) to
/// `cut_start + cut_len` replaced by `insert`: a mutation for "never panics" proptests.
pub fn splice(source: &str, cut_start: usize, cut_len: usize, insert: &str) -> String {
    let mut start = cut_start.min(source.len());
    while !source.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + cut_len).min(source.len());
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{}{}", &source[..start], insert, &source[end..])
}
