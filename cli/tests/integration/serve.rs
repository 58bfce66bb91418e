//! `autoscope serve` end to end: the built binary on loopback (ports picked by the OS),
//! fed OTLP over gRPC and HTTP, its kept spans read back from its archive or from a
//! backend run by the test; every process is stopped by the test (SIGTERM, then a kill
//! on drop) within a bounded time.

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1 as pb;
use prost::Message;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

fn autoscope(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .output()
        .expect("autoscope runs")
}

/// A running `autoscope serve`.
struct Serve {
    child: Child,
    grpc: String,
    http: String,
    admin: String,
    log: Arc<Mutex<String>>,
}

impl Serve {
    fn start(policy: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_autoscope"))
            .arg("serve")
            .arg("--policy")
            .arg(policy)
            .args(["--otlp-grpc", "127.0.0.1:0", "--otlp-http", "127.0.0.1:0"])
            .args(["--admin", "127.0.0.1:0", "--log-format", "json"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (ports, found) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("autoscope serve: listening ") {
                    let _ = ports.send(rest.to_string());
                }
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let line = match found.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not start: {}", log.lock().unwrap());
            }
        };
        let address = |key: &str| {
            line.split_whitespace()
                .find_map(|part| part.strip_prefix(key))
                .expect("address in the listening line")
                .to_string()
        };
        Self {
            grpc: address("otlp-grpc="),
            http: address("otlp-http="),
            admin: address("admin="),
            child,
            log,
        }
    }

