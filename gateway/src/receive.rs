//! The OTLP receivers: gRPC (`opentelemetry.proto.collector.trace.v1.TraceService/Export`)
//! and HTTP (`POST /v1/traces`, `application/x-protobuf` or `application/json`, gzip
//! or uncompressed), as the OTLP specification (opentelemetry.io/docs/specs/otlp,
//! "OTLP/gRPC" and "OTLP/HTTP") describes them:
//!
//! - success: `ExportTraceServiceResponse`, in the request's encoding; when some spans
//!   were refused (invalid ids), `partial_success` with `rejected_spans` and an
//!   `error_message` ("Partial Success");
//! - malformed payload: gRPC `INVALID_ARGUMENT`, HTTP 400 with a `google.rpc.Status`
//!   body (protobuf or JSON, as the request) — not retryable;
//! - an unsupported `Content-Type` (or `Content-Encoding`): HTTP 415;
//! - a body over `--max-request-bytes` (compressed or decompressed): HTTP 413, gRPC
//!   `RESOURCE_EXHAUSTED` (without `RetryInfo`: retrying the same request cannot help);
//! - overloaded ("OTLP/gRPC Throttling", "OTLP/HTTP Throttling"): gRPC
//!   `RESOURCE_EXHAUSTED` with a `google.rpc.RetryInfo` delay, HTTP 429 with
//!   `Retry-After` (503 while shutting down);
//! - a missing or wrong bearer token (when `--bearer-token-file` is set): gRPC
//!   `UNAUTHENTICATED`, HTTP 401.
//!
//! Each refusal has a message and counts in `autoscope_rejected_total{protocol,reason}`.

use crate::decider::{Admission, Command};
use crate::intake::{Intake, intake, request_from_json};
use crate::metrics::{Metrics, Protocol};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;

/// What the receivers share.
#[derive(Debug)]
pub struct Receivers {
    /// To the decider.
    pub commands: SyncSender<Command>,
    /// In-flight accounting and the outputs' state.
    pub admission: Arc<Admission>,
    /// Bytes allowed in flight between the receivers and the decider.
    pub max_in_flight_bytes: usize,
    /// Largest request body, compressed or decompressed.
    pub max_request_bytes: usize,
    /// The token senders must present (`Authorization: Bearer <token>`).
    pub bearer_token: Option<String>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Set once shutdown began: refuse with "unavailable".
    pub closing: AtomicBool,
    /// The delay suggested to throttled senders.
    pub retry_after: Duration,
}

/// Why a request was refused after decoding.
#[derive(Debug)]
pub enum Refusal {
    /// Over the in-flight or output limits: retry later.
    Throttled,
    /// Shutting down.
    Closing,
}

impl Receivers {
    fn authorized(&self, header: Option<&str>) -> bool {
        match &self.bearer_token {
            None => true,
            Some(token) => header
                .and_then(|h| h.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes())),
        }
    }

    /// Hands the valid spans to the decider, or refuses the request.
    pub fn admit(&self, intake: Intake, protocol: &str) -> Result<(), Refusal> {
        if self.closing.load(Ordering::Relaxed) {
            self.metrics.reject(protocol, "closing");
            return Err(Refusal::Closing);
        }
        if intake.spans.is_empty() {
            return Ok(());
        }
        let bytes = intake.bytes;
        let in_flight = self
            .admission
            .in_flight_bytes
            .fetch_add(bytes, Ordering::Relaxed);
        if in_flight + bytes > self.max_in_flight_bytes
            || self.admission.outputs_blocked.load(Ordering::Relaxed)
        {
            self.admission
                .in_flight_bytes
                .fetch_sub(bytes, Ordering::Relaxed);
            self.metrics.reject(protocol, "throttled");
            return Err(Refusal::Throttled);
        }
        let count = intake.spans.len() as u64;
        match self.commands.try_send(Command::Spans(intake.spans, bytes)) {
            Ok(()) => {
                self.metrics
                    .spans_received
                    .get_or_create(&Protocol {
                        protocol: protocol.into(),
                    })
                    .inc_by(count);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.admission
                    .in_flight_bytes
                    .fetch_sub(bytes, Ordering::Relaxed);
                self.metrics.reject(protocol, "throttled");
                Err(Refusal::Throttled)
            }
            Err(TrySendError::Disconnected(_)) => {
                self.admission
                    .in_flight_bytes
                    .fetch_sub(bytes, Ordering::Relaxed);
                self.metrics.reject(protocol, "closing");
                Err(Refusal::Closing)
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn partial_success(intake: &Intake) -> Option<ExportTracePartialSuccess> {
    (intake.rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: intake.rejected as i64,
        error_message: intake.first_error.clone().unwrap_or_default(),
    })
}

/// The gRPC receiver.
#[derive(Debug, Clone)]
pub struct GrpcReceiver(pub Arc<Receivers>);

#[tonic::async_trait]
impl TraceService for GrpcReceiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let receivers = &self.0;
        let auth = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if !receivers.authorized(auth) {
            receivers.metrics.reject("grpc", "unauthenticated");
            return Err(tonic::Status::unauthenticated(
                "a bearer token is required (authorization: Bearer <token>)",
            ));
        }
        let intake = intake(request.into_inner());
        if intake.rejected > 0 {
            receivers
                .metrics
                .reject_n("grpc", "invalid_span", intake.rejected);
        }
        let partial = partial_success(&intake);
        match receivers.admit(intake, "grpc") {
            Ok(()) => Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: partial,
            })),
            Err(Refusal::Throttled) => {
                use tonic_types::{ErrorDetails, StatusExt};
                Err(tonic::Status::with_error_details(
                    tonic::Code::ResourceExhausted,
                    "autoscope serve is over its memory limit; retry later",
                    ErrorDetails::with_retry_info(Some(receivers.retry_after)),
                ))
            }
            Err(Refusal::Closing) => Err(tonic::Status::unavailable(
                "autoscope serve is shutting down",
            )),
        }
    }
}

