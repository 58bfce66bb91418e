//! Forwarding kept spans to a backend over OTLP/gRPC or OTLP/HTTP (protobuf), losing
//! nothing that was kept.
//!
//! Per `--forward` target, one task: kept spans are batched (up to
//! [`ExportConfig::batch_spans`] spans or [`ExportConfig::batch_timeout`]), queued in
//! memory up to [`ExportConfig::queue_bytes`], and sent one request at a time. A failure
//! the OTLP specification calls retryable (gRPC `UNAVAILABLE`, `RESOURCE_EXHAUSTED`,
//! `ABORTED`, `CANCELLED`, `DEADLINE_EXCEEDED`, `OUT_OF_RANGE`, `DATA_LOSS`; HTTP 429,
//! 502, 503, 504; a connection error or a timeout) is retried with exponential backoff
//! (100 ms doubling to 5 s, or the server's `Retry-After` / `RetryInfo`), forever; a
//! permanent one (say HTTP 400) drops that request and counts it
//! (`autoscope_spans_dropped_total{reason="export_rejected"}`), as OTLP prescribes.
//!
//! When the backend is down longer than the queue allows, the batches that do not fit
//! are written to tracezip segments in the target's spill folder; once a request gets
//! through again, the spill is read back (oldest first) and sent, and each segment is
//! deleted only after all of it was delivered. Spill segments survive a restart and are
//! replayed by the next `serve` with the same spill folder.
//!
//! What a crash (SIGKILL, power loss) loses: the traces still buffered in the assembler
//! (up to `--decision-wait` plus the hard deadline of traffic), the batches in the
//! in-memory queue, and the frames of an open archive segment not yet flushed. A
//! graceful shutdown (SIGINT, SIGTERM) loses nothing: it decides every buffered trace,
//! tries to deliver the queue for [`ExportConfig::shutdown_grace`] and spills the rest.

use crate::convert;
use crate::decider::{KeptBatch, KeptSpan};
use crate::metrics::{Metrics, Target as TargetLabel};
use crate::segment::{SegmentWriter, complete_segments, to_model};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::trace::v1 as pb;
use prost::Message;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Where to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// OTLP/gRPC; `tls` for `grpcs://`.
    Grpc {
        /// `http://host:port` or `https://host:port` for tonic.
        endpoint: String,
        /// Use TLS.
        tls: bool,
    },
    /// OTLP/HTTP protobuf to this URL (`/v1/traces` appended when the URL has no path).
    Http {
        /// Full URL of the traces endpoint.
        url: String,
    },
}

impl Protocol {
    /// Parses a `--forward` URL: `http://`, `https://` (OTLP/HTTP), `grpc://`,
    /// `grpcs://` (OTLP/gRPC, plain or TLS).
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(rest) = url.strip_prefix("grpc://") {
            return Ok(Self::Grpc {
                endpoint: format!("http://{}", rest.trim_end_matches('/')),
                tls: false,
            });
        }
        if let Some(rest) = url.strip_prefix("grpcs://") {
            return Ok(Self::Grpc {
                endpoint: format!("https://{}", rest.trim_end_matches('/')),
                tls: true,
            });
        }
        for scheme in ["http://", "https://"] {
            if let Some(rest) = url.strip_prefix(scheme) {
                if rest.is_empty() {
                    break;
                }
                let has_path = rest.find('/').is_some_and(|i| i + 1 < rest.len());
                let url = if has_path {
                    url.to_string()
                } else {
                    format!("{scheme}{}/v1/traces", rest.trim_end_matches('/'))
                };
                return Ok(Self::Http { url });
            }
        }
        Err(format!(
            "--forward {url:?}: expected http://, https:// (OTLP/HTTP) or grpc://, grpcs:// (OTLP/gRPC)"
        ))
    }
}