    /// SIGTERM, then wait (at most 60 s) for the graceful shutdown.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(
                    status.success(),
                    "serve exited with {status}: {}",
                    self.log()
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        self.log()
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn metrics(&self) -> String {
        runtime().block_on(async {
            http()
                .get(format!("http://{}/metrics", self.admin))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    }

    /// A metric's value (summed over label sets containing `labels`).
    fn metric(&self, name: &str, labels: &str) -> f64 {
        metric(&self.metrics(), name, labels)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|l| l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// An HTTP client (reqwest with rustls' ring provider, as the gateway uses).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Polls `check` every 50 ms for at most `seconds`.
fn eventually(seconds: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The shop fixture as OTLP/JSON (via `autoscope convert`), in `dir`.
fn shop_json(dir: &Path) -> PathBuf {
    let out = dir.join("shop.json");
    let run = autoscope(&[
        "convert".as_ref(),
        testdata("traces/shop.csv").as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(run.status.success());
    out
}

fn request_of(json: &Path) -> ExportTraceServiceRequest {
    autoscope_gateway::intake::request_from_json(&std::fs::read(json).unwrap()).unwrap()
}

/// (trace id, span id, parent id, adjusted count) of every span in OTLP/JSON text (one
/// request per line or one document).
fn kept_set(json: &str) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for line in json.lines().filter(|l| !l.trim().is_empty()) {
        let doc: serde_json::Value = serde_json::from_str(line).unwrap();
        for rs in doc["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for s in ss["spans"].as_array().into_iter().flatten() {
                    let adjusted = s["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|a| a["key"] == "sampling.adjusted_count")
                        .map(|a| a["value"].to_string())
                        .unwrap_or_default();
                    out.insert((
                        s["traceId"].as_str().unwrap_or("").to_string(),
                        s["spanId"].as_str().unwrap_or("").to_string(),
                        s["parentSpanId"].as_str().unwrap_or("").to_string(),
                        adjusted,
                    ));
                }
            }
        }
    }
    out
}

/// Every archive segment of `dir`, unzipped and read as a kept set.
fn archived(dir: &Path) -> BTreeSet<(String, String, String, String)> {
    let mut all = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            path.extension().is_some_and(|e| e == "tz"),
            "not a complete segment: {}",
            path.display()
        );
        let out = path.with_extension("json");
        let run = autoscope(&[
            "unzip".as_ref(),
            path.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert!(run.status.success());
        all.extend(kept_set(&std::fs::read_to_string(&out).unwrap()));
        std::fs::remove_file(out).unwrap();
    }
    all
}

/// What `autoscope sample` keeps of `input` under `policy`.
fn sampled(policy: &Path, input: &Path, dir: &Path) -> BTreeSet<(String, String, String, String)> {
    let out = dir.join("sampled.json");
    let run = autoscope(&[
        "sample".as_ref(),
        "--policy".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(run.status.success());
    kept_set(&std::fs::read_to_string(out).unwrap())
}

async fn grpc_export(
    address: &str,
    request: ExportTraceServiceRequest,
) -> Result<ExportTraceServiceResponse, tonic::Status> {
    let mut client = TraceServiceClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    client.export(request).await.map(|r| r.into_inner())
}

async fn http_post(
    address: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
) -> (u16, Vec<u8>, reqwest::header::HeaderMap) {
    let mut request = http()
        .post(format!("http://{address}/v1/traces"))
        .header("content-type", content_type)
        .body(body);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.bytes().await.unwrap().to_vec(), headers)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The example policy without the order-dependent parts (latency windows, budget), for
/// inputs split over many requests.
fn order_free_policy(dir: &Path) -> PathBuf {
    let mut policy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(testdata("policies/example.json")).unwrap())
            .unwrap();
    policy["overrides"]
        .as_object_mut()
        .unwrap()
        .remove("latency");
    policy.as_object_mut().unwrap().remove("budget");
    let path = dir.join("policy.json");
    std::fs::write(&path, policy.to_string()).unwrap();
    path
}

/// Splits a request into one request per resource-and-scope group of each trace.
fn per_trace(request: &ExportTraceServiceRequest) -> Vec<ExportTraceServiceRequest> {
    let mut out: Vec<(Vec<u8>, ExportTraceServiceRequest)> = Vec::new();
    for rs in &request.resource_spans {
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                let at = match out.iter().position(|(id, _)| *id == span.trace_id) {
                    Some(at) => at,
                    None => {
                        out.push((span.trace_id.clone(), ExportTraceServiceRequest::default()));
                        out.len() - 1
                    }
                };
                out[at].1.resource_spans.push(pb::ResourceSpans {
                    resource: rs.resource.clone(),
                    scope_spans: vec![pb::ScopeSpans {
                        scope: ss.scope.clone(),
                        spans: vec![span.clone()],
                        schema_url: ss.schema_url.clone(),
                    }],
                    schema_url: rs.schema_url.clone(),
                });
            }
        }
    }
    out.into_iter().map(|(_, r)| r).collect()
}

#[test]
fn serve_keeps_exactly_what_sample_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let input = shop_json(dir.path());
    let policy = testdata("policies/example.json");
    let archive = dir.path().join("archive");
    let serve = Serve::start(
        &policy,
        &[
            "--decision-wait",
            "300ms",
            "--adaptive",
            "off",
            "--archive",
            archive.to_str().unwrap(),
        ],
    );
    // One request over gRPC: the traces complete together and are decided in order of
    // arrival, as `sample` decides them in order of first appearance.
    let response = runtime()
        .block_on(grpc_export(&serve.grpc, request_of(&input)))
        .unwrap();
    assert!(response.partial_success.is_none());
    assert!(eventually(20, || serve
        .metric("autoscope_traces_closed_total", "")
        >= 90.0));
    let received = serve.metric("autoscope_spans_received_total", "");
    let kept = serve.metric("autoscope_spans_kept_total", "");
    let dropped = serve.metric("autoscope_spans_dropped_total", "decision");
    assert_eq!(received, 270.0);
    assert_eq!(kept + dropped, received);
    serve.stop();
    let expected = sampled(&policy, &input, dir.path());
    assert_eq!(expected.len() as f64, kept);
    assert_eq!(archived(&archive), expected);
}

#[test]
fn serve_keeps_what_sample_keeps_over_many_http_requests() {
    let dir = tempfile::tempdir().unwrap();
    let input = shop_json(dir.path());
    let policy = order_free_policy(dir.path());
    let archive = dir.path().join("archive");
    let serve = Serve::start(
        &policy,
        &[
            "--decision-wait",
            "300ms",
            "--adaptive",
            "off",
            "--archive",
            archive.to_str().unwrap(),
        ],
    );
    let requests = per_trace(&request_of(&input));
    runtime().block_on(async {
        // Reverse order, alternating protobuf, gzip and JSON bodies.
        for (i, request) in requests.iter().rev().enumerate() {
            let (status, _, _) = match i % 3 {
                0 => {
                    http_post(
                        &serve.http,
                        "application/x-protobuf",
                        None,
                        request.encode_to_vec(),
                    )
                    .await
                }
                1 => {
                    http_post(
                        &serve.http,
                        "application/x-protobuf",
                        Some("gzip"),
                        gzip(&request.encode_to_vec()),
                    )
                    .await
                }
                _ => {
                    let spans = autoscope_gateway::export::request_to_model(request);
                    let mut json = Vec::new();
                    trace_formats::write_otlp_json(&spans, &mut json).unwrap();
                    http_post(&serve.http, "application/json", None, json).await
                }
            };
            assert_eq!(status, 200);
        }
    });
    assert!(eventually(20, || serve
        .metric("autoscope_traces_closed_total", "")
        >= 90.0));
    serve.stop();
    assert_eq!(archived(&archive), sampled(&policy, &input, dir.path()));
}

#[test]
fn bad_input_gets_the_protocols_error_codes() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let policy = testdata("policies/example.json");
    let serve = Serve::start(
        &policy,
        &[
            "--max-request-bytes",
            "2000",
            "--decision-wait",
            "200ms",
            "--bearer-token-file",
            token.to_str().unwrap(),
        ],
    );
    let span = |trace_id: Vec<u8>, span_id: Vec<u8>| pb::Span {
        trace_id,
        span_id,
        name: "GET /".into(),
        ..Default::default()
    };
    let request = |spans: Vec<pb::Span>| ExportTraceServiceRequest {
        resource_spans: vec![pb::ResourceSpans {
            scope_spans: vec![pb::ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    runtime().block_on(async {
        let client = http();
        let post = |content_type: &'static str, body: Vec<u8>, auth: bool| {
            let mut r = client
                .post(format!("http://{}/v1/traces", serve.http))
                .header("content-type", content_type)
                .body(body);
            if auth {
                r = r.header("authorization", "Bearer s3cret");
            }
            r.send()
        };
        // No token: 401.
        let r = post("application/x-protobuf", vec![], false).await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        // Wrong content type: 415.
        let r = post("text/plain", b"hello".to_vec(), true).await.unwrap();
        assert_eq!(r.status().as_u16(), 415);
        assert!(r.text().await.unwrap().contains("unsupported content type"));
        // Malformed protobuf: 400 with a google.rpc.Status.
        let r = post("application/x-protobuf", vec![0xff; 10], true)
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let body = r.bytes().await.unwrap();
        assert!(String::from_utf8_lossy(&body).contains("malformed protobuf"));
        // Malformed JSON: 400.
        let r = post("application/json", b"{\"resourceSpans\": [".to_vec(), true)
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        // Oversize: 413, plain and after gzip.
        let r = post("application/x-protobuf", vec![0; 5000], true)
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 413);
        let r = client
            .post(format!("http://{}/v1/traces", serve.http))
            .header("content-type", "application/x-protobuf")
            .header("content-encoding", "gzip")
            .header("authorization", "Bearer s3cret")
            .body(gzip(&vec![0u8; 100_000]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 413);
        // Invalid ids: the valid span is taken, the others reported as partial success.
        let body = request(vec![
            span(vec![1; 16], vec![2; 8]),
            span(vec![1; 15], vec![2; 8]),
            span(vec![0; 16], vec![3; 8]),
            span(vec![1; 16], vec![]),
        ])
        .encode_to_vec();
        let r = post("application/x-protobuf", body, true).await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let response = ExportTraceServiceResponse::decode(r.bytes().await.unwrap()).unwrap();
        let partial = response.partial_success.unwrap();
        assert_eq!(partial.rejected_spans, 3);
        assert!(partial.error_message.contains("invalid ids"));
        // gRPC: unauthenticated, then partial success, then oversize.
        let mut grpc = TraceServiceClient::connect(format!("http://{}", serve.grpc))
            .await
            .unwrap();
        let status = grpc
            .export(request(vec![span(vec![1; 16], vec![4; 8])]))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        let with_token = |r: ExportTraceServiceRequest| {
            let mut r = tonic::Request::new(r);
            r.metadata_mut()
                .insert("authorization", "Bearer s3cret".parse().unwrap());
            r
        };
        let response = grpc
            .export(with_token(request(vec![
                span(vec![5; 16], vec![4; 8]),
                span(vec![5; 16], vec![0; 8]),
            ])))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.partial_success.unwrap().rejected_spans, 1);
        let big = request(
            (0..100u8)
                .map(|i| span(vec![6; 16], vec![i + 1; 8]))
                .collect(),
        );
        let status = grpc.export(with_token(big)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
    });
    assert!(eventually(10, || serve
        .metric("autoscope_traces_closed_total", "")
        >= 2.0));
    let metrics = serve.metrics();
    for (reason, at_least) in [
        ("unauthenticated", 2.0),
        ("unsupported_media_type", 1.0),
        ("malformed", 2.0),
        ("too_large", 2.0),
        ("invalid_span", 4.0),
    ] {
        assert!(
            metric(
                &metrics,
                "autoscope_rejected_total",
                &format!("reason=\"{reason}\"")
            ) >= at_least,
            "{reason}: {metrics}"
        );
    }
    assert_eq!(metric(&metrics, "autoscope_spans_received_total", ""), 2.0);
    let log = serve.stop();
    assert!(log.contains("autoscope serve stopped"));
}

#[test]
fn late_spans_follow_their_traces_decision_and_are_repaired() {
    let dir = tempfile::tempdir().unwrap();
    // Keep everything under "keep/*", drop the rest; errors kept; keep-ancestors.
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"version": 1, "generator": {"tool": "test", "version": "0"}, "target_reduction": 0.5,
            "default_action": {"action": "sample", "rate": 0.0},
            "rules": [{"id": "keep", "match": [{"prefix": "keep/"}], "action": {"action": "keep"}}]}"#,
    )
    .unwrap();
    let archive = dir.path().join("archive");
    let serve = Serve::start(
        &policy,
        &[
            "--decision-wait",
            "200ms",
            "--archive",
            archive.to_str().unwrap(),
        ],
    );
    let span = |id: u8, parent: u8, name: &str, error: bool| pb::Span {
        trace_id: vec![9; 16],
        span_id: vec![id; 8],
        parent_span_id: if parent == 0 { vec![] } else { vec![parent; 8] },
        name: name.into(),
        status: error.then(|| pb::Status {
            code: 2,
            message: String::new(),
        }),
        ..Default::default()
    };
    let request = |spans: Vec<pb::Span>| ExportTraceServiceRequest {
        resource_spans: vec![pb::ResourceSpans {
            scope_spans: vec![pb::ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let rt = runtime();
    // root(1) <- mid(2) <- leaf(3, kept by rule). Span 4 (child of 2) and 5 (parent of
    // orphan 6) come late.
    rt.block_on(grpc_export(
        &serve.grpc,
        request(vec![
            span(3, 2, "keep/leaf", false),
            span(2, 1, "mid", false),
            span(1, 0, "root", false),
            span(6, 5, "keep/orphan", false),
        ]),
    ))
    .unwrap();
    assert!(eventually(10, || serve
        .metric("autoscope_traces_closed_total", "")
        >= 1.0));
    rt.block_on(grpc_export(
        &serve.grpc,
        request(vec![
            // An error under the kept chain: kept, parent unchanged (2 was kept as an
            // ancestor).
            span(4, 2, "late-error", true),
            // The missing parent of the kept orphan: kept as its ancestor.
            span(5, 1, "late-parent", false),
            // A late span the rules drop.
            span(7, 1, "late-dropped", false),
        ]),
    ))
    .unwrap();
    assert!(eventually(10, || serve
        .metric("autoscope_late_spans_total", "")
        >= 3.0));
    assert_eq!(
        serve.metric("autoscope_late_spans_total", "reason=\"kept\""),
        2.0
    );
    assert_eq!(
        serve.metric("autoscope_late_spans_total", "reason=\"dropped\""),
        1.0
    );
    serve.stop();
    let kept: BTreeSet<(String, String)> = archived(&archive)
        .into_iter()
        .map(|(_, span, parent, _)| (span, parent))
        .collect();
    let id = |b: u8| {
        if b == 0 {
            String::new()
        } else {
            format!("{b:02x}").repeat(8)
        }
    };
    let expected: BTreeSet<(String, String)> = [(3, 2), (2, 1), (1, 0), (6, 5), (4, 2), (5, 1)]
        .into_iter()
        .map(|(s, p)| (id(s), id(p)))
        .collect();
    assert_eq!(kept, expected);
}

#[test]
fn late_span_under_a_dropped_parent_points_to_its_nearest_kept_ancestor() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"version": 1, "generator": {"tool": "test", "version": "0"}, "target_reduction": 0.5,
            "default_action": {"action": "sample", "rate": 0.0},
            "rules": [{"id": "root", "match": [{"exact": "root"}], "action": {"action": "keep"}}]}"#,
    )
    .unwrap();
    let archive = dir.path().join("archive");
    let serve = Serve::start(
        &policy,
        &[
            "--decision-wait",
            "200ms",
            "--archive",
            archive.to_str().unwrap(),
        ],
    );
    let span = |id: u8, parent: u8, name: &str, error: bool| pb::Span {
        trace_id: vec![8; 16],
        span_id: vec![id; 8],
        parent_span_id: if parent == 0 { vec![] } else { vec![parent; 8] },
        name: name.into(),
        status: error.then(|| pb::Status {
            code: 2,
            message: String::new(),
        }),
        ..Default::default()
    };
    let request = |spans: Vec<pb::Span>| ExportTraceServiceRequest {
        resource_spans: vec![pb::ResourceSpans {
            scope_spans: vec![pb::ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let rt = runtime();
    rt.block_on(grpc_export(
        &serve.grpc,
        request(vec![
            span(2, 1, "dropped-mid", false),
            span(1, 0, "root", false),
        ]),
    ))
    .unwrap();
    assert!(eventually(10, || serve
        .metric("autoscope_traces_closed_total", "")
        >= 1.0));
    rt.block_on(grpc_export(
        &serve.grpc,
        request(vec![span(3, 2, "late-error", true)]),
    ))
    .unwrap();
    assert!(eventually(10, || serve
        .metric("autoscope_late_spans_total", "repaired")
        >= 1.0));
    serve.stop();
    let kept: BTreeSet<(String, String)> = archived(&archive)
        .into_iter()
        .map(|(_, span, parent, _)| (span, parent))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("01".repeat(8), String::new()),
        ("03".repeat(8), "01".repeat(8)),
    ]
    .into_iter()
    .collect();
    assert_eq!(kept, expected);
}

#[test]
fn a_full_buffer_decides_the_oldest_traces_early_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = shop_json(dir.path());
    let policy = order_free_policy(dir.path());
    let serve = Serve::start(
        &policy,
        &[
            "--decision-wait",
            "60s",
            "--max-buffered-spans",
            "40",
            "--adaptive",
            "off",
        ],
    );
    let rt = runtime();
    for request in per_trace(&request_of(&input)) {
        rt.block_on(grpc_export(&serve.grpc, request)).unwrap();
    }
    assert!(serve.metric("autoscope_spans_buffered", "") <= 40.0);
    assert!(serve.metric("autoscope_traces_closed_total", "overflow") >= 50.0);
    let metrics_before = serve.metrics();
    serve.stop();
    // Everything received was decided: buffered ones at shutdown.
    assert_eq!(
        metric(&metrics_before, "autoscope_spans_received_total", ""),
        270.0
    );
}

/// A backend on `address` that takes every request.
async fn backend_at(address: &str) -> Arc<Mutex<Vec<pb::Span>>> {
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    serve_backend(listener, 0, 200).1
}

/// A backend: answers `status` to the first `failures` requests, then takes spans.
async fn backend(failures: usize, status: u16) -> (String, Arc<Mutex<Vec<pb::Span>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_backend(listener, failures, status)
}

fn serve_backend(
    listener: tokio::net::TcpListener,
    failures: usize,
    status: u16,
) -> (String, Arc<Mutex<Vec<pb::Span>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let state = received.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let state = state.clone();
            let calls = calls.clone();
            async move {
                let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if call < failures {
                    return (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        [("retry-after", "0")],
                        Vec::new(),
                    );
                }
                let request = ExportTraceServiceRequest::decode(&body[..]).unwrap();
                let mut spans = state.lock().unwrap();
                for rs in request.resource_spans {
                    for ss in rs.scope_spans {
                        spans.extend(ss.spans);
                    }
                }
                (
                    axum::http::StatusCode::OK,
                    [("retry-after", "0")],
                    ExportTraceServiceResponse::default().encode_to_vec(),
                )
            }
        }),
    );
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (address, received)
}

fn span_ids(spans: &[pb::Span]) -> BTreeSet<(String, String)> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    spans
        .iter()
        .map(|s| (hex(&s.trace_id), hex(&s.span_id)))
        .collect()
}

#[test]
fn a_refusing_backend_gets_every_kept_span_once_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let input = shop_json(dir.path());
    let policy = testdata("policies/example.json");
    let archive = dir.path().join("archive");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (address, received) = rt.block_on(backend(3, 503));
    let serve = Serve::start(
        &policy,
        &[
            "--decision-wait",
            "200ms",
            "--forward",
            &format!("http://{address}"),
            "--archive",
            archive.to_str().unwrap(),
            "--spill-dir",
            dir.path().join("spill").to_str().unwrap(),
        ],
    );
    rt.block_on(grpc_export(&serve.grpc, request_of(&input)))
        .unwrap();
    assert!(eventually(30, || {
        serve.metric("autoscope_spans_exported_total", "") >= 1.0
            && serve.metric("autoscope_export_queue_spans", "") == 0.0
    }));
    assert!(serve.metric("autoscope_export_failures_total", "") >= 3.0);
    serve.stop();
    let archive_ids: BTreeSet<(String, String)> = archived(&archive)
        .into_iter()
        .map(|(t, s, _, _)| (t, s))
        .collect();
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), archive_ids.len(), "no duplicates, nothing lost");
    assert_eq!(span_ids(&got), archive_ids);
}

