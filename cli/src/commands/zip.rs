//! `autoscope zip` and `autoscope unzip`: lossless span compression with tracezip.
//!
//! `zip` reads trace files in any supported format, turns their ids into OTLP ids as
//! `convert` does (textual ids stay in attributes), and writes a `.tz` file; `unzip`
//! writes a `.tz` file's spans back as OTLP/JSON, exactly as `convert` would have.

use super::console;
use super::output::{Destination, Inputs};
use super::traces::{check_inputs, open_traces};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use tracezip::{
    DEFAULT_BATCH_SPANS, DecoderOptions, Encoder, EncoderOptions, FileWriter, SalvageReport,
};

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
    /// Start the dictionaries afresh every N frames (of 8,192 spans), so that
    /// `unzip --salvage` can decode again after a damaged frame; 0: only at the start.
    #[arg(long, value_name = "N", default_value_t = 8)]
    reset_every: u64,
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
    /// On damage, write the spans of the intact frames and report what was lost
    /// instead of failing (exit 1 when something was lost, 0 when nothing was).
    #[arg(long)]
    salvage: bool,
    /// Print bytes in, bytes out and speed to standard error.
    #[arg(long)]
    stats: bool,
    /// Print the statistics (and with `--salvage` what was lost) as JSON (on standard
    /// output; on standard error with `-o -`).
    #[arg(long)]
    json: bool,
}

