//! Reads a trace file and writes it back in its own format, reporting the time each
//! step took: `cargo run --release -p trace-formats --example roundtrip -- FILE [OUT]`
//! (OUT defaults to discarding the output).

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args_os().skip(1);
    let input = args.next().ok_or("usage: roundtrip FILE [OUT]")?;
    let output = args.next();
    let started = Instant::now();
    let doc = trace_formats::read_path(input.as_ref())?;
    let read = started.elapsed();
    let mut out: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::sink()),
    };
    trace_formats::write_all(&doc, &mut out)?;
    out.flush()?;
    let total = started.elapsed();
    let bytes = std::fs::metadata(&input)?.len() as f64;
    eprintln!(
        "{} spans ({}): read {:.1} ms, read+write {:.1} ms = {:.0} MB/s",
        doc.spans.len(),
        doc.format,
        read.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        bytes / 1e6 / total.as_secs_f64()
    );
    // The document is freed by the process exit, as a CLI would.
    std::mem::forget(doc);
    Ok(())
}
