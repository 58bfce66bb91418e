//! `autoscope serve`: an OTLP sampling gateway. It receives spans over OTLP/gRPC and
//! OTLP/HTTP ([`receive`]), gathers them into traces with bounded waiting and memory
//! (the `trace-assembly` crate), decides each trace span by span with the unchanged
//! runtime sampler and its structure pass ([`decider`]), holds the policy's target
//! with the rate controller, and forwards the kept spans over OTLP ([`export`]) and/or
//! writes them as tracezip segments ([`archive`]).
//!
//! ```text
//! OTLP/gRPC ─┐                                         ┌─▶ forwarder (batch, retry, queue, spill) ─▶ backend
//!            ├─▶ intake ─▶ decider: assembler ─▶ sampler ┤
//! OTLP/HTTP ─┘   (ids checked)      (late spans, cache)  └─▶ archive (.tz segments)
//! admin: /metrics /healthz /readyz /api/sampling (Jaeger)   gRPC: jaeger.api_v2.SamplingManager
//! ```
//!
//! Memory: `--max-memory` is split 60% to the assembler's buffer, 10% to requests in
//! flight between the receivers and the decider, 20% to the forwarders' queues and 10%
//! to the decision cache (about 1 KiB a trace), so the process stays near the limit
//! plus its fixed cost. When the buffer is full the oldest traces are decided early;
//! only when requests come faster than the decider can buffer them do the receivers
//! push back (see [`receive`]).

pub mod archive;
pub mod convert;
pub mod decider;
pub mod export;
pub mod intake;
pub mod jaeger;
pub mod metrics;
pub mod receive;
pub mod segment;
pub mod server;
pub mod tls;

use crate::decider::{Admission, Command, Decider, DeciderConfig, KeptBatch};
use crate::export::{ExportConfig, Forwarder, Protocol};
use crate::metrics::Metrics;
use crate::receive::{GrpcReceiver, Receivers};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use policy_schema::Policy;
use runtime_sampler::Sampler;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use trace_assembly::Limits;

/// Everything `serve` is told.
#[derive(Debug, Clone)]
pub struct Config {
    /// The policy file (reloaded when it changes and on SIGHUP).
    pub policy_path: PathBuf,
    /// OTLP/gRPC listen address.
    pub otlp_grpc: String,
    /// OTLP/HTTP listen address.
    pub otlp_http: String,
    /// Admin (metrics, health, Jaeger sampling) listen address.
    pub admin: String,
    /// A trace whose root has arrived is decided when nothing new came for this long.
    pub decision_wait: Duration,
    /// Hard deadline after a trace's first span.
    pub max_trace_age: Duration,
    /// `--forward` URLs.
    pub forward: Vec<String>,
    /// `--archive` folder.
    pub archive: Option<PathBuf>,
    /// Archive segment rotation.
    pub archive_rotate: Duration,
    /// Hold the target with the rate controller.
    pub adaptive: bool,
    /// The controller's window of event time.
    pub controller_window: Duration,
    /// Buffered spans above this decide the oldest traces early.
    pub max_buffered_spans: usize,
    /// The memory bound (see the crate docs for its split).
    pub max_memory: usize,
    /// Largest request body, compressed or not.
    pub max_request_bytes: usize,
    /// Decisions remembered for late spans (also bounded by memory).
    pub decision_cache_traces: usize,
    /// Receiver TLS certificate chain and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Extra CA certificates (PEM) for TLS to the backends.
    pub forward_ca: Option<PathBuf>,
    /// Headers for the forwarders.
    pub forward_headers: Vec<(String, String)>,
    /// The bearer token senders must present.
    pub bearer_token: Option<String>,
    /// Spill folder (one subfolder per target).
    pub spill_dir: PathBuf,
    /// Spans per export request.
    pub export_batch_spans: usize,
    /// How often the policy file is checked for changes.
    pub policy_poll: Duration,
    /// At shutdown, how long the forwarders keep trying before spilling the rest.
    pub shutdown_grace: Duration,
}