/// Settings of one forwarder.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    /// The `--forward` URL as given (metric label).
    pub label: String,
    /// Where to send.
    pub protocol: Protocol,
    /// Headers sent with every request (API keys: from a file or the environment).
    pub headers: Vec<(String, String)>,
    /// Extra CA certificates (PEM) trusted for TLS to the backend.
    pub ca_pem: Option<Vec<u8>>,
    /// Spans per request.
    pub batch_spans: usize,
    /// Longest wait to fill a batch.
    pub batch_timeout: Duration,
    /// Queue bound in bytes (encoded size of the kept spans).
    pub queue_bytes: usize,
    /// Timeout of one export request.
    pub request_timeout: Duration,
    /// Folder for spill segments.
    pub spill_dir: PathBuf,
    /// On shutdown, how long to keep trying before spilling the rest.
    pub shutdown_grace: Duration,
}

enum Client {
    Grpc(TraceServiceClient<tonic::transport::Channel>),
    Http(reqwest::Client, String),
}

/// Why a send failed.
#[derive(Debug)]
enum SendError {
    /// Try again (after at least this long, when the server said).
    Retryable(String, Option<Duration>),
    /// Do not retry this request.
    Permanent(String),
}

fn grpc_retryable(status: &tonic::Status) -> bool {
    use tonic::Code;
    matches!(
        status.code(),
        Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Aborted
            | Code::OutOfRange
            | Code::Unavailable
            | Code::DataLoss
            | Code::ResourceExhausted
    )
}

fn retry_info_delay(status: &tonic::Status) -> Option<Duration> {
    use tonic_types::StatusExt;
    status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
}