#[test]
fn kept_spans_spill_while_the_backend_hangs_and_replay_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let input = shop_json(dir.path());
    let policy = testdata("policies/example.json");
    let spill = dir.path().join("spill");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A backend that hangs: it accepts connections and never answers.
    let (stop_hang, stopped) = tokio::sync::oneshot::channel::<()>();
    let hang = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            tokio::select! {
                _ = async { while let Ok((socket, _)) = listener.accept().await { held.push(socket); } } => {}
                _ = stopped => {}
            }
        });
        address
    });
    let target = format!("http://{hang}/v1/traces");
    let args = [
        "--decision-wait",
        "200ms",
        "--forward",
        &target,
        "--spill-dir",
        spill.to_str().unwrap(),
        "--shutdown-grace",
        "1s",
    ];
    let serve = Serve::start(&policy, &args);
    rt.block_on(grpc_export(&serve.grpc, request_of(&input)))
        .unwrap();
    assert!(eventually(20, || serve
        .metric("autoscope_spans_kept_total", "")
        > 0.0));
    assert!(eventually(20, || serve
        .metric("autoscope_traces_closed_total", "")
        >= 90.0));
    let kept = serve.metric("autoscope_spans_kept_total", "");
    let log = serve.stop();
    assert!(log.contains("spilled"), "{log}");
    // The backend comes back on the same address; the next serve replays the spill.
    let _ = stop_hang.send(());
    std::thread::sleep(Duration::from_millis(200));
    let received = rt.block_on(backend_at(&hang.to_string()));
    let serve = Serve::start(&policy, &args);
    assert!(eventually(30, || received.lock().unwrap().len() as f64 >= kept));
    assert!(eventually(10, || serve.metric("autoscope_spill_bytes", "") == 0.0));
    serve.stop();
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len() as f64, kept);
    assert_eq!(span_ids(&got).len(), got.len());
}