/// `google.rpc.Status`, the body of OTLP/HTTP error responses.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

fn error_response(
    status: StatusCode,
    grpc_code: tonic::Code,
    message: String,
    encoding: Encoding,
    extra: Option<(header::HeaderName, String)>,
) -> Response {
    let (content_type, body) = match encoding {
        Encoding::Protobuf => (
            "application/x-protobuf",
            RpcStatus {
                code: grpc_code as i32,
                message,
            }
            .encode_to_vec(),
        ),
        Encoding::Json => (
            "application/json",
            serde_json::to_vec(&serde_json::json!({"code": grpc_code as i32, "message": message}))
                .unwrap_or_default(),
        ),
    };
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Some((name, value)) = extra
        && let Ok(value) = value.parse()
    {
        response.headers_mut().insert(name, value);
    }
    response
}

fn json_response(response: &ExportTraceServiceResponse) -> Vec<u8> {
    let value = match &response.partial_success {
        Some(p) => serde_json::json!({"partialSuccess": {
            "rejectedSpans": p.rejected_spans.to_string(),
            "errorMessage": p.error_message,
        }}),
        None => serde_json::json!({}),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// `POST /v1/traces`.
pub async fn http_export(receivers: Arc<Receivers>, headers: HeaderMap, body: Body) -> Response {
    let metrics = &receivers.metrics;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let encoding = match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => Encoding::Protobuf,
        "application/json" => Encoding::Json,
        _ => {
            metrics.reject("http", "unsupported_media_type");
            return error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                tonic::Code::InvalidArgument,
                format!(
                    "unsupported content type {content_type:?}: OTLP/HTTP takes application/x-protobuf or application/json"
                ),
                Encoding::Json,
                None,
            );
        }
    };
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !receivers.authorized(auth) {
        metrics.reject("http", "unauthenticated");
        return error_response(
            StatusCode::UNAUTHORIZED,
            tonic::Code::Unauthenticated,
            "a bearer token is required (Authorization: Bearer <token>)".into(),
            encoding,
            Some((header::WWW_AUTHENTICATE, "Bearer".into())),
        );
    }
    let limit = receivers.max_request_bytes;
    let too_large = |what: &str| {
        metrics.reject("http", "too_large");
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            tonic::Code::ResourceExhausted,
            format!("request body {what} is over the limit of {limit} bytes (--max-request-bytes)"),
            encoding,
            None,
        )
    };
    let raw = match axum::body::to_bytes(body, limit).await {
        Ok(raw) => raw,
        Err(_) => return too_large("size"),
    };
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    let body: Vec<u8> = match content_encoding.as_str() {
        "identity" | "" => raw.to_vec(),
        "gzip" => {
            let mut out = Vec::new();
            let decoder = flate2::read::GzDecoder::new(&raw[..]);
            match decoder.take(limit as u64 + 1).read_to_end(&mut out) {
                Ok(_) if out.len() > limit => return too_large("after gzip decompression"),
                Ok(_) => out,
                Err(e) => {
                    metrics.reject("http", "malformed");
                    return error_response(
                        StatusCode::BAD_REQUEST,
                        tonic::Code::InvalidArgument,
                        format!("bad gzip body: {e}"),
                        encoding,
                        None,
                    );
                }
            }
        }
        other => {
            metrics.reject("http", "unsupported_media_type");
            return error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                tonic::Code::InvalidArgument,
                format!("unsupported content encoding {other:?}: gzip or none"),
                encoding,
                None,
            );
        }
    };
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(&body[..])
            .map_err(|e| format!("malformed protobuf ExportTraceServiceRequest: {e}")),
        Encoding::Json => request_from_json(&body)
            .map_err(|e| format!("malformed OTLP/JSON ExportTraceServiceRequest: {e}")),
    };
    let request = match request {
        Ok(request) => request,
        Err(message) => {
            metrics.reject("http", "malformed");
            return error_response(
                StatusCode::BAD_REQUEST,
                tonic::Code::InvalidArgument,
                message,
                encoding,
                None,
            );
        }
    };
    let intake = intake(request);
    if intake.rejected > 0 {
        metrics.reject_n("http", "invalid_span", intake.rejected);
    }
    let response = ExportTraceServiceResponse {
        partial_success: partial_success(&intake),
    };
    match receivers.admit(intake, "http") {
        Ok(()) => {
            let (content_type, body) = match encoding {
                Encoding::Protobuf => ("application/x-protobuf", response.encode_to_vec()),
                Encoding::Json => ("application/json", json_response(&response)),
            };
            (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(Refusal::Throttled) => error_response(
            StatusCode::TOO_MANY_REQUESTS,
            tonic::Code::ResourceExhausted,
            "autoscope serve is over its memory limit; retry later".into(),
            encoding,
            Some((
                header::RETRY_AFTER,
                receivers.retry_after.as_secs().max(1).to_string(),
            )),
        ),
        Err(Refusal::Closing) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            tonic::Code::Unavailable,
            "autoscope serve is shutting down".into(),
            encoding,
            Some((header::RETRY_AFTER, "5".into())),
        ),
    }
}
