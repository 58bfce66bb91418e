//! Replays trace files as OTLP load, at a given rate, and (optionally) runs an OTLP sink
//! that measures the latency the sampler adds.
//!
//! ```text
//! cargo run --release -p autoscope-gateway --example replay_load -- \
//!     --target grpc://127.0.0.1:4317 --rate 20000 --duration 60 \
//!     [--sink 127.0.0.1:14318] [--spike-at 600 --spike-for 60 --spike-factor 10] \
//!     [--connections 4] [--concurrency 4] [--report out.json] [--once] FILE...
//! ```
//!
//! Files are read with `trace-formats` (any supported format; textual ids become valid
//! OTLP ids). Traces are sent whole, in file order, as `ExportTraceServiceRequest`s of
//! about `--batch` spans, over OTLP/gRPC (`grpc://`) or OTLP/HTTP protobuf (`http://`).
//! `--connections N` runs N sending loops, each on its own connection with its own share
//! of the traces (trace i goes to loop i mod N) and `--concurrency` requests in flight,
//! so one loop's request building does not cap the load. Requests are built from each
//! trace's encoding made once, by copying it and patching ids and times in place. Replays after the first pass give every
//! trace a fresh trace id, and every pass shifts span times to the moment of sending, so
//! a sampler's event-time clocks run at wall speed. `--rate 0` sends as fast as the
//! server takes it (saturation); `--once` sends each trace once and stops. A refused request (429, RESOURCE_EXHAUSTED) is retried
//! after a pause and counted.
//!
//! The sink (`--sink ADDR`) accepts OTLP/HTTP protobuf at `ADDR/v1/traces` (point the
//! sampler's forwarder at `http://ADDR`); per received span it records the time since
//! its trace was sent. The report (stdout, and `--report FILE` as JSON) gives spans
//! sent, refused retries, spans received by the sink and its latency percentiles.

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug)]
struct Options {
    target: String,
    rate: f64,
    duration: f64,
    batch: usize,
    concurrency: usize,
    connections: usize,
    sink: Option<String>,
    sink_linger: f64,
    spike_at: f64,
    spike_for: f64,
    spike_factor: f64,
    report: Option<String>,
    once: bool,
    files: Vec<String>,
}

fn parse() -> Result<Options, String> {
    let mut o = Options {
        target: String::new(),
        rate: 10_000.0,
        duration: 10.0,
        batch: 500,
        concurrency: 4,
        connections: 1,
        sink: None,
        sink_linger: 10.0,
        spike_at: -1.0,
        spike_for: 0.0,
        spike_factor: 1.0,
        report: None,
        once: false,
        files: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let number = |v: String| v.parse::<f64>().map_err(|e| format!("{v}: {e}"));
        match arg.as_str() {
            "--target" => o.target = value()?,
            "--rate" => o.rate = number(value()?)?,
            "--duration" => o.duration = number(value()?)?,
            "--batch" => o.batch = number(value()?)? as usize,
            "--concurrency" => o.concurrency = number(value()?)? as usize,
            "--connections" => o.connections = (number(value()?)? as usize).max(1),
            "--sink" => o.sink = Some(value()?),
            "--sink-linger" => o.sink_linger = number(value()?)?,
            "--spike-at" => o.spike_at = number(value()?)?,
            "--spike-for" => o.spike_for = number(value()?)?,
            "--spike-factor" => o.spike_factor = number(value()?)?,
            "--report" => o.report = Some(value()?),
            "--once" => o.once = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            file => o.files.push(file.to_string()),
        }
    }
    if o.target.is_empty() || o.files.is_empty() {
        return Err("usage: replay_load --target grpc://HOST:PORT|http://HOST:PORT [--rate N] [--duration S] [--sink ADDR] FILE...".into());
    }
    Ok(o)
}

/// One trace, ready to send: its `ExportTraceServiceRequest` encoding (requests of
/// several traces are their encodings one after the other: repeated fields append) and
/// where its trace ids and times are in it.
struct Trace {
    encoded: Vec<u8>,
    /// Offsets of the 16 trace id bytes of each span.
    trace_id_at: Vec<usize>,
    /// Offsets of each fixed64 time (span start and end, event times).
    time_at: Vec<usize>,
    trace_id: [u8; 16],
    spans: usize,
    min_start: u64,
}

