//! `autoscope zip` and `autoscope unzip`: lossless span compression with tracezip.
//!
//! `zip` reads trace files in any supported format, turns their ids into OTLP ids as
//! `convert` does (textual ids stay in attributes), and writes a `.tz` file; `unzip`
//! writes a `.tz` file's spans back as OTLP/JSON, exactly as `convert` would have.

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
    /// Output file, written atomically.
    #[arg(short, long, value_name = "OUT.tz")]
    output: PathBuf,
    /// Do not apply zstd to the frames (larger output, faster).
    #[arg(long)]
    no_zstd: bool,
    /// Print bytes in, bytes out, ratio and speed to standard error.
    #[arg(long)]
    stats: bool,
}

/// Arguments of `autoscope unzip`.
#[derive(Debug, clap::Args)]
pub struct UnzipArgs {
    /// A `.tz` file written by `autoscope zip`.
    #[arg(value_name = "IN.tz")]
    input: PathBuf,
    /// Output file (OTLP/JSON), written atomically; `-` for standard output.
    #[arg(short, long, value_name = "OUT.json")]
    output: PathBuf,
    /// Print bytes in, bytes out and speed to standard error.
    #[arg(long)]
    stats: bool,
}

/// Runs `autoscope zip`.
pub fn run_zip(args: ZipArgs) -> Result<ExitCode> {
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
        let document = trace_formats::read_path(input)?;
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
    super::write_atomically(&args.output, |out: &mut dyn Write| -> Result<()> {
        tracezip::write_file_header(out)?;
        for frame in &frames {
            tracezip::write_frame(out, frame)?;
            bytes_out += frame.len() as u64 + varint_len(frame.len() as u64);
        }
        Ok(())
    })?;
    if args.stats {
        print_stats(
            "zip",
            span_count,
            bytes_in,
            bytes_out,
            encoding.as_secs_f64(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `autoscope unzip`.
pub fn run_unzip(args: UnzipArgs) -> Result<ExitCode> {
    let spans_and_size = read_tz(&args.input)
        .with_context(|| format!("{}: cannot decompress", args.input.display()));
    let (spans, bytes_in, seconds) = spans_and_size?;
    let mut json = Vec::new();
    trace_formats::write_otlp_json(&spans, &mut json)
        .with_context(|| format!("{}: cannot write OTLP/JSON", args.output.display()))?;
    if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(&json)
            .and_then(|()| out.flush())
            .context("cannot write to standard output")?;
    } else {
        super::write_atomically(&args.output, |out: &mut dyn Write| -> Result<()> {
            out.write_all(&json)?;
            Ok(())
        })?;
    }
    if args.stats {
        print_stats("unzip", spans.len(), bytes_in, json.len() as u64, seconds);
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

fn print_stats(command: &str, spans: usize, bytes_in: u64, bytes_out: u64, seconds: f64) {
    // The compression ratio: trace bytes over .tz bytes, whichever way we went.
    let (trace_bytes, tz_bytes) = if command == "zip" {
        (bytes_in, bytes_out)
    } else {
        (bytes_out, bytes_in)
    };
    let ratio = trace_bytes as f64 / tz_bytes.max(1) as f64;
    eprintln!(
        "{command}: {spans} spans, {bytes_in} bytes in, {bytes_out} bytes out, ratio {ratio:.2}, \
         {:.0} spans/s ({} only)",
        spans as f64 / seconds.max(1e-9),
        if command == "zip" {
            "encoding"
        } else {
            "decoding"
        }
    );
}

fn varint_len(value: u64) -> u64 {
    u64::from((64 - (value | 1).leading_zeros()).div_ceil(7))
}
