//! Checks the Java facts of `testdata/java-shop` against the `// expect:` comments written
//! next to the code, and one file's facts against a JSON snapshot.
//!
//! An expectation applies to the line it ends, or, when the comment stands alone on its
//! line, to the next line with code. Several expectations are separated by ` ; `. In
//! expected values `~` stands for a space. The kinds:
//!
//! - `type QUALIFIED [kind=K] [supertypes=A,B] [args=T<X,Y>] [annotation=N]...`
//! - `field NAME:TYPE [@ANNOTATION]...` (a field of a type declared in the file)
//! - `function QUALIFIED [params=name:Type@Annotation,...]` (spanning the line)
//! - `annotation NAME [key=value]...` (`_` for a positional key; all must be present)
//! - `call [RECEIVER.]CALLEE [in-loop|not-in-loop|in-try|not-in-try|argN=PATTERN|argN=none]...`
//! - `top-level-call [RECEIVER.]CALLEE`
//! - `url PATTERN`: a call on the line has this argument pattern
//! - `http-call METHOD PATH`: a RestTemplate call on the line with this HTTP method and a
//!   URL pattern ending in PATH
//! - `alternatives P1 | P2 ...`: a call argument with these alternative patterns
//! - `catch TYPE,TYPE ACTION,ACTION`
//! - `throw`, `return-error`: an error exit on the line
//! - `span NAME API` (`""` for an empty name)
//! - `constant NAME VALUE`
//! - `local NAME:TYPE` (in the function spanning the line)
//! - `syntax-errors`: the file has syntax errors (every other file must have none)

use std::fs;
use std::path::{Path, PathBuf};

use autoscope_analysis::facts::{Annotation, Call, ErrorAction, FileFacts, Function};
use autoscope_analysis::lang::java::SPEC;

fn shop_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/java-shop")
}

fn java_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("testdata directory is readable")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            java_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "java") {
            out.push(path);
        }
    }
}

fn extract(path: &Path) -> (String, FileFacts) {
    let source = fs::read_to_string(path).expect("fixture is UTF-8");
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&(SPEC.grammar)())
        .expect("the Java grammar loads");
    let tree = parser.parse(&source, None).expect("a tree");
    let relative = path
        .strip_prefix(shop_root())
        .expect("under the shop root")
        .to_string_lossy()
        .replace('\\', "/");
    let facts = (SPEC.extract)(&relative, &source, &tree);
    (source, facts)
}

/// (target line, expectation text) for every `// expect:` comment of a file.
fn expectations(source: &str) -> Vec<(u32, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((code, comment)) = line.split_once("// expect:") else {
            continue;
        };
        let target = if code.trim().is_empty() {
            (index + 1..lines.len())
                .find(|&next| {
                    let trimmed = lines[next].trim();
                    !trimmed.is_empty() && !trimmed.starts_with("//")
                })
                .unwrap_or(index)
        } else {
            index
        };
        for expectation in comment.split(" ; ") {
            found.push((target as u32 + 1, expectation.trim().to_string()));
        }
    }
    found
}

fn value(text: &str) -> String {
    if text == "\"\"" {
        String::new()
    } else {
        text.replace('~', " ")
    }
}

fn spanning(facts: &FileFacts, line: u32) -> Option<&Function> {
    facts
        .functions
        .iter()
        .filter(|f| f.position.line <= line && line <= f.end_line)
        .max_by_key(|f| f.position.line)
}

fn all_annotations(facts: &FileFacts) -> Vec<&Annotation> {
    let mut all: Vec<&Annotation> = Vec::new();
    for declared in &facts.types {
        all.extend(&declared.annotations);
        for field in &declared.fields {
            all.extend(&field.annotations);
        }
    }
    for function in &facts.functions {
        all.extend(&function.annotations);
        for param in &function.params {
            all.extend(&param.annotations);
        }
    }
    all
}

fn calls_on(facts: &FileFacts, line: u32) -> Vec<&Call> {
    facts
        .functions
        .iter()
        .flat_map(|f| &f.calls)
        .filter(|call| call.position.line == line)
        .collect()
}

fn call_matches(call: &Call, spec: &str) -> bool {
    match spec.rsplit_once('.') {
        Some((receiver, callee)) => {
            call.receiver.as_deref() == Some(receiver) && call.callee == callee
        }
        None => call.receiver.is_none() && call.callee == spec,
    }
}