fn tls_client_config(ca_pem: Option<&[u8]>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = ca_pem {
        for cert in crate::tls::certs_from_pem(pem)? {
            roots
                .add(cert)
                .map_err(|e| format!("CA certificate: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

impl Client {
    fn new(config: &ExportConfig) -> Result<Self, String> {
        match &config.protocol {
            Protocol::Grpc { endpoint, tls } => {
                let mut endpoint = tonic::transport::Endpoint::from_shared(endpoint.clone())
                    .map_err(|e| format!("{}: {e}", config.label))?
                    .timeout(config.request_timeout)
                    .connect_timeout(config.request_timeout);
                if *tls {
                    let mut tls_config =
                        tonic::transport::ClientTlsConfig::new().with_enabled_roots();
                    if let Some(pem) = &config.ca_pem {
                        tls_config =
                            tls_config.ca_certificate(tonic::transport::Certificate::from_pem(pem));
                    }
                    endpoint = endpoint
                        .tls_config(tls_config)
                        .map_err(|e| format!("{}: {e}", config.label))?;
                }
                Ok(Self::Grpc(
                    TraceServiceClient::new(endpoint.connect_lazy())
                        .max_encoding_message_size(usize::MAX),
                ))
            }
            Protocol::Http { url } => {
                let tls = tls_client_config(config.ca_pem.as_deref())?;
                let client = reqwest::Client::builder()
                    .tls_backend_preconfigured(tls)
                    .timeout(config.request_timeout)
                    .connect_timeout(config.request_timeout)
                    .build()
                    .map_err(|e| format!("{}: {e}", config.label))?;
                Ok(Self::Http(client, url.clone()))
            }
        }
    }

    /// Sends one request; returns the spans the backend rejected (partial success).
    async fn send(
        &mut self,
        request: &ExportTraceServiceRequest,
        headers: &[(String, String)],
    ) -> Result<i64, SendError> {
        match self {
            Self::Grpc(client) => {
                let mut message = tonic::Request::new(request.clone());
                for (name, value) in headers {
                    let (Ok(name), Ok(value)) = (
                        tonic::metadata::MetadataKey::from_bytes(
                            name.to_ascii_lowercase().as_bytes(),
                        ),
                        value.parse(),
                    ) else {
                        continue;
                    };
                    message.metadata_mut().insert(name, value);
                }
                match client.export(message).await {
                    Ok(response) => Ok(response
                        .into_inner()
                        .partial_success
                        .map_or(0, |p| p.rejected_spans)),
                    Err(status) if grpc_retryable(&status) => Err(SendError::Retryable(
                        format!("{:?}: {}", status.code(), status.message()),
                        retry_info_delay(&status),
                    )),
                    Err(status) => Err(SendError::Permanent(format!(
                        "{:?}: {}",
                        status.code(),
                        status.message()
                    ))),
                }
            }
            Self::Http(client, url) => {
                let mut builder = client
                    .post(url.as_str())
                    .header("content-type", "application/x-protobuf")
                    .body(request.encode_to_vec());
                for (name, value) in headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                let response = builder
                    .send()
                    .await
                    .map_err(|e| SendError::Retryable(e.to_string(), None))?;
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let body = response.bytes().await.unwrap_or_default();
                match status {
                    200..=299 => Ok(
                        opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse::decode(&body[..])
                            .ok()
                            .and_then(|r| r.partial_success)
                            .map_or(0, |p| p.rejected_spans),
                    ),
                    429 | 502 | 503 | 504 => Err(SendError::Retryable(
                        format!("HTTP {status}"),
                        retry_after,
                    )),
                    _ => Err(SendError::Permanent(format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    ))),
                }
            }
        }
    }
}

/// Kept spans grouped into one request by resource and scope.
pub fn request_of(spans: &[KeptSpan]) -> ExportTraceServiceRequest {
    let mut resource_spans: Vec<pb::ResourceSpans> = Vec::new();
    // Index by resource pointer, then by origin pointer within it.
    let mut by_resource: ahash::AHashMap<usize, usize> = ahash::AHashMap::new();
    let mut by_origin: ahash::AHashMap<usize, (usize, usize)> = ahash::AHashMap::new();
    for kept in spans {
        let origin_key = Arc::as_ptr(&kept.origin) as usize;
        let (r, s) = match by_origin.get(&origin_key) {
            Some(&at) => at,
            None => {
                let resource_key = Arc::as_ptr(&kept.origin.resource) as usize;
                let r = *by_resource.entry(resource_key).or_insert_with(|| {
                    resource_spans.push(pb::ResourceSpans {
                        resource: Some(kept.origin.resource.proto.clone()),
                        scope_spans: Vec::new(),
                        schema_url: kept.origin.resource.schema_url.clone(),
                    });
                    resource_spans.len() - 1
                });
                let scopes = &mut resource_spans[r].scope_spans;
                scopes.push(pb::ScopeSpans {
                    scope: kept.origin.scope.clone(),
                    spans: Vec::new(),
                    schema_url: kept.origin.schema_url.clone(),
                });
                let at = (r, scopes.len() - 1);
                by_origin.insert(origin_key, at);
                at
            }
        };
        resource_spans[r].scope_spans[s]
            .spans
            .push(kept.span.clone());
    }
    ExportTraceServiceRequest { resource_spans }
}

/// A batch waiting to be sent.
struct Queued {
    request: ExportTraceServiceRequest,
    spans: usize,
    bytes: usize,
    /// The spill segment it came from (deleted once all its batches are delivered).
    from_spill: Option<PathBuf>,
}

/// One forwarder; see the [module docs](self).
pub struct Forwarder {
    config: ExportConfig,
    client: Client,
    metrics: Arc<Metrics>,
    label: TargetLabel,
    queue: VecDeque<Queued>,
    queue_bytes: usize,
    batch: Vec<KeptSpan>,
    spill_seq: u64,
    spill_bytes: u64,
    /// Spill segments being replayed: path → batches not yet delivered.
    replaying: Vec<(PathBuf, usize)>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("target", &self.config.label)
            .finish_non_exhaustive()
    }
}

const SPILL_PREFIX: &str = "spill";

impl Forwarder {
    /// A forwarder for `config`.
    pub fn new(config: ExportConfig, metrics: Arc<Metrics>) -> Result<Self, String> {
        let client = Client::new(&config)?;
        std::fs::create_dir_all(&config.spill_dir).map_err(|e| {
            format!(
                "{}: cannot create the spill folder: {e}",
                config.spill_dir.display()
            )
        })?;
        let spill_bytes = complete_segments(&config.spill_dir, SPILL_PREFIX)
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        let label = TargetLabel {
            target: config.label.clone(),
        };
        metrics
            .spill_bytes
            .get_or_create(&label)
            .set(spill_bytes as i64);
        Ok(Self {
            client,
            metrics,
            label,
            queue: VecDeque::new(),
            queue_bytes: 0,
            batch: Vec::new(),
            spill_seq: 0,
            spill_bytes,
            replaying: Vec::new(),
            config,
        })
    }

    /// Runs until `input` is closed, then delivers or spills what is left.
    pub async fn run(mut self, mut input: mpsc::Receiver<KeptBatch>) {
        use tokio::time::Instant;
        let mut backoff = Duration::from_millis(100);
        let mut closed = false;
        let mut retry_at: Option<Instant> = None;
        let mut batch_deadline: Option<Instant> = None;
        let mut spill_failed = false;
        loop {
            let now = Instant::now();
            let sendable = !self.queue.is_empty() || self.spill_bytes > 0;
            let wake = match (retry_at, sendable) {
                (Some(at), _) => Some(at),
                (None, true) => Some(now),
                (None, false) => batch_deadline,
            };
            // With the queue over its bound and no spill, stop taking input: the decider
            // then blocks and the receivers push back.
            let accept = !(spill_failed && self.queue_bytes > self.config.queue_bytes);
            if !closed && accept {
                let received = match wake {
                    // `timeout_at` polls the channel first, so a ready batch is taken
                    // even when the deadline has passed.
                    Some(at) => tokio::time::timeout_at(at, input.recv()).await.ok(),
                    None => Some(input.recv().await),
                };
                match received {
                    Some(Some(batch)) => {
                        if self.batch.is_empty() {
                            batch_deadline = Some(Instant::now() + self.config.batch_timeout);
                        }
                        self.batch.extend(batch.iter().cloned());
                        while self.batch.len() < self.config.batch_spans * 8 {
                            match input.try_recv() {
                                Ok(more) => self.batch.extend(more.iter().cloned()),
                                Err(_) => break,
                            }
                        }
                    }
                    Some(None) => closed = true,
                    None => {}
                }
            } else if let Some(at) = wake.filter(|at| *at > now) {
                tokio::time::sleep_until(at).await;
            }
            let now = Instant::now();
            if self.batch.len() >= self.config.batch_spans
                || batch_deadline.is_some_and(|d| d <= now)
                || closed
                || (!self.batch.is_empty() && !self.queue.is_empty())
            {
                self.cut_batches();
                batch_deadline = None;
            }
            match self.spill_overflow() {
                Ok(()) => spill_failed = false,
                Err(e) => {
                    if !spill_failed {
                        tracing::error!(target = %self.config.label, error = %e, "cannot spill; holding batches and pushing back");
                    }
                    spill_failed = true;
                }
            }
            if retry_at.is_some_and(|at| at > now) {
                continue;
            }
            retry_at = None;
            if self.queue.is_empty() {
                self.load_spill();
            }
            let Some(front) = self.queue.front() else {
                if closed && self.batch.is_empty() {
                    return;
                }
                continue;
            };
            match self.client.send(&front.request, &self.config.headers).await {
                Ok(rejected) => {
                    backoff = Duration::from_millis(100);
                    let done = self.queue.pop_front().expect("front exists");
                    self.delivered(done, rejected);
                }
                Err(SendError::Permanent(message)) => {
                    let done = self.queue.pop_front().expect("front exists");
                    tracing::error!(target = %self.config.label, error = %message, spans = done.spans, "backend refused a request; dropped");
                    self.metrics
                        .export_failures
                        .get_or_create(&self.label)
                        .inc();
                    Metrics::count(
                        &self.metrics.spans_dropped,
                        "export_rejected",
                        done.spans as u64,
                    );
                    self.queue_bytes -= done.bytes;
                    self.finish_spill_batch(done.from_spill);
                    self.update_queue_gauge();
                }
                Err(SendError::Retryable(message, after)) => {
                    self.metrics
                        .export_failures
                        .get_or_create(&self.label)
                        .inc();
                    tracing::warn!(target = %self.config.label, error = %message, "export failed; retrying");
                    if closed {
                        // Shutting down: retry within the grace period, then spill.
                        self.shutdown(backoff).await;
                        return;
                    }
                    let wait = after.unwrap_or(backoff).min(Duration::from_secs(30));
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    retry_at = Some(Instant::now() + wait);
                }
            }
        }
    }

    fn delivered(&mut self, done: Queued, rejected: i64) {
        self.queue_bytes -= done.bytes;
        self.metrics
            .spans_exported
            .get_or_create(&self.label)
            .inc_by((done.spans as u64).saturating_sub(rejected.max(0) as u64));
        if rejected > 0 {
            Metrics::count(
                &self.metrics.spans_dropped,
                "backend_rejected",
                rejected as u64,
            );
        }
        self.finish_spill_batch(done.from_spill);
        self.update_queue_gauge();
    }

    fn finish_spill_batch(&mut self, from: Option<PathBuf>) {
        let Some(path) = from else { return };
        if let Some(at) = self.replaying.iter().position(|(p, _)| *p == path) {
            self.replaying[at].1 -= 1;
            if self.replaying[at].1 == 0 {
                self.replaying.remove(at);
                let size = std::fs::metadata(&path).map_or(0, |m| m.len());
                if std::fs::remove_file(&path).is_ok() {
                    self.spill_bytes = self.spill_bytes.saturating_sub(size);
                    self.metrics
                        .spill_bytes
                        .get_or_create(&self.label)
                        .set(self.spill_bytes as i64);
                    tracing::info!(target = %self.config.label, path = %path.display(), "spill segment replayed");
                }
            }
        }
    }

    fn update_queue_gauge(&self) {
        let spans: usize = self.queue.iter().map(|q| q.spans).sum::<usize>() + self.batch.len();
        self.metrics
            .export_queue_spans
            .get_or_create(&self.label)
            .set(spans as i64);
    }

    /// Moves the batch under construction into the queue, in requests of
    /// `batch_spans`.
    fn cut_batches(&mut self) {
        while !self.batch.is_empty() {
            let take = self.batch.len().min(self.config.batch_spans.max(1));
            let spans: Vec<KeptSpan> = self.batch.drain(..take).collect();
            let bytes = spans.iter().map(|s| s.bytes).sum();
            self.queue_bytes += bytes;
            self.queue.push_back(Queued {
                request: request_of(&spans),
                spans: spans.len(),
                bytes,
                from_spill: None,
            });
        }
        self.update_queue_gauge();
    }

    /// Spills the newest queued batches (not those read back from the spill) while the
    /// queue is over its bound.
    fn spill_overflow(&mut self) -> std::io::Result<()> {
        if self.queue_bytes <= self.config.queue_bytes {
            return Ok(());
        }
        let mut taken: Vec<Queued> = Vec::new();
        let mut bytes = self.queue_bytes;
        while bytes > self.config.queue_bytes / 2 {
            match self.queue.back() {
                Some(q) if q.from_spill.is_none() && self.queue.len() > 1 => {
                    let q = self.queue.pop_back().expect("back exists");
                    bytes -= q.bytes;
                    taken.push(q);
                }
                _ => break,
            }
        }
        if taken.is_empty() {
            return Ok(());
        }
        taken.reverse();
        self.spill_seq += 1;
        let mut writer =
            SegmentWriter::create(&self.config.spill_dir, SPILL_PREFIX, self.spill_seq)?;
        let mut spans = 0;
        for q in &taken {
            let model = request_to_model(&q.request);
            spans += model.len();
            writer.write(&model)?;
        }
        let size = writer.bytes;
        match writer.finish() {
            Ok(path) => {
                self.queue_bytes = bytes;
                self.spill_bytes += size;
                self.metrics
                    .spill_bytes
                    .get_or_create(&self.label)
                    .set(self.spill_bytes as i64);
                tracing::warn!(target = %self.config.label, spans, path = %path.display(), "backend behind: spilled kept spans to disk");
                self.update_queue_gauge();
                Ok(())
            }
            Err(e) => {
                // Put them back; nothing is lost.
                self.queue.extend(taken);
                Err(e)
            }
        }
    }

    /// Reads the oldest spill segment back into the queue.
    fn load_spill(&mut self) {
        if self.spill_bytes == 0 {
            return;
        }
        let replaying: Vec<PathBuf> = self.replaying.iter().map(|(p, _)| p.clone()).collect();
        let Some(path) = complete_segments(&self.config.spill_dir, SPILL_PREFIX)
            .into_iter()
            .find(|p| !replaying.contains(p))
        else {
            return;
        };
        let spans = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| tracezip::decompress(&bytes).map_err(|e| e.to_string()))
        {
            Ok(spans) => spans,
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "unreadable spill segment; renamed to .bad");
                let _ = std::fs::rename(&path, path.with_extension("tz.bad"));
                return;
            }
        };
        let mut batches = 0;
        for chunk in spans.chunks(self.config.batch_spans.max(1)) {
            let request = ExportTraceServiceRequest {
                resource_spans: convert::spans_to_resource_spans(chunk),
            };
            let bytes = request.encoded_len();
            self.queue_bytes += bytes;
            self.queue.push_back(Queued {
                request,
                spans: chunk.len(),
                bytes,
                from_spill: Some(path.clone()),
            });
            batches += 1;
        }
        if batches == 0 {
            let _ = std::fs::remove_file(&path);
        } else {
            self.replaying.push((path, batches));
        }
    }

    async fn shutdown(&mut self, mut backoff: Duration) {
        let deadline = tokio::time::Instant::now() + self.config.shutdown_grace;
        while let Some(front) = self.queue.front() {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            match tokio::time::timeout_at(
                deadline,
                self.client.send(&front.request, &self.config.headers),
            )
            .await
            {
                Ok(Ok(rejected)) => {
                    let done = self.queue.pop_front().expect("front exists");
                    self.delivered(done, rejected);
                }
                Ok(Err(SendError::Permanent(_))) => {
                    let done = self.queue.pop_front().expect("front exists");
                    Metrics::count(
                        &self.metrics.spans_dropped,
                        "export_rejected",
                        done.spans as u64,
                    );
                    self.finish_spill_batch(done.from_spill);
                }
                Ok(Err(SendError::Retryable(..))) => {
                    self.metrics
                        .export_failures
                        .get_or_create(&self.label)
                        .inc();
                    tokio::time::sleep(backoff.min(deadline - tokio::time::Instant::now())).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                Err(_) => break,
            }
        }
        // Spill whatever is left (batches read from the spill are still on disk).
        let rest: Vec<Queued> = self
            .queue
            .drain(..)
            .filter(|q| q.from_spill.is_none())
            .collect();
        if rest.is_empty() {
            return;
        }
        self.spill_seq += 1;
        let spans: usize = rest.iter().map(|q| q.spans).sum();
        let result = SegmentWriter::create(&self.config.spill_dir, SPILL_PREFIX, self.spill_seq)
            .and_then(|mut writer| {
                for q in &rest {
                    writer.write(&request_to_model(&q.request))?;
                }
                writer.finish()
            });
        match result {
            Ok(path) => {
                tracing::warn!(target = %self.config.label, spans, path = %path.display(), "backend unreachable at shutdown: kept spans spilled, replayed at the next start")
            }
            Err(e) => {
                tracing::error!(target = %self.config.label, spans, error = %e, "cannot spill at shutdown: spans lost");
                Metrics::count(&self.metrics.spans_dropped, "export_failed", spans as u64);
            }
        }
    }
}

/// An encoded request's spans in the span model (for the spill).
pub fn request_to_model(request: &ExportTraceServiceRequest) -> Vec<trace_formats::Span> {
    let mut out = Vec::new();
    for rs in &request.resource_spans {
        let resource = Arc::new(convert::resource_from_proto(
            rs.resource.as_ref(),
            &rs.schema_url,
        ));
        for ss in &rs.scope_spans {
            let scope = Arc::new(convert::scope_from_proto(ss.scope.as_ref(), &ss.schema_url));
            out.extend(
                ss.spans
                    .iter()
                    .map(|s| convert::span_from_proto(s, resource.clone(), scope.clone())),
            );
        }
    }
    out
}

/// Kept spans in the span model, for the archive.
pub fn kept_to_model(spans: &[KeptSpan]) -> Vec<trace_formats::Span> {
    to_model(spans)
}