impl Config {
    /// The defaults of `autoscope serve` for a policy file.
    pub fn new(policy_path: PathBuf) -> Self {
        Self {
            policy_path,
            otlp_grpc: "localhost:4317".into(),
            otlp_http: "localhost:4318".into(),
            admin: "localhost:9464".into(),
            decision_wait: Duration::from_secs(5),
            max_trace_age: Duration::from_secs(30),
            forward: Vec::new(),
            archive: None,
            archive_rotate: Duration::from_secs(60),
            adaptive: true,
            controller_window: Duration::from_secs(10),
            max_buffered_spans: 1_000_000,
            max_memory: 1 << 30,
            max_request_bytes: 16 << 20,
            decision_cache_traces: 100_000,
            tls: None,
            forward_ca: None,
            forward_headers: Vec::new(),
            bearer_token: None,
            spill_dir: std::env::temp_dir().join("autoscope-spill"),
            export_batch_spans: 2048,
            policy_poll: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The addresses `serve` listens on (useful with port 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// OTLP/gRPC.
    pub grpc: SocketAddr,
    /// OTLP/HTTP.
    pub http: SocketAddr,
    /// Admin.
    pub admin: SocketAddr,
}

/// A setup error (bad flag, unreadable file, address in use): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

fn setup(message: impl Into<String>) -> SetupError {
    SetupError(message.into())
}

/// Loads and compiles a policy.
pub fn load_policy(path: &std::path::Path) -> Result<(Policy, Sampler), String> {
    let policy = policy_schema::from_path(path).map_err(|e| e.to_string())?;
    let sampler = Sampler::new(&policy).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((policy, sampler))
}

async fn bind(address: &str, what: &str) -> Result<TcpListener, SetupError> {
    TcpListener::bind(address)
        .await
        .map_err(|e| setup(format!("--{what} {address}: cannot listen: {e}")))
}

/// State of the admin endpoints and the Jaeger strategies.
struct AdminState {
    metrics: Arc<Metrics>,
    policy: Arc<RwLock<Policy>>,
    receivers: Arc<Receivers>,
}

impl jaeger::grpc::Strategies for AdminState {
    fn for_service(&self, service: &str) -> jaeger::SamplingStrategyResponse {
        let scale = self.metrics.controller_scale.get();
        let policy = self.policy.read().unwrap_or_else(|e| e.into_inner());
        jaeger::strategies(&policy, service, scale)
    }
}

#[derive(serde::Deserialize)]
struct ServiceQuery {
    service: Option<String>,
}

fn admin_router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<Arc<AdminState>>| async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    state.metrics.render(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(state): State<Arc<AdminState>>| async move {
                if state.receivers.closing.load(Ordering::Relaxed) {
                    (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
                } else {
                    (StatusCode::OK, "ready\n")
                }
            }),
        )
        .route("/api/sampling", get(sampling))
        .route("/sampling", get(sampling))
        .with_state(state)
}

async fn sampling(
    State(state): State<Arc<AdminState>>,
    Query(query): Query<ServiceQuery>,
) -> axum::response::Response {
    let Some(service) = query.service.filter(|s| !s.is_empty()) else {
        return (
            StatusCode::BAD_REQUEST,
            "'service' parameter must be provided\n",
        )
            .into_response();
    };
    let response = jaeger::grpc::Strategies::for_service(&*state, &service);
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        jaeger::to_json(&response).to_string(),
    )
        .into_response()
}

fn file_stamp(path: &std::path::Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reloads the policy on change of the file and on SIGHUP; a policy that fails to load
/// is logged and counted, and the old one stays.
async fn watch_policy(
    path: PathBuf,
    mut stamp: Option<(std::time::SystemTime, u64)>,
    poll: Duration,
    commands: std::sync::mpsc::SyncSender<Command>,
    shared: Arc<RwLock<Policy>>,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut ticker = tokio::time::interval(poll);
    loop {
        let forced = tokio::select! {
            _ = ticker.tick() => false,
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            _ = stop.wait_for(|s| *s) => return,
        };
        let now = file_stamp(&path);
        if !forced && now == stamp {
            continue;
        }
        stamp = now;
        match load_policy(&path) {
            Ok((policy, sampler)) => {
                *shared.write().unwrap_or_else(|e| e.into_inner()) = policy.clone();
                let _ = commands.send(Command::Policy(Box::new(policy), Box::new(sampler)));
                Metrics::count(&metrics.policy_reloads, "ok", 1);
                tracing::info!(policy = %path.display(), "policy reloaded");
            }
            Err(error) => {
                Metrics::count(&metrics.policy_reloads, "failed", 1);
                tracing::error!(policy = %path.display(), %error, "policy reload failed; the previous policy stays");
            }
        }
    }
}

/// Runs `serve` until SIGINT or SIGTERM (or `stop` turns true), then decides everything
/// buffered, delivers or spills it, and returns. `on_bound` is told the listening
/// addresses once the listeners are up.
pub async fn run(
    config: Config,
    on_bound: impl FnOnce(Bound),
    mut stop: watch::Receiver<bool>,
) -> Result<(), SetupError> {
    // Stamped before loading, so a change made while starting is seen.
    let policy_stamp = file_stamp(&config.policy_path);
    let (policy, sampler) = load_policy(&config.policy_path).map_err(setup)?;
    let metrics = Arc::new(Metrics::new());
    let memory = config.max_memory.max(16 << 20);
    let limits = Limits {
        decision_wait: config.decision_wait.as_nanos() as u64,
        max_trace_age: config.max_trace_age.as_nanos() as u64,
        max_buffered_spans: config.max_buffered_spans.max(1),
        max_buffered_bytes: memory / 10 * 6,
        decision_cache_traces: config.decision_cache_traces.min(memory / 10 / 1024),
    };
    let tls = match &config.tls {
        Some((cert, key)) => Some((
            tls::read(cert).map_err(setup)?,
            tls::read(key).map_err(setup)?,
            tls::server_config(cert, key, &[b"h2", b"http/1.1"]).map_err(setup)?,
        )),
        None => None,
    };
    let forward_ca = match &config.forward_ca {
        Some(path) => Some(tls::read(path).map_err(setup)?),
        None => None,
    };

    // Outputs.
    let mut outputs: Vec<mpsc::Sender<KeptBatch>> = Vec::new();
    let mut output_tasks = Vec::new();
    let queue_bytes = memory / 10 * 2 / config.forward.len().max(1);
    for url in &config.forward {
        let protocol = Protocol::parse(url).map_err(setup)?;
        let hash = runtime_sampler::consistent::fnv1a64(url.as_bytes());
        let export = ExportConfig {
            label: url.clone(),
            protocol,
            headers: config.forward_headers.clone(),
            ca_pem: forward_ca.clone(),
            batch_spans: config.export_batch_spans.max(1),
            batch_timeout: Duration::from_millis(200),
            queue_bytes,
            request_timeout: Duration::from_secs(10),
            spill_dir: config.spill_dir.join(format!("{hash:016x}")),
            shutdown_grace: config.shutdown_grace,
        };
        let forwarder = Forwarder::new(export, metrics.clone()).map_err(setup)?;
        let (sender, receiver) = mpsc::channel(64);
        outputs.push(sender);
        output_tasks.push(tokio::spawn(forwarder.run(receiver)));
    }
    let mut archive_thread = None;
    if let Some(dir) = &config.archive {
        std::fs::create_dir_all(dir)
            .map_err(|e| setup(format!("--archive {}: {e}", dir.display())))?;
        let (sender, receiver) = mpsc::channel(64);
        outputs.push(sender);
        let archive_config = archive::ArchiveConfig {
            dir: dir.clone(),
            rotate_after: config.archive_rotate,
            rotate_bytes: 64 << 20,
        };
        let metrics = metrics.clone();
        archive_thread = Some(tokio::task::spawn_blocking(move || {
            archive::run(archive_config, metrics, receiver)
        }));
    }
    if outputs.is_empty() {
        tracing::warn!("neither --forward nor --archive: kept spans are counted and discarded");
    }

    // The decider.
    let admission = Arc::new(Admission::default());
    let (commands, command_receiver) = std::sync::mpsc::sync_channel::<Command>(1024);
    let decider = Decider::new(
        policy.clone(),
        sampler,
        DeciderConfig {
            limits,
            adaptive: config.adaptive,
            controller_window_nanos: config.controller_window.as_nanos() as u64,
        },
        metrics.clone(),
        outputs,
        admission.clone(),
    );
    let decider_thread = std::thread::Builder::new()
        .name("autoscope-decider".into())
        .spawn(move || decider.run(command_receiver))
        .map_err(|e| setup(format!("cannot start the decider: {e}")))?;

    // Receivers and admin.
    let receivers = Arc::new(Receivers {
        commands: commands.clone(),
        admission,
        max_in_flight_bytes: (memory / 10).max(config.max_request_bytes * 4),
        max_request_bytes: config.max_request_bytes,
        bearer_token: config.bearer_token.clone(),
        metrics: metrics.clone(),
        closing: Default::default(),
        retry_after: Duration::from_secs(1),
        origins: Default::default(),
    });
    let shared_policy = Arc::new(RwLock::new(policy));
    let admin_state = Arc::new(AdminState {
        metrics: metrics.clone(),
        policy: shared_policy.clone(),
        receivers: receivers.clone(),
    });
    let grpc_listener = bind(&config.otlp_grpc, "otlp-grpc").await?;
    let http_listener = bind(&config.otlp_http, "otlp-http").await?;
    let admin_listener = bind(&config.admin, "admin").await?;
    let bound = Bound {
        grpc: grpc_listener
            .local_addr()
            .map_err(|e| setup(e.to_string()))?,
        http: http_listener
            .local_addr()
            .map_err(|e| setup(e.to_string()))?,
        admin: admin_listener
            .local_addr()
            .map_err(|e| setup(e.to_string()))?,
    };
    let (stop_servers, servers_stopped) = watch::channel(false);

    // tonic refuses an oversize message with OUT_OF_RANGE; OTLP says RESOURCE_EXHAUSTED
    // (without RetryInfo: the same request would fail again). Rewrite that status.
    let oversize_metrics = metrics.clone();
    let oversize = tower::util::MapResponseLayer::new(
        move |mut response: axum::http::Response<tonic::body::Body>| {
            let headers = response.headers_mut();
            let too_large = headers.get("grpc-status").is_some_and(|s| s == "11")
                && headers
                    .get("grpc-message")
                    .and_then(|m| m.to_str().ok())
                    .is_some_and(|m| m.contains("too%20large") || m.contains("too large"));
            if too_large {
                headers.insert("grpc-status", axum::http::HeaderValue::from_static("8"));
                oversize_metrics.reject("grpc", "too_large");
            }
            response
        },
    );
    let mut grpc_builder = tonic::transport::Server::builder().layer(oversize);
    if let Some((cert, key, _)) = &tls {
        grpc_builder = grpc_builder
            .tls_config(
                tonic::transport::ServerTlsConfig::new()
                    .identity(tonic::transport::Identity::from_pem(cert, key)),
            )
            .map_err(|e| setup(format!("TLS: {e}")))?;
    }
    let trace_service = receive::grpc::TraceServiceServer::new(
        GrpcReceiver(receivers.clone()),
        config.max_request_bytes,
    );
    let sampling_service = jaeger::grpc::SamplingManagerServer::new(admin_state.clone());
    let grpc_router = grpc_builder
        .add_service(trace_service)
        .add_service(sampling_service);
    let mut grpc_stop = servers_stopped.clone();
    let grpc_task = tokio::spawn(async move {
        let incoming =
            tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        grpc_router
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = grpc_stop.wait_for(|s| *s).await;
            })
            .await
    });
    let http_router = {
        let receivers = receivers.clone();
        Router::new().route(
            "/v1/traces",
            post(
                move |headers: axum::http::HeaderMap, body: axum::body::Body| {
                    let receivers = receivers.clone();
                    async move { receive::http_export(receivers, headers, body).await }
                },
            ),
        )
    };
    let http_task = tokio::spawn(server::serve(
        http_listener,
        http_router,
        tls.as_ref().map(|(_, _, config)| config.clone()),
        servers_stopped.clone(),
    ));
    let (stop_admin, admin_stopped) = watch::channel(false);
    let admin_task = tokio::spawn(server::serve(
        admin_listener,
        admin_router(admin_state),
        None,
        admin_stopped,
    ));
    let reload_task = tokio::spawn(watch_policy(
        config.policy_path.clone(),
        policy_stamp,
        config.policy_poll,
        commands.clone(),
        shared_policy,
        metrics.clone(),
        servers_stopped.clone(),
    ));
    tracing::info!(grpc = %bound.grpc, http = %bound.http, admin = %bound.admin, "autoscope serve listening");
    on_bound(bound);