fn varint(buf: &[u8], at: &mut usize) -> u64 {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = buf[*at];
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

/// The fields of the message at `buf[range]`: (number, wire type, offset of the value,
/// length of a length-delimited value).
fn fields_at(buf: &[u8], range: std::ops::Range<usize>) -> Vec<(u64, u64, usize, usize)> {
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let key = varint(buf, &mut at);
        let (number, wire) = (key >> 3, key & 7);
        let (value_at, len) = match wire {
            0 => {
                let start = at;
                varint(buf, &mut at);
                (start, 0)
            }
            1 => (at, 8),
            2 => {
                let len = varint(buf, &mut at) as usize;
                (at, len)
            }
            5 => (at, 4),
            _ => panic!("prost does not write wire type {wire}"),
        };
        if wire != 0 {
            at = value_at + len;
        }
        out.push((number, wire, value_at, len));
    }
    out
}

/// Where the trace ids and times of an encoded request are.
fn patch_points(encoded: &[u8]) -> (Vec<usize>, Vec<usize>) {
    let (mut ids, mut times) = (Vec::new(), Vec::new());
    let messages = |range: std::ops::Range<usize>, number: u64| {
        fields_at(encoded, range)
            .into_iter()
            .filter(move |f| f.0 == number && f.1 == 2)
            .map(|(_, _, at, len)| at..at + len)
    };
    for resource_spans in messages(0..encoded.len(), 1) {
        for scope_spans in messages(resource_spans, 2) {
            for span in messages(scope_spans, 2) {
                for (number, wire, at, len) in fields_at(encoded, span) {
                    match (number, wire) {
                        (1, 2) if len == 16 => ids.push(at),
                        (7 | 8, 1) => times.push(at),
                        (11, 2) => times.extend(
                            fields_at(encoded, at..at + len)
                                .into_iter()
                                .filter(|f| f.0 == 1 && f.1 == 1)
                                .map(|f| f.2),
                        ),
                        _ => {}
                    }
                }
            }
        }
    }
    (ids, times)
}

fn load(files: &[String]) -> Result<Vec<Trace>, String> {
    let mut traces = Vec::new();
    for file in files {
        let doc = trace_formats::read_path(file.as_ref()).map_err(|e| e.to_string())?;
        let spans = doc.otlp_spans();
        let mut order: Vec<Vec<u8>> = Vec::new();
        let mut by_trace: HashMap<Vec<u8>, Vec<trace_formats::Span>> = HashMap::new();
        for span in spans {
            let entry = by_trace.entry(span.trace_id.clone()).or_insert_with(|| {
                order.push(span.trace_id.clone());
                Vec::new()
            });
            entry.push(span);
        }
        for id in order {
            let mut spans = by_trace.remove(&id).unwrap_or_default();
            // OTLP sends a span when it ends: children before their parents.
            spans.sort_by_key(|s| std::cmp::Reverse(s.start_time_unix_nano));
            let min_start = spans
                .iter()
                .map(|s| s.start_time_unix_nano)
                .min()
                .unwrap_or(0);
            let encoded = ExportTraceServiceRequest {
                resource_spans: autoscope_gateway::convert::spans_to_resource_spans(&spans),
            }
            .encode_to_vec();
            let (trace_id_at, time_at) = patch_points(&encoded);
            traces.push(Trace {
                trace_id: id.as_slice().try_into().unwrap_or([0; 16]),
                spans: spans.len(),
                encoded,
                trace_id_at,
                time_at,
                min_start,
            });
        }
    }
    Ok(traces)
}

/// Appends to `out` a copy of `trace` for pass `pass`, its times shifted to `now_ns`;
/// returns its trace id.
fn instance(out: &mut Vec<u8>, trace: &Trace, pass: u64, now_ns: u64) -> [u8; 16] {
    let base = out.len();
    out.extend_from_slice(&trace.encoded);
    let shift = now_ns.wrapping_sub(trace.min_start);
    let mix = |id: &mut [u8]| {
        if pass > 0 {
            for (i, b) in pass.to_le_bytes().iter().enumerate() {
                id[8 + i] ^= b;
            }
        }
    };
    for &at in &trace.trace_id_at {
        mix(&mut out[base + at..base + at + 16]);
    }
    for &at in &trace.time_at {
        let field = &mut out[base + at..base + at + 8];
        let time = u64::from_le_bytes(field.try_into().expect("8 bytes"));
        field.copy_from_slice(&time.wrapping_add(shift).to_le_bytes());
    }
    let mut id = trace.trace_id;
    mix(&mut id);
    id
}