/// Exit code of `unzip --salvage` when frames were lost.
const EXIT_LOST: u8 = 1;

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
    let mut bytes_in = 0u64;
    let mut span_count = 0;
    let mut bytes_out = 0;
    let mut encoding = std::time::Duration::ZERO;
    // One file's spans in memory at a time; frames are written as they are made, and
    // the stream (and its dictionaries) goes on from file to file.
    destination.write_with(|out: &mut dyn Write| -> Result<()> {
        let mut writer = FileWriter::new(out)?;
        let mut pending: Vec<trace_formats::Span> = Vec::new();
        let mut encode = |spans: &[trace_formats::Span], input: &std::path::Path| -> Result<()> {
            if args.reset_every > 0
                && writer.frames() > 0
                && writer.frames() % args.reset_every == 0
            {
                encoder.reset();
            }
            let started = Instant::now();
            let frame = encoder
                .encode_batch(spans)
                .with_context(|| format!("{}: cannot compress its spans", input.display()))?;
            encoding += started.elapsed();
            writer.write_frame(&frame)?;
            Ok(())
        };
        for input in &args.inputs {
            bytes_in += std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
            // A block of the input at a time; frames of DEFAULT_BATCH_SPANS spans as
            // a whole read made them, the last of each input shorter.
            let mut reader = open_traces(input)?;
            while let Some(block) = reader.next_block()? {
                pending.extend(block.otlp_spans());
                drop(block);
                let whole = pending.len() - pending.len() % DEFAULT_BATCH_SPANS;
                for batch in pending[..whole].chunks(DEFAULT_BATCH_SPANS) {
                    encode(batch, input)?;
                }
                span_count += whole;
                pending.drain(..whole);
            }
            if !pending.is_empty() {
                encode(&pending, input)?;
                span_count += pending.len();
                pending.clear();
            }
        }
        bytes_out = writer.finish()?.1;
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
                salvage: None,
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
    let shown = args.input.display().to_string();
    let started = Instant::now();
    let mut spans = 0usize;
    let mut salvage = None;
    let mut bytes_in = 0u64;
    let mut bytes_out = 0u64;
    // Each frame is written as it is decoded, one OTLP/JSON request line per frame: a
    // damaged frame fails the command and no output is left behind (a replaced file is
    // a temporary one until the end).
    destination.write_with(|out: &mut dyn Write| -> Result<()> {
        let mut buffered = std::io::BufWriter::with_capacity(
            1 << 20,
            CountingWriter {
                inner: out,
                bytes: 0,
            },
        );
        let write_frame = |frame_spans: Vec<trace_formats::Span>| -> Result<()> {
            spans += frame_spans.len();
            trace_formats::write_otlp_json(&frame_spans, &mut buffered)
                .with_context(|| format!("{}: cannot write OTLP/JSON", destination.name()))
        };
        if args.salvage {
            let file =
                std::fs::read(&args.input).with_context(|| format!("{shown}: cannot read"))?;
            bytes_in = file.len() as u64;
            let report = tracezip::salvage(&file, DecoderOptions::default(), write_frame)
                .with_context(|| format!("{shown}: cannot decompress"))?;
            salvage = Some(report);
        } else {
            let file = std::fs::File::open(&args.input)
                .with_context(|| format!("{shown}: cannot open"))?;
            bytes_in = file.metadata().map(|m| m.len()).unwrap_or(0);
            tracezip::decompress_each(
                std::io::BufReader::with_capacity(1 << 16, file),
                DecoderOptions::default(),
                write_frame,
            )
            .with_context(|| format!("{shown}: cannot decompress"))?;
        }
        if spans == 0 && salvage.as_ref().is_none_or(SalvageReport::is_complete) {
            // No frames: an empty request, as for an empty input everywhere.
            trace_formats::write_otlp_json(&[], &mut buffered)?;
        }
        buffered.flush()?;
        bytes_out = buffered.get_ref().bytes;
        Ok(())
    })?;
    let seconds = started.elapsed().as_secs_f64();
    if let Some(report) = &salvage {
        report_salvage(&shown, report)?;
    }
    if args.stats || args.json {
        print_stats(
            Stats {
                command: "unzip",
                spans,
                bytes_in,
                bytes_out,
                seconds,
                salvage: salvage.as_ref(),
            },
            args.json,
            destination.is_stdout(),
        )?;
    }
    let lost = salvage.as_ref().is_some_and(|report| !report.is_complete());
    Ok(if lost {
        ExitCode::from(EXIT_LOST)
    } else {
        ExitCode::SUCCESS
    })
}

/// Tells on standard error what `--salvage` could not recover.
fn report_salvage(shown: &str, report: &SalvageReport) -> Result<()> {
    let mut text = String::new();
    if report.is_complete() {
        text.push_str(&format!(
            "{shown}: intact: {} frames, {} spans\n",
            report.frames_recovered, report.spans_recovered
        ));
    } else {
        let unknown =
            |count: Option<u64>| count.map_or_else(|| "unknown".to_owned(), |n| n.to_string());
        text.push_str(&format!(
            "{shown}: damaged: recovered {} frames ({} spans); lost {} frames ({} spans)\n",
            report.frames_recovered,
            report.spans_recovered,
            unknown(report.frames_lost()),
            unknown(report.spans_lost()),
        ));
        for range in &report.lost {
            text.push_str(&format!(
                "{shown}: lost bytes {}..{} from frame {} ({} frames, {} spans): {}\n",
                range.start,
                range.end,
                range.first_frame,
                unknown(range.frames),
                unknown(range.spans),
                range.reason,
            ));
        }
    }
    console::report_to_stderr(&text)?;
    Ok(())
}

fn salvage_json(report: &SalvageReport) -> serde_json::Value {
    serde_json::json!({
        "complete": report.is_complete(),
        "version": report.version,
        "frames_recovered": report.frames_recovered,
        "spans_recovered": report.spans_recovered,
        "frames_lost": report.frames_lost(),
        "spans_lost": report.spans_lost(),
        "trailer": report.trailer.map(|(frames, spans)| serde_json::json!({"frames": frames, "spans": spans})),
        "lost": report.lost.iter().map(|range| serde_json::json!({
            "first_frame": range.first_frame,
            "frames": range.frames,
            "spans": range.spans,
            "start": range.start,
            "end": range.end,
            "reason": range.reason,
        })).collect::<Vec<_>>(),
    })
}

/// Counts the bytes written through it.
struct CountingWriter<'a> {
    inner: &'a mut dyn Write,
    bytes: u64,
}

impl Write for CountingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(buf)?;
        self.bytes += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What `--stats` reports.
struct Stats<'a> {
    command: &'static str,
    spans: usize,
    bytes_in: u64,
    bytes_out: u64,
    seconds: f64,
    salvage: Option<&'a SalvageReport>,
}

fn print_stats(stats: Stats, json: bool, data_on_stdout: bool) -> Result<()> {
    let Stats {
        command,
        spans,
        bytes_in,
        bytes_out,
        seconds,
        salvage,
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
        let mut value = serde_json::json!({
            "command": command,
            "spans": spans,
            "bytes_in": bytes_in,
            "bytes_out": bytes_out,
            "ratio": ratio,
            "seconds": seconds,
            "timed": timed,
            "spans_per_second": spans_per_second,
        });
        if let Some(report) = salvage {
            value["salvage"] = salvage_json(report);
        }
        return super::traces::print_json_report(&value, data_on_stdout);
    }
    console::report_to_stderr(&format!(
        "{command}: {spans} spans, {bytes_in} bytes in, {bytes_out} bytes out, ratio {ratio:.2}, \
         {spans_per_second:.0} spans/s ({timed} only)\n"
    ))?;
    Ok(())
}
