//! Measures Java parsing and fact extraction over a source tree, single-threaded.
//!
//! `cargo run --release -p autoscope --example java_extract -- DIR [--urls]`
//! walks DIR for `.java` files (skipping `src/test`), parses and extracts each, and
//! prints counts and times; `--urls` also lists every argument pattern that looks like
//! a URL.

use std::time::{Duration, Instant};

use autoscope::lang::java::SPEC;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| ".".to_string());
    let list_urls = args.any(|arg| arg == "--urls");

    let mut sources = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let is_java = path.extension().is_some_and(|ext| ext == "java");
        let is_test = path.to_string_lossy().contains("/src/test/");
        if entry.file_type().is_file() && is_java && !is_test {
            let bytes = std::fs::read(path).unwrap_or_default();
            sources.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }

    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&(SPEC.grammar)())
        .expect("the Java grammar loads");
    let (mut parse_time, mut extract_time) = (Duration::ZERO, Duration::ZERO);
    let (mut lines, mut functions, mut calls, mut url_args, mut syntax_errors) = (0, 0, 0, 0, 0);
    let (mut handlers, mut exits, mut spans, mut alternatives) = (0, 0, 0, 0);
    for (path, source) in &sources {
        let started = Instant::now();
        let Some(tree) = parser.parse(source, None) else {
            continue;
        };
        let parsed = Instant::now();
        let facts = (SPEC.extract)(path, source, &tree);
        extract_time += parsed.elapsed();
        parse_time += parsed - started;

        lines += facts.lines;
        syntax_errors += facts.syntax_errors;
        functions += facts.functions.len();
        for function in &facts.functions {
            handlers += function.error_handlers.len();
            exits += function.error_exits.len();
            spans += function.manual_spans.len();
            for call in &function.calls {
                calls += 1;
                alternatives += call.arg_alternatives.len();
                for pattern in call.args.iter().flatten() {
                    if pattern.starts_with("http") {
                        url_args += 1;
                        if list_urls {
                            println!("{}:{} {} {pattern}", path, call.position.line, call.callee);
                        }
                    }
                }
                if list_urls {
                    for (_, all) in &call.arg_alternatives {
                        println!("{}:{} {} ALT {all:?}", path, call.position.line, call.callee);
                    }
                }
            }
        }
    }
    println!(
        "files {} lines {lines} functions {functions} calls {calls} url-args {url_args} \
         alternative-args {alternatives} catch-blocks {handlers} error-exits {exits} \
         manual-spans {spans} syntax-errors {syntax_errors}",
        sources.len()
    );
    println!(
        "parse {:.1} ms, extract {:.1} ms, total {:.1} ms (one thread)",
        parse_time.as_secs_f64() * 1e3,
        extract_time.as_secs_f64() * 1e3,
        (parse_time + extract_time).as_secs_f64() * 1e3
    );
}