/// The HTTP method a RestTemplate call uses, if it is one.
fn http_method(call: &Call) -> Option<String> {
    let method = match call.callee.as_str() {
        "exchange" => {
            return call
                .arg_texts
                .iter()
                .find_map(|text| text.strip_prefix("HttpMethod."))
                .map(str::to_string);
        }
        "getForObject" | "getForEntity" => "GET",
        "postForObject" | "postForEntity" => "POST",
        "put" => "PUT",
        "delete" => "DELETE",
        _ => return None,
    };
    Some(method.to_string())
}

/// Checks one expectation; `Err` says what was found instead.
fn check(facts: &FileFacts, line: u32, expectation: &str) -> Result<(), String> {
    let mut words = expectation.split_whitespace();
    let kind = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    let ok = match kind {
        "type" => {
            let declared = facts
                .types
                .iter()
                .find(|t| t.qualified == rest[0])
                .ok_or("no such type")?;
            rest[1..].iter().all(|option| {
                let (key, expected) = option.split_once('=').unwrap_or((option, ""));
                match key {
                    "kind" => format!("{:?}", declared.kind).eq_ignore_ascii_case(expected),
                    "supertypes" => declared.supertypes.join(",") == expected,
                    "args" => declared
                        .supertype_args
                        .iter()
                        .any(|(name, args)| format!("{name}<{}>", args.join(",")) == expected),
                    "annotation" => declared.annotations.iter().any(|a| a.name == expected),
                    _ => false,
                }
            }) && declared.position.line <= line
        }
        "field" => {
            let (name, type_name) = rest[0].split_once(':').ok_or("field needs NAME:TYPE")?;
            facts.types.iter().flat_map(|t| &t.fields).any(|field| {
                field.name == name
                    && field.type_name == type_name
                    && rest[1..].iter().all(|annotation| {
                        field
                            .annotations
                            .iter()
                            .any(|a| Some(a.name.as_str()) == annotation.strip_prefix('@'))
                    })
            })
        }
        "function" => facts.functions.iter().any(|f| {
            f.qualified == rest[0]
                && f.position.line <= line
                && line <= f.end_line
                && rest[1..].iter().all(|option| {
                    let params = f
                        .params
                        .iter()
                        .map(|p| {
                            let annotations: String = p
                                .annotations
                                .iter()
                                .map(|a| format!("@{}", a.name))
                                .collect();
                            format!("{}:{}{annotations}", p.name, p.type_name)
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    option.strip_prefix("params=") == Some(params.as_str())
                })
        }),
        "annotation" => all_annotations(facts).iter().any(|a| {
            a.position.line == line
                && a.name == rest[0]
                && rest[1..].iter().all(|pair| {
                    let (key, expected) = pair.split_once('=').unwrap_or((pair, ""));
                    let key = (key != "_").then(|| key.to_string());
                    a.args.contains(&(key, value(expected)))
                })
        }),
        "call" => calls_on(facts, line).iter().any(|call| {
            call_matches(call, rest[0])
                && rest[1..].iter().all(|flag| match *flag {
                    "in-loop" => call.in_loop,
                    "not-in-loop" => !call.in_loop,
                    "in-try" => call.in_handler,
                    "not-in-try" => !call.in_handler,
                    arg => {
                        let (index, expected) = arg.split_once('=').unwrap_or((arg, ""));
                        let index: usize = index
                            .strip_prefix("arg")
                            .and_then(|i| i.parse().ok())
                            .unwrap_or(usize::MAX);
                        let actual = call.args.get(index).cloned().flatten();
                        match expected {
                            "none" => call.args.get(index) == Some(&None),
                            _ => actual == Some(value(expected)),
                        }
                    }
                })
        }),
        "top-level-call" => facts
            .top_level_calls
            .iter()
            .any(|call| call.position.line == line && call_matches(call, rest[0])),
        "url" => calls_on(facts, line)
            .iter()
            .any(|call| call.args.iter().flatten().any(|p| *p == value(rest[0]))),
        "http-call" => calls_on(facts, line).iter().any(|call| {
            http_method(call).as_deref() == Some(rest[0])
                && call
                    .args
                    .first()
                    .cloned()
                    .flatten()
                    .is_some_and(|url| url.ends_with(rest[1]) && url.starts_with("http://"))
        }),
        "alternatives" => {
            let expected: Vec<String> = rest
                .split(|word| *word == "|")
                .map(|words| value(&words.join(" ")))
                .collect();
            calls_on(facts, line).iter().any(|call| {
                call.arg_alternatives
                    .iter()
                    .any(|(_, all)| *all == expected)
            })
        }
        "catch" => facts
            .functions
            .iter()
            .flat_map(|f| &f.error_handlers)
            .any(|handler| {
                let actions: Vec<String> = handler
                    .actions
                    .iter()
                    .map(|action| action_name(*action))
                    .collect();
                handler.position.line == line
                    && handler.kind == "catch"
                    && handler.caught.join(",") == rest[0]
                    && actions.join(",") == rest[1]
            }),
        "throw" | "return-error" => facts
            .functions
            .iter()
            .flat_map(|f| &f.error_exits)
            .any(|exit| exit.position.line == line && exit.kind == kind),
        "span" => facts
            .functions
            .iter()
            .flat_map(|f| &f.manual_spans)
            .any(|span| {
                span.position.line == line && span.name == value(rest[0]) && span.api == rest[1]
            }),
        "constant" => facts
            .string_constants
            .iter()
            .any(|c| c.name == rest[0] && c.value == value(rest[1])),
        "local" => {
            let (name, type_name) = rest[0].split_once(':').ok_or("local needs NAME:TYPE")?;
            spanning(facts, line).is_some_and(|f| {
                f.locals
                    .iter()
                    .any(|local| local.name == name && local.type_name == type_name)
            })
        }
        "syntax-errors" => facts.syntax_errors > 0,
        other => return Err(format!("unknown expectation kind {other:?}")),
    };
    if ok {
        Ok(())
    } else {
        let near: Vec<String> = calls_on(facts, line)
            .iter()
            .map(|call| format!("{call:?}"))
            .collect();
        Err(format!("not found; calls on the line: {near:?}"))
    }
}

fn action_name(action: ErrorAction) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[test]
fn facts_match_the_expect_comments() {
    let mut files = Vec::new();
    java_files(&shop_root(), &mut files);
    assert!(
        files.len() >= 15,
        "the sample has {} Java files",
        files.len()
    );
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in &files {
        let (source, facts) = extract(path);
        let expected = expectations(&source);
        let expects_errors = expected.iter().any(|(_, e)| e == "syntax-errors");
        if !expects_errors && facts.syntax_errors != 0 {
            failures.push(format!("{}: unexpected syntax errors", facts.path));
        }
        for (line, expectation) in expected {
            checked += 1;
            if let Err(problem) = check(&facts, line, &expectation) {
                failures.push(format!("{}:{line}: {expectation}: {problem}", facts.path));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 60, "only {checked} expectations checked");
}

#[test]
fn a_broken_file_still_gives_the_facts_of_its_sound_parts() {
    let path = shop_root()
        .join("shop-inventory-service/src/main/java/shop/inventory/service/RestockJob.java");
    let (_, facts) = extract(&path);
    assert!(facts.syntax_errors > 0);
    let names: Vec<&str> = facts.functions.iter().map(|f| f.name.as_str()).collect();
    assert!(
        names.contains(&"RestockJob") && names.contains(&"restock"),
        "{names:?}"
    );
}

#[test]
fn order_service_facts_match_the_snapshot() {
    let path = shop_root()
        .join("shop-order-service/src/main/java/shop/order/service/OrderServiceImpl.java");
    let (_, facts) = extract(&path);
    let actual = serde_json::to_string_pretty(&facts).expect("facts serialize") + "\n";
    let snapshot = path.with_extension("facts.json");
    if std::env::var_os("AUTOSCOPE_BLESS").is_some() {
        fs::write(&snapshot, &actual).expect("snapshot is writable");
    }
    let expected =
        fs::read_to_string(&snapshot).expect("snapshot exists (AUTOSCOPE_BLESS=1 writes it)");
    assert!(
        actual == expected,
        "facts of {} differ from {}; rerun with AUTOSCOPE_BLESS=1 after checking the change",
        path.display(),
        snapshot.display()
    );
}
