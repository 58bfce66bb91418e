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
use crate::intake::{Intake, OriginCache, RawExportRequest, intake, request_from_json};
use crate::metrics::{Metrics, Protocol};
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
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
    /// Interned resources and scopes.
    pub origins: Mutex<OriginCache>,
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

/// The gRPC receiver: `TraceService/Export`, its request left encoded below the
/// `ResourceSpans` (see [`crate::intake`]).
#[derive(Debug, Clone)]
pub struct GrpcReceiver(pub Arc<Receivers>);

impl GrpcReceiver {
    async fn export(
        &self,
        request: tonic::Request<RawExportRequest>,
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
        let intake = match intake(request.get_ref(), &receivers.origins) {
            Ok(intake) => intake,
            Err(message) => {
                receivers.metrics.reject("grpc", "malformed");
                return Err(tonic::Status::invalid_argument(message));
            }
        };
        drop(request);
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

/// The tonic service of [`GrpcReceiver`] (written as tonic's generator writes one, with
/// [`RawExportRequest`] as the request type).
pub mod grpc {
    use super::{GrpcReceiver, RawExportRequest};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
    use std::task::{Context, Poll};
    use tonic::codec::CompressionEncoding;
    use tonic::codegen::{Body, BoxFuture, EnabledCompressionEncodings, StdError, http};

    /// `opentelemetry.proto.collector.trace.v1.TraceService`.
    #[derive(Debug, Clone)]
    pub struct TraceServiceServer {
        inner: GrpcReceiver,
        max_decoding_message_size: Option<usize>,
        compression: EnabledCompressionEncodings,
    }

    impl TraceServiceServer {
        /// Serves `inner`, refusing messages over `max_decoding_message_size` and taking
        /// and sending gzip.
        pub fn new(inner: GrpcReceiver, max_decoding_message_size: usize) -> Self {
            let mut compression = EnabledCompressionEncodings::default();
            compression.enable(CompressionEncoding::Gzip);
            Self {
                inner,
                max_decoding_message_size: Some(max_decoding_message_size),
                compression,
            }
        }
    }

    impl tonic::server::NamedService for TraceServiceServer {
        const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    }

    struct Export(GrpcReceiver);

    /// prost's codec, but a malformed request is `INVALID_ARGUMENT` (as OTLP says and
    /// as for a malformed `ResourceSpans`), not tonic's `INTERNAL`.
    #[derive(Default)]
    struct Codec;

    struct Decoder(tonic_prost::ProstDecoder<RawExportRequest>);

    impl tonic::codec::Decoder for Decoder {
        type Item = RawExportRequest;
        type Error = tonic::Status;
        fn decode(
            &mut self,
            buf: &mut tonic::codec::DecodeBuf<'_>,
        ) -> Result<Option<RawExportRequest>, tonic::Status> {
            self.0.decode(buf).map_err(|status| {
                tonic::Status::invalid_argument(format!(
                    "malformed protobuf ExportTraceServiceRequest: {}",
                    status.message()
                ))
            })
        }
    }

    impl tonic::codec::Codec for Codec {
        type Encode = ExportTraceServiceResponse;
        type Decode = RawExportRequest;
        type Encoder = tonic_prost::ProstEncoder<ExportTraceServiceResponse>;
        type Decoder = Decoder;
        fn encoder(&mut self) -> Self::Encoder {
            tonic_prost::ProstEncoder::default()
        }
        fn decoder(&mut self) -> Self::Decoder {
            Decoder(tonic_prost::ProstDecoder::default())
        }
    }

    impl tonic::server::UnaryService<RawExportRequest> for Export {
        type Response = ExportTraceServiceResponse;
        type Future = BoxFuture<tonic::Response<Self::Response>, tonic::Status>;
        fn call(&mut self, request: tonic::Request<RawExportRequest>) -> Self::Future {
            let inner = self.0.clone();
            Box::pin(async move { inner.export(request).await })
        }
    }

    impl<B> tonic::codegen::Service<http::Request<B>> for TraceServiceServer
    where
        B: Body + Send + 'static,
        B::Error: Into<StdError> + Send + 'static,
    {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::convert::Infallible;
        type Future = BoxFuture<Self::Response, Self::Error>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: http::Request<B>) -> Self::Future {
            let inner = self.inner.clone();
            let (max_decoding, compression) = (self.max_decoding_message_size, self.compression);
            match req.uri().path() {
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export" => {
                    Box::pin(async move {
                        let mut grpc = tonic::server::Grpc::new(Codec)
                            .apply_compression_config(compression, compression)
                            .apply_max_message_size_config(max_decoding, None);
                        Ok(grpc.unary(Export(inner), req).await)
                    })
                }
                _ => Box::pin(async { Ok(super::grpc_unimplemented()) }),
            }
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
        Encoding::Protobuf => RawExportRequest::decode(&body[..])
            .map_err(|e| format!("malformed protobuf ExportTraceServiceRequest: {e}")),
        Encoding::Json => request_from_json(&body)
            .map(|request| RawExportRequest::from_decoded(&request))
            .map_err(|e| format!("malformed OTLP/JSON ExportTraceServiceRequest: {e}")),
    };
    let intake = match request.and_then(|request| intake(&request, &receivers.origins)) {
        Ok(intake) => intake,
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

/// The answer to a gRPC method this server does not have: status UNIMPLEMENTED in the
/// headers, as tonic's generated servers give it.
pub(crate) fn grpc_unimplemented() -> tonic::codegen::http::Response<tonic::body::Body> {
    let mut response = tonic::codegen::http::Response::new(tonic::body::Body::default());
    let headers = response.headers_mut();
    headers.insert(
        tonic::Status::GRPC_STATUS,
        (tonic::Code::Unimplemented as i32).into(),
    );
    headers.insert(
        tonic::codegen::http::header::CONTENT_TYPE,
        tonic::metadata::GRPC_CONTENT_TYPE,
    );
    response
}