#[derive(Default)]
struct Sink {
    sent_at: Mutex<HashMap<[u8; 16], Instant>>,
    latencies_ms: Mutex<Vec<f64>>,
    received: AtomicU64,
}

/// Sends an already encoded request over gRPC.
#[derive(Debug, Clone, Copy, Default)]
struct EncodedCodec;

#[derive(Debug)]
struct EncodedEncoder;

impl tonic::codec::Encoder for EncodedEncoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Bytes,
        buf: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut;
        buf.put(item);
        Ok(())
    }
}

impl tonic::codec::Codec for EncodedCodec {
    type Encode = Bytes;
    type Decode = ExportTraceServiceResponse;
    type Encoder = EncodedEncoder;
    type Decoder = tonic_prost::ProstDecoder<ExportTraceServiceResponse>;
    fn encoder(&mut self) -> Self::Encoder {
        EncodedEncoder
    }
    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

#[derive(Clone)]
enum Client {
    Grpc(tonic::client::Grpc<tonic::transport::Channel>),
    Http(reqwest::Client, String),
}

impl Client {
    async fn connect(target: &str) -> Self {
        if let Some(rest) = target.strip_prefix("grpc://") {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{rest}"))
                .expect("grpc endpoint")
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{target}: {e}"));
            Client::Grpc(tonic::client::Grpc::new(channel))
        } else {
            let url = format!("{}/v1/traces", target.trim_end_matches('/'));
            // One client per loop: its own connection pool.
            Client::Http(reqwest::Client::new(), url)
        }
    }

    /// Sends; `Ok(false)` when throttled.
    async fn send(&mut self, request: Bytes) -> Result<bool, String> {
        match self {
            Client::Grpc(client) => {
                client.ready().await.map_err(|e| e.to_string())?;
                let path = tonic::codegen::http::uri::PathAndQuery::from_static(
                    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                );
                match client
                    .unary(tonic::Request::new(request), path, EncodedCodec)
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(status)
                        if matches!(
                            status.code(),
                            tonic::Code::ResourceExhausted | tonic::Code::Unavailable
                        ) =>
                    {
                        Ok(false)
                    }
                    Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
                }
            }
            Client::Http(client, url) => {
                let response = client
                    .post(url.as_str())
                    .header("content-type", "application/x-protobuf")
                    .body(request)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                match response.status().as_u16() {
                    200..=299 => Ok(true),
                    429 | 503 => Ok(false),
                    code => Err(format!("HTTP {code}")),
                }
            }
        }
    }
}

/// Counters shared by the sending loops.
#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    throttled: AtomicU64,
    errors: AtomicU64,
}

