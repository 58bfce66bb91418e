//! Measures Java parsing and fact extraction over a source tree, single-threaded.
//!
//! `cargo run --release -p autoscope-analysis --example java_extract -- DIR [--urls] [--unresolved]`
//! walks DIR for `.java` files (skipping `src/test`), parses and extracts each, and
//! prints counts and times; `--urls` also lists every argument pattern that looks like
//! a URL, `--unresolved` every `restTemplate` call whose first argument has no pattern.

use std::time::{Duration, Instant};

use autoscope_analysis::lang::java::SPEC;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| ".".to_string());
    let options: Vec<String> = args.collect();
    let list_urls = options.iter().any(|arg| arg == "--urls");
    let list_unresolved = options.iter().any(|arg| arg == "--unresolved");

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
    // Compile the query outside the measured phases: it happens once per process.
    if let Some(tree) = parser.parse("class A {}", None) {
        (SPEC.extract)("A.java", "class A {}", &tree);
    }

    // Two phases, each timed by wall clock and by this thread's CPU time (the machine
    // may be shared, which inflates wall time but not CPU time).
    let (wall, cpu) = (Instant::now(), thread_cpu_time());
    let trees: Vec<_> = sources
        .iter()
        .map(|(_, source)| parser.parse(source, None))
        .collect();
    let (parse_wall, parse_cpu) = (wall.elapsed(), thread_cpu_time() - cpu);
    let (wall, cpu) = (Instant::now(), thread_cpu_time());
    let all_facts: Vec<_> = sources
        .iter()
        .zip(&trees)
        .filter_map(|((path, source), tree)| {
            tree.as_ref().map(|tree| (SPEC.extract)(path, source, tree))
        })
        .collect();
    let (extract_wall, extract_cpu) = (wall.elapsed(), thread_cpu_time() - cpu);

    let (mut lines, mut functions, mut calls, mut url_args, mut syntax_errors) = (0, 0, 0, 0, 0);
    let (mut handlers, mut exits, mut spans, mut alternatives) = (0, 0, 0, 0);
    for facts in &all_facts {
        let path = &facts.path;
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
                let unresolved = call.args.first().is_some_and(Option::is_none)
                    && call.arg_alternatives.is_empty();
                let rest_template = call
                    .receiver
                    .as_deref()
                    .is_some_and(|receiver| receiver.ends_with("restTemplate"));
                if list_unresolved && unresolved && rest_template {
                    println!(
                        "{}:{} {} UNRESOLVED {:?}",
                        path, call.position.line, call.callee, call.arg_texts[0]
                    );
                }
                if list_urls {
                    for (_, all) in &call.arg_alternatives {
                        println!(
                            "{}:{} {} ALT {all:?}",
                            path, call.position.line, call.callee
                        );
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
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "parse {:.0} ms wall / {:.0} ms cpu, extract {:.0} ms wall / {:.0} ms cpu (one thread)",
        ms(parse_wall),
        ms(parse_cpu),
        ms(extract_wall),
        ms(extract_cpu)
    );
}

/// CPU time used by this thread so far, from `/proc` (Linux; zero elsewhere).
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesized command name: state is field 3, utime 14, stime 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // USER_HZ is 100 on every mainstream Linux configuration.
    Duration::from_millis(ticks * 10)
}