    // Wait for a signal.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| setup(e.to_string()))?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| setup(e.to_string()))?;
    tokio::select! {
        _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
        _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = stop.wait_for(|s| *s) => tracing::info!("stop requested: shutting down"),
    }

    // Stop taking spans, decide and flush everything, then stop the rest.
    receivers.closing.store(true, Ordering::Relaxed);
    let _ = stop_servers.send(true);
    // In-flight requests finish; clients that keep idle connections open are not
    // waited for longer than this.
    let mut grpc_task = grpc_task;
    if tokio::time::timeout(Duration::from_secs(5), &mut grpc_task)
        .await
        .is_err()
    {
        grpc_task.abort();
    }
    tracing::debug!("gRPC receiver stopped");
    let _ = http_task.await;
    tracing::debug!("HTTP receiver stopped");
    let _ = reload_task.await;
    let _ = tokio::task::spawn_blocking(move || {
        let _ = commands.send(Command::Shutdown);
        drop(commands);
        decider_thread.join()
    })
    .await;
    tracing::debug!("decider finished");
    drop(receivers);
    for task in output_tasks {
        let _ = task.await;
    }
    if let Some(thread) = archive_thread {
        let _ = thread.await;
    }
    tracing::debug!("outputs flushed");
    let _ = stop_admin.send(true);
    let _ = admin_task.await;
    // One guard at a time: a family's guard holds its lock.
    let received_grpc = metrics.received("grpc");
    let received_http = metrics.received("http");
    tracing::info!(
        received = received_grpc + received_http,
        kept = metrics.spans_kept.get(),
        "autoscope serve stopped"
    );
    Ok(())
}
