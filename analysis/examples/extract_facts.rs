//! Extracts facts from every Go/Python/Java file under a directory and prints totals
//! (files, functions, calls, syntax errors, time), or one file's facts as JSON.
//!
//! `cargo run --release -p autoscope-analysis --example extract_facts -- DIR [--skip-vendor] [--ext go]`
//! `cargo run -p autoscope-analysis --example extract_facts -- --json FILE`

use std::path::{Path, PathBuf};
use std::time::Instant;

use autoscope_analysis::lang;

fn files_under(root: &Path, skip_generated: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            if skip_generated && (name == "vendor" || name.starts_with('.')) {
                continue;
            }
            files_under(&path, skip_generated, out);
        } else if !(skip_generated && name.ends_with(".pb.go")) {
            out.push(path);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--json") {
        let path = PathBuf::from(args.get(1).expect("--json FILE"));
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let spec = lang::for_extension(ext).expect("a known extension");
        let source = std::fs::read_to_string(&path).expect("readable UTF-8 file");
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&(spec.grammar)()).expect("grammar");
        let tree = parser.parse(&source, None).expect("tree");
        let facts = (spec.extract)(&path.to_string_lossy(), &source, &tree);
        println!("{}", serde_json::to_string_pretty(&facts).expect("json"));
        return;
    }
    let root = PathBuf::from(args.first().expect("DIR"));
    let skip = args.iter().any(|a| a == "--skip-vendor");
    let only_ext = args
        .iter()
        .position(|a| a == "--ext")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut files = Vec::new();
    files_under(&root, skip, &mut files);
    files.sort();
    let started = Instant::now();
    let (mut count, mut functions, mut calls, mut errors, mut broken, mut bytes) =
        (0usize, 0usize, 0usize, 0u64, 0usize, 0usize);
    let mut parsers = std::collections::HashMap::new();
    let mut parse_time = std::time::Duration::ZERO;
    for file in &files {
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
        if only_ext.as_deref().is_some_and(|only| only != ext) {
            continue;
        }
        let Some(spec) = lang::for_extension(ext) else {
            continue;
        };
        let Ok(source) = std::fs::read_to_string(file) else {
            continue;
        };
        let parser = parsers.entry(ext.to_string()).or_insert_with(|| {
            let mut parser = tree_sitter::Parser::new();
            parser.set_language(&(spec.grammar)()).expect("grammar");
            parser
        });
        let parse_started = Instant::now();
        let Some(tree) = parser.parse(&source, None) else {
            continue;
        };
        parse_time += parse_started.elapsed();
        let relative = file.strip_prefix(&root).unwrap_or(file).to_string_lossy();
        let facts = (spec.extract)(&relative, &source, &tree);
        count += 1;
        bytes += source.len();
        functions += facts.functions.len();
        calls += facts.functions.iter().map(|f| f.calls.len()).sum::<usize>();
        errors += u64::from(facts.syntax_errors);
        broken += usize::from(facts.syntax_errors > 0);
    }
    let elapsed = started.elapsed();
    println!(
        "files {count} ({} KiB), functions {functions}, calls {calls}, syntax errors {errors} in {broken} files, {:.1} ms total (parse {:.1} ms), 1 thread",
        bytes / 1024,
        elapsed.as_secs_f64() * 1000.0,
        parse_time.as_secs_f64() * 1000.0
    );
}
