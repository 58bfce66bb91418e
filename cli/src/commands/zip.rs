//! `autoscope zip` and `autoscope unzip`: lossless span compression with tracezip.
//!
//! `zip` reads trace files in any supported format, turns their ids into OTLP ids as
//! `convert` does (textual ids stay in attributes), and writes a `.tz` file; `unzip`
//! writes a `.tz` file's spans back as OTLP/JSON, exactly as `convert` would have.

use super::console;
use super::output::{Destination, Inputs};
use super::traces::{check_inputs, read_traces};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use tracezip::{DEFAULT_BATCH_SPANS, Decoder, DecoderOptions, Encoder, EncoderOptions, FileReader};

/// Arguments of `autoscope zip`.
#[derive(Debug, clap::Args)]
pub struct ZipArgs {
    /// Trace files (OTLP/JSON, Jaeger JSON, Zipkin v2 JSON, SkyWalking CSV or research
    /// CSV; the format is told from the content).
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Output file (.tz), written atomically; `-` for standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: PathBuf,
    /// Do not apply zstd to the frames (larger output, faster).
    #[arg(long)]
    no_zstd: bool,
    /// Print bytes in, bytes out, ratio and speed to standard error.
    #[arg(long)]
    stats: bool,
    /// Print the statistics as JSON (on standard output; on standard error with `-o -`).
    #[arg(long)]
    json: bool,
}

/// Arguments of `autoscope unzip`.
#[derive(Debug, clap::Args)]
pub struct UnzipArgs {
    /// A `.tz` file written by `autoscope zip`.
    #[arg(value_name = "IN.tz")]
    input: PathBuf,
    /// Output file (OTLP/JSON), written atomically; `-` for standard output.
    #[arg(short = 'o', long, value_name = "PATH")]
    output: PathBuf,
    /// Print bytes in, bytes out and speed to standard error.
    #[arg(long)]
    stats: bool,
    /// Print the statistics as JSON (on standard output; on standard error with `-o -`).
    #[arg(long)]
    json: bool,
}

/// Runs `autoscope zip`.
pub fn run_zip(args: ZipArgs) -> Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let destination = Destination::file(
        &args.output,
        &Inputs::of(args.inputs.iter().map(PathBuf::as_path)),
    )?;
    let options = EncoderOptions {
        zstd_level: (!args.no_zstd).then_some(tracezip::DEFAULT_ZSTD_LEVEL),
        ..EncoderOptions::default()
    };
    let mut encoder = Encoder::new(0, options);
    let mut frames = Vec::new();
    let mut bytes_in = 0u64;
    let mut span_count = 0;
    let mut encoding = std::time::Duration::ZERO;
    // One file's spans in memory at a time; the stream (and its dictionaries) goes on
    // from file to file.
    for input in &args.inputs {
        let document = read_traces(input)?;
        bytes_in += std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
        let spans = document.otlp_spans();
        drop(document);
        span_count += spans.len();
        let started = Instant::now();
        for batch in spans.chunks(DEFAULT_BATCH_SPANS) {
            let frame = encoder
                .encode_batch(batch)
                .with_context(|| format!("{}: cannot compress its spans", input.display()))?;
            frames.push(frame);
        }
        encoding += started.elapsed();
    }
    let mut bytes_out = 5u64;
    destination.write_with(|out: &mut dyn Write| -> Result<()> {
        tracezip::write_file_header(out)?;
        for frame in &frames {
            tracezip::write_frame(out, frame)?;
            bytes_out += frame.len() as u64 + varint_len(frame.len() as u64);
        }
        Ok(())
    })?;
    if args.stats || args.json {
        print_stats(
            Stats {
                command: "zip",
                spans: span_count,
                bytes_in,
                bytes_out,
                seconds: encoding.as_secs_f64(),
            },
            args.json,
            destination.is_stdout(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `autoscope unzip`.
pub fn run_unzip(args: UnzipArgs) -> Result<ExitCode> {
    check_inputs(std::slice::from_ref(&args.input))?;
    let destination = Destination::file(&args.output, &Inputs::of([args.input.as_path()]))?;
    let spans_and_size = read_tz(&args.input)
        .with_context(|| format!("{}: cannot decompress", args.input.display()));
    let (spans, bytes_in, seconds) = spans_and_size?;
    let mut json = Vec::new();
    trace_formats::write_otlp_json(&spans, &mut json)
        .with_context(|| format!("{}: cannot write OTLP/JSON", destination.name()))?;
    destination.write_with(|out: &mut dyn Write| -> Result<()> {
        out.write_all(&json)?;
        Ok(())
    })?;
    if args.stats || args.json {
        print_stats(
            Stats {
                command: "unzip",
                spans: spans.len(),
                bytes_in,
                bytes_out: json.len() as u64,
                seconds,
            },
            args.json,
            destination.is_stdout(),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Decodes every frame of the `.tz` file at `path`: spans, file size, decoding seconds.
fn read_tz(path: &Path) -> Result<(Vec<trace_formats::Span>, u64, f64)> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let options = DecoderOptions::default();
    let mut reader = FileReader::new(std::io::BufReader::new(file), options.max_frame_bytes)?;
    let mut decoder = Decoder::new(options);
    let mut spans = Vec::new();
    let started = Instant::now();
    while let Some(frame) = reader.next_frame()? {
        spans.extend(decoder.decode_frame(&frame)?);
    }
    Ok((spans, size, started.elapsed().as_secs_f64()))
}

/// What `--stats` reports.
struct Stats {
    command: &'static str,
    spans: usize,
    bytes_in: u64,
    bytes_out: u64,
    seconds: f64,
}

fn print_stats(stats: Stats, json: bool, data_on_stdout: bool) -> Result<()> {
    let Stats {
        command,
        spans,
        bytes_in,
        bytes_out,
        seconds,
    } = stats;
    // The compression ratio: trace bytes over .tz bytes, whichever way we went.
    let (trace_bytes, tz_bytes) = if command == "zip" {
        (bytes_in, bytes_out)
    } else {
        (bytes_out, bytes_in)
    };
    let ratio = trace_bytes as f64 / tz_bytes.max(1) as f64;
    let spans_per_second = spans as f64 / seconds.max(1e-9);
    let timed = if command == "zip" {
        "encoding"
    } else {
        "decoding"
    };
    if json {
        let value = serde_json::json!({
            "command": command,
            "spans": spans,
            "bytes_in": bytes_in,
            "bytes_out": bytes_out,
            "ratio": ratio,
            "seconds": seconds,
            "timed": timed,
            "spans_per_second": spans_per_second,
        });
        return super::traces::print_json_report(&value, data_on_stdout);
    }
    console::report_to_stderr(&format!(
        "{command}: {spans} spans, {bytes_in} bytes in, {bytes_out} bytes out, ratio {ratio:.2}, \
         {spans_per_second:.0} spans/s ({timed} only)\n"
    ))?;
    Ok(())
}

fn varint_len(value: u64) -> u64 {
    u64::from((64 - (value | 1).leading_zeros()).div_ceil(7))
}
