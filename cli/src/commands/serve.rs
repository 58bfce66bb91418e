//! `autoscope serve`: the OTLP sampling gateway (the `autoscope-gateway` library).

use super::{OnOff, input_error};
use anyhow::Result;
use autoscope_gateway::Config;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `autoscope serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policy file (reloaded when it changes and on SIGHUP).
    #[arg(long, short = 'p')]
    policy: PathBuf,
    /// OTLP/gRPC listen address.
    #[arg(long, value_name = "ADDR", default_value = "localhost:4317")]
    otlp_grpc: String,
    /// OTLP/HTTP listen address (`POST /v1/traces`).
    #[arg(long, value_name = "ADDR", default_value = "localhost:4318")]
    otlp_http: String,
    /// Admin listen address: /metrics, /healthz, /readyz, /api/sampling (Jaeger).
    #[arg(long, value_name = "ADDR", default_value = "localhost:9464")]
    admin: String,
    /// Decide a trace when its root has arrived and nothing new came for this long.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    decision_wait: Duration,
    /// Decide a trace this long after its first span, complete or not.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    max_trace_age: Duration,
    /// Send kept spans here: http:// or https:// (OTLP/HTTP protobuf), grpc:// or
    /// grpcs:// (OTLP/gRPC). Repeatable.
    #[arg(long, value_name = "URL")]
    forward: Vec<String>,
    /// Also (or instead) write kept spans as tracezip segments in this folder.
    #[arg(long, value_name = "DIR")]
    archive: Option<PathBuf>,
    /// Hold the policy's target reduction with the rate controller.
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    adaptive: OnOff,
    /// Buffered spans above this decide the oldest traces early.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    max_buffered_spans: usize,
    /// Memory bound (e.g. 512MiB, 2GiB): 60% trace buffer, 10% requests in flight, 20%
    /// export queues, 10% decision cache.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    max_memory: usize,
    /// Largest request body, compressed or decompressed.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    max_request_bytes: usize,
    /// Decisions remembered for late spans (also bounded by --max-memory).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    decision_cache_traces: usize,
    /// TLS certificate chain (PEM) for the OTLP receivers; needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for the OTLP receivers; needs --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Extra CA certificates (PEM) trusted for TLS to the --forward backends.
    #[arg(long, value_name = "FILE")]
    forward_ca: Option<PathBuf>,
    /// Headers for the forwarders, one `Name: value` a line (API keys stay off the
    /// command line). Also read from AUTOSCOPE_FORWARD_HEADERS (`name=value,...`).
    #[arg(long, value_name = "FILE")]
    forward_headers_file: Option<PathBuf>,
    /// Require `Authorization: Bearer <token>` from senders; the token is this file's
    /// first line.
    #[arg(long, value_name = "FILE")]
    bearer_token_file: Option<PathBuf>,
    /// Folder for spans spilled while a backend is down (replayed when it returns, also
    /// after a restart).
    #[arg(long, value_name = "DIR")]
    spill_dir: Option<PathBuf>,
    /// Rotate archive segments after this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    archive_rotate: Duration,
    /// At shutdown, how long to keep trying a backend before spilling what is left.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    shutdown_grace: Duration,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// `"64MiB"` → (64, `"MiB"`): the leading number and the unit after it; `expected`
/// describes a valid value for the error.
fn number_and_unit<'a>(text: &'a str, expected: &str) -> Result<(f64, &'a str), String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value = number
        .parse()
        .map_err(|_| format!("{text:?}: expected {expected}"))?;
    Ok((value, unit))
}

/// Parses `250ms`, `5s`, `2m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (value, unit) = number_and_unit(text, "a duration such as 500ms, 5s, 2m")?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// Parses `1048576`, `512KiB`, `64MiB`, `2GiB`, `100MB`, `1G`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (value, unit) = number_and_unit(text, "a size such as 512MiB or 2GiB")?;
    let factor: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        _ => {
            return Err(format!(
                "{text:?}: unknown unit {unit:?} (KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    Ok((value * factor) as usize)
}

/// `Name: value` lines (blank lines and `#` comments skipped).
fn headers_from_file(path: &std::path::Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    let mut headers = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(input_error(format!(
                "{}:{}: expected `Name: value`",
                path.display(),
                number + 1
            )));
        };
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(headers)
}

/// `name=value,name2=value2` (as OTEL_EXPORTER_OTLP_HEADERS).
fn headers_from_env(text: &str) -> Result<Vec<(String, String)>> {
    text.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => Ok((name.trim().to_string(), value.trim().to_string())),
            None => Err(input_error(format!(
                "AUTOSCOPE_FORWARD_HEADERS: {pair:?} is not name=value"
            ))),
        })
        .collect()
}

/// Runs `autoscope serve`.
pub fn run(args: Args) -> Result<ExitCode> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AUTOSCOPE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    let mut config = Config::new(args.policy);
    config.otlp_grpc = args.otlp_grpc;
    config.otlp_http = args.otlp_http;
    config.admin = args.admin;
    config.decision_wait = args.decision_wait;
    config.max_trace_age = args.max_trace_age.max(args.decision_wait);
    config.forward = args.forward;
    config.archive = args.archive;
    config.archive_rotate = args.archive_rotate;
    config.shutdown_grace = args.shutdown_grace;
    config.adaptive = args.adaptive == OnOff::On;
    config.max_buffered_spans = args.max_buffered_spans;
    config.max_memory = args.max_memory;
    config.max_request_bytes = args.max_request_bytes;
    config.decision_cache_traces = args.decision_cache_traces;
    config.tls = args.tls_cert.zip(args.tls_key);
    config.forward_ca = args.forward_ca;
    if let Some(path) = &args.forward_headers_file {
        config.forward_headers.extend(headers_from_file(path)?);
    }
    if let Ok(text) = std::env::var("AUTOSCOPE_FORWARD_HEADERS") {
        config.forward_headers.extend(headers_from_env(&text)?);
    }
    if let Some(path) = &args.bearer_token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
        let token = text.lines().next().unwrap_or("").trim().to_string();
        if token.is_empty() {
            return Err(input_error(format!(
                "{}: empty bearer token",
                path.display()
            )));
        }
        config.bearer_token = Some(token);
    }
    if let Some(dir) = args.spill_dir {
        config.spill_dir = dir;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("autoscope-serve")
        .build()?;
    let (_stop, stop_receiver) = tokio::sync::watch::channel(false);
    runtime.block_on(autoscope_gateway::run(
        config,
        |bound| {
            // One line tests and scripts can read for the ports (with port 0).
            eprintln!(
                "autoscope serve: listening otlp-grpc={} otlp-http={} admin={}",
                bound.grpc, bound.http, bound.admin
            );
        },
        stop_receiver,
    ))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert_eq!(
            headers_from_env("api-key=abc, x-team = core").unwrap(),
            [
                ("api-key".into(), "abc".into()),
                ("x-team".into(), "core".into())
            ]
        );
    }
}