#[test]
fn a_garbage_policy_is_reported_and_the_old_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::copy(testdata("policies/example.json"), &policy).unwrap();
    let serve = Serve::start(&policy, &["--decision-wait", "200ms"]);
    std::fs::write(&policy, "{ this is not a policy").unwrap();
    assert!(eventually(10, || serve
        .metric("autoscope_policy_reloads_total", "failed")
        >= 1.0));
    // Still deciding with the old policy: its rule ids show in the metrics.
    let input = shop_json(dir.path());
    runtime()
        .block_on(grpc_export(&serve.grpc, request_of(&input)))
        .unwrap();
    assert!(eventually(10, || {
        serve.metric("autoscope_spans_decided_total", "rule=\"payment-charge\"") > 0.0
    }));
    // A good policy again: reloaded.
    std::fs::copy(testdata("policies/example.json"), &policy).unwrap();
    std::fs::write(
        &policy,
        std::fs::read_to_string(&policy)
            .unwrap()
            .replace("0.25", "0.5"),
    )
    .unwrap();
    assert!(eventually(10, || serve
        .metric("autoscope_policy_reloads_total", "ok")
        >= 1.0));
    let log = serve.stop();
    assert!(log.contains("policy reload failed"), "{log}");
}

#[test]
fn health_readiness_and_jaeger_remote_sampling() {
    let policy = testdata("policies/example.json");
    let serve = Serve::start(&policy, &["--adaptive", "off"]);
    runtime().block_on(async {
        let client = http();
        let get = |path: &str| client.get(format!("http://{}{path}", serve.admin)).send();
        assert_eq!(get("/healthz").await.unwrap().status().as_u16(), 200);
        assert_eq!(get("/readyz").await.unwrap().status().as_u16(), 200);
        assert_eq!(get("/api/sampling").await.unwrap().status().as_u16(), 400);
        let json: serde_json::Value = serde_json::from_str(
            &get("/api/sampling?service=frontend")
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(json["strategyType"], "PROBABILISTIC");
        assert_eq!(
            json["operationSampling"]["defaultSamplingProbability"],
            0.25
        );
        let ops = json["operationSampling"]["perOperationStrategies"]
            .as_array()
            .unwrap();
        assert!(
            ops.iter().any(|o| o["operation"] == "HTTP POST"
                && o["probabilisticSampling"]["samplingRate"] == 1.0)
        );
        // The same over gRPC (jaeger.api_v2.SamplingManager).
        use autoscope_gateway::jaeger::{SamplingStrategyParameters, SamplingStrategyResponse};
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", serve.grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready().await.unwrap();
        let response: tonic::Response<SamplingStrategyResponse> = grpc
            .unary(
                tonic::Request::new(SamplingStrategyParameters {
                    service_name: "frontend".into(),
                }),
                "/jaeger.api_v2.SamplingManager/GetSamplingStrategy"
                    .parse()
                    .unwrap(),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .unwrap();
        let response = response.into_inner();
        let operations = response
            .operation_sampling
            .unwrap()
            .per_operation_strategies;
        assert!(operations.iter().any(|o| o.operation == "HTTP GET"
            && o.probabilistic_sampling.as_ref().unwrap().sampling_rate == 0.2));
    });
    serve.stop();
}