/// Sending loop `index` of `options.connections`: its share of the traces, paced at its
/// share of the rate, until the deadline.
async fn send_loop(
    index: usize,
    options: Arc<Options>,
    traces: Arc<Vec<Trace>>,
    sink: Arc<Sink>,
    counters: Arc<Counters>,
    start: Instant,
) {
    let loops = options.connections;
    let mine: Vec<usize> = (index..traces.len()).step_by(loops).collect();
    if mine.is_empty() {
        return;
    }
    let client = Client::connect(&options.target).await;
    let deadline = start + Duration::from_secs_f64(options.duration);
    let permits = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let batch = options.batch.max(1);
    let mut next = 0usize;
    let mut pass = 0u64;
    let mut scheduled_spans = 0f64;
    let mut tasks = tokio::task::JoinSet::new();
    let mut ids = Vec::new();
    while Instant::now() < deadline && !(options.once && pass > 0) {
        // Build one request of about `batch` spans.
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut request = Vec::new();
        let mut spans = 0;
        ids.clear();
        while spans < batch && !(options.once && pass > 0) {
            let trace = &traces[mine[next]];
            ids.push(instance(&mut request, trace, pass, now_ns));
            spans += trace.spans;
            next += 1;
            if next == mine.len() {
                next = 0;
                pass += 1;
            }
        }
        // Pace: this loop's share of the rate in force now (times the spike factor
        // inside the spike).
        let elapsed = start.elapsed().as_secs_f64();
        if options.rate > 0.0 {
            let in_spike = options.spike_at >= 0.0
                && elapsed >= options.spike_at
                && elapsed < options.spike_at + options.spike_for;
            let rate =
                options.rate * if in_spike { options.spike_factor } else { 1.0 } / loops as f64;
            scheduled_spans += spans as f64 / rate;
            let due = start + Duration::from_secs_f64(scheduled_spans);
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            } else if Instant::now() - due > Duration::from_secs(1) {
                // Behind by more than a second: do not burst to catch up.
                scheduled_spans = start.elapsed().as_secs_f64();
            }
        }
        if options.sink.is_some() {
            let mut sent_at = sink.sent_at.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            for id in &ids {
                sent_at.insert(*id, now);
            }
            if sent_at.len() > 2_000_000 {
                sent_at.retain(|_, at| now.duration_since(*at) < Duration::from_secs(120));
            }
        }
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore open");
        let mut client = client.clone();
        let counters = counters.clone();
        let request = Bytes::from(request);
        tasks.spawn(async move {
            let _permit = permit;
            loop {
                match client.send(request.clone()).await {
                    Ok(true) => {
                        counters.sent.fetch_add(spans as u64, Ordering::Relaxed);
                        break;
                    }
                    Ok(false) => {
                        counters.throttled.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    Err(e) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("replay_load: {e}");
                        break;
                    }
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let options = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("replay_load: {e}");
            std::process::exit(2);
        }
    };
    let traces = match load(&options.files) {
        Ok(t) if !t.is_empty() => Arc::new(t),
        Ok(_) => {
            eprintln!("replay_load: no spans in the files");
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("replay_load: {e}");
            std::process::exit(2);
        }
    };
    let sink = Arc::new(Sink::default());
    if let Some(address) = &options.sink {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .unwrap_or_else(|e| panic!("--sink {address}: {e}"));
        let state = sink.clone();
        let router = Router::new().route(
            "/v1/traces",
            post(move |body: Bytes| {
                let state = state.clone();
                async move {
                    let now = Instant::now();
                    if let Ok(request) = ExportTraceServiceRequest::decode(&body[..]) {
                        let sent = state.sent_at.lock().unwrap_or_else(|e| e.into_inner());
                        let mut latencies =
                            state.latencies_ms.lock().unwrap_or_else(|e| e.into_inner());
                        for span in request
                            .resource_spans
                            .iter()
                            .flat_map(|rs| rs.scope_spans.iter())
                            .flat_map(|ss| ss.spans.iter())
                        {
                            state.received.fetch_add(1, Ordering::Relaxed);
                            let id: Option<[u8; 16]> = span.trace_id.as_slice().try_into().ok();
                            if let Some(at) = id.and_then(|id| sent.get(&id)) {
                                latencies.push(now.duration_since(*at).as_secs_f64() * 1e3);
                            }
                        }
                    }
                    (
                        [("content-type", "application/x-protobuf")],
                        ExportTraceServiceResponse::default().encode_to_vec(),
                    )
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = Arc::new(options);
    let counters = Arc::new(Counters::default());
    let start = Instant::now();
    let loops: Vec<_> = (0..options.connections)
        .map(|index| {
            tokio::spawn(send_loop(
                index,
                options.clone(),
                traces.clone(),
                sink.clone(),
                counters.clone(),
                start,
            ))
        })
        .collect();
    for sending in loops {
        let _ = sending.await;
    }
    let send_secs = start.elapsed().as_secs_f64();
    if options.sink.is_some() {
        // Wait for the sampler to decide and forward what it holds.
        let linger = Instant::now() + Duration::from_secs_f64(options.sink_linger);
        let mut last = u64::MAX;
        while Instant::now() < linger {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = sink.received.load(Ordering::Relaxed);
            if now == last && now > 0 {
                break;
            }
            last = now;
        }
    }
    let mut latencies = sink
        .latencies_ms
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    latencies.sort_by(f64::total_cmp);
    let report = serde_json::json!({
        "spans_sent": counters.sent.load(Ordering::Relaxed),
        "send_seconds": send_secs,
        "spans_per_second": counters.sent.load(Ordering::Relaxed) as f64 / send_secs,
        "throttled_retries": counters.throttled.load(Ordering::Relaxed),
        "errors": counters.errors.load(Ordering::Relaxed),
        "connections": options.connections,
        "sink_spans": sink.received.load(Ordering::Relaxed),
        "latency_ms_p50": percentile(&latencies, 0.5),
        "latency_ms_p99": percentile(&latencies, 0.99),
    });
    println!("{report}");
    if let Some(path) = &options.report {
        let _ = std::fs::write(path, report.to_string());
    }
}
