//! Jaeger remote sampling: the policy as per-operation probabilistic strategies, over
//! HTTP (`GET /api/sampling?service=S`, Jaeger's JSON `SamplingStrategyResponse`) and
//! gRPC (`jaeger.api_v2.SamplingManager/GetSamplingStrategy`), so Jaeger clients and
//! OpenTelemetry's `jaeger_remote` sampler load the policy without code.
//!
//! What this path cannot do: it is **head sampling at the root**. A client samples a
//! trace when its root starts, with the probability of the root's operation, and its
//! children follow the parent's decision. So per-operation rates apply to root spans
//! only; error spans and latency outliers cannot be kept (they are not known at the
//! start); the structure pass, `keep` of inner spans and span-level output do not exist;
//! only `exact` matchers map to Jaeger operations (templates, prefixes and globs fall to
//! the default probability); the budget becomes no rate limit. Use `serve` in the path
//! of the spans for all of that; this endpoint is for services that cannot be routed
//! through it.
//!
//! Rates are the policy's, times the rate controller's current scale (capped at 1).

use policy_schema::{Action, Matcher, Policy};
use serde_json::json;

/// `jaeger.api_v2.ProbabilisticSamplingStrategy`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProbabilisticSamplingStrategy {
    /// The sampling probability in [0, 1].
    #[prost(double, tag = "1")]
    pub sampling_rate: f64,
}

/// `jaeger.api_v2.RateLimitingSamplingStrategy` (never sent; part of the message).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RateLimitingSamplingStrategy {
    /// Traces per second.
    #[prost(int32, tag = "1")]
    pub max_traces_per_second: i32,
}

/// `jaeger.api_v2.OperationSamplingStrategy`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperationSamplingStrategy {
    /// Operation (span) name.
    #[prost(string, tag = "1")]
    pub operation: String,
    /// Its probability.
    #[prost(message, optional, tag = "2")]
    pub probabilistic_sampling: Option<ProbabilisticSamplingStrategy>,
}

/// `jaeger.api_v2.PerOperationSamplingStrategies`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PerOperationSamplingStrategies {
    /// Probability of operations not listed.
    #[prost(double, tag = "1")]
    pub default_sampling_probability: f64,
    /// Lower bound of traces per second per operation (0: none).
    #[prost(double, tag = "2")]
    pub default_lower_bound_traces_per_second: f64,
    /// Per operation.
    #[prost(message, repeated, tag = "3")]
    pub per_operation_strategies: Vec<OperationSamplingStrategy>,
    /// Upper bound of traces per second (0: none).
    #[prost(double, tag = "4")]
    pub default_upper_bound_traces_per_second: f64,
}

/// `jaeger.api_v2.SamplingStrategyResponse`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SamplingStrategyResponse {
    /// `PROBABILISTIC` (0) or `RATE_LIMITING` (1).
    #[prost(int32, tag = "1")]
    pub strategy_type: i32,
    /// The default probability.
    #[prost(message, optional, tag = "2")]
    pub probabilistic_sampling: Option<ProbabilisticSamplingStrategy>,
    /// Unused.
    #[prost(message, optional, tag = "3")]
    pub rate_limiting_sampling: Option<RateLimitingSamplingStrategy>,
    /// Per operation.
    #[prost(message, optional, tag = "4")]
    pub operation_sampling: Option<PerOperationSamplingStrategies>,
}

/// `jaeger.api_v2.SamplingStrategyParameters`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SamplingStrategyParameters {
    /// The service asking.
    #[prost(string, tag = "1")]
    pub service_name: String,
}

fn rate_of(action: Action, scale: f64) -> f64 {
    match action {
        Action::Keep => 1.0,
        Action::Sample { rate } => (rate * scale).clamp(0.0, 1.0),
    }
}

/// The strategies for `service`: one per `exact` matcher of a rule that applies to it
/// (a rule for the service beats one without, then rule order, as the matcher decides),
/// the default action's rate for everything else.
pub fn strategies(policy: &Policy, service: &str, scale: f64) -> SamplingStrategyResponse {
    let mut operations: Vec<OperationSamplingStrategy> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let specific = policy
        .rules
        .iter()
        .filter(|r| r.service.as_deref() == Some(service));
    let general = policy.rules.iter().filter(|r| r.service.is_none());
    for rule in specific.chain(general) {
        for matcher in &rule.matchers {
            if let Matcher::Exact(name) = matcher
                && seen.insert(name.clone())
            {
                operations.push(OperationSamplingStrategy {
                    operation: name.clone(),
                    probabilistic_sampling: Some(ProbabilisticSamplingStrategy {
                        sampling_rate: rate_of(rule.action, scale),
                    }),
                });
            }
        }
    }
    let default = rate_of(policy.default_action, scale);
    SamplingStrategyResponse {
        strategy_type: 0,
        probabilistic_sampling: Some(ProbabilisticSamplingStrategy {
            sampling_rate: default,
        }),
        rate_limiting_sampling: None,
        operation_sampling: Some(PerOperationSamplingStrategies {
            default_sampling_probability: default,
            default_lower_bound_traces_per_second: 0.0,
            per_operation_strategies: operations,
            default_upper_bound_traces_per_second: 0.0,
        }),
    }
}

/// The response as Jaeger's JSON (the protobuf JSON mapping the Jaeger collector serves
/// at `/api/sampling`).
pub fn to_json(response: &SamplingStrategyResponse) -> serde_json::Value {
    let default = response
        .probabilistic_sampling
        .as_ref()
        .map_or(0.0, |p| p.sampling_rate);
    let operations = response.operation_sampling.as_ref();
    json!({
        "strategyType": "PROBABILISTIC",
        "probabilisticSampling": { "samplingRate": default },
        "operationSampling": {
            "defaultSamplingProbability": operations.map_or(default, |o| o.default_sampling_probability),
            "defaultLowerBoundTracesPerSecond": 0.0,
            "perOperationStrategies": operations.map_or_else(Vec::new, |o| o.per_operation_strategies.iter().map(|s| json!({
                "operation": s.operation,
                "probabilisticSampling": { "samplingRate": s.probabilistic_sampling.as_ref().map_or(0.0, |p| p.sampling_rate) },
            })).collect()),
            "defaultUpperBoundTracesPerSecond": 0.0,
        },
    })
}

/// The gRPC `jaeger.api_v2.SamplingManager` service.
pub mod grpc {
    use super::{SamplingStrategyParameters, SamplingStrategyResponse};
    use std::sync::Arc;
    use std::task::{Context, Poll};
    use tonic::codegen::{Body, BoxFuture, StdError, http};

    /// Gives the strategies for a service.
    pub trait Strategies: Send + Sync + 'static {
        /// The response for `service`.
        fn for_service(&self, service: &str) -> SamplingStrategyResponse;
    }

    /// The tonic service (written as tonic's generator writes one).
    #[derive(Debug)]
    pub struct SamplingManagerServer<T> {
        inner: Arc<T>,
    }

    impl<T> SamplingManagerServer<T> {
        /// Serves `inner`.
        pub fn new(inner: Arc<T>) -> Self {
            Self { inner }
        }
    }

    impl<T> Clone for SamplingManagerServer<T> {
        fn clone(&self) -> Self {
            Self {
                inner: self.inner.clone(),
            }
        }
    }

    impl<T> tonic::server::NamedService for SamplingManagerServer<T> {
        const NAME: &'static str = "jaeger.api_v2.SamplingManager";
    }

    struct GetStrategy<T>(Arc<T>);

    impl<T: Strategies> tonic::server::UnaryService<SamplingStrategyParameters> for GetStrategy<T> {
        type Response = SamplingStrategyResponse;
        type Future = BoxFuture<tonic::Response<Self::Response>, tonic::Status>;
        fn call(&mut self, request: tonic::Request<SamplingStrategyParameters>) -> Self::Future {
            let inner = self.0.clone();
            Box::pin(async move {
                let service = request.into_inner().service_name;
                Ok(tonic::Response::new(inner.for_service(&service)))
            })
        }
    }

    impl<T, B> tonic::codegen::Service<http::Request<B>> for SamplingManagerServer<T>
    where
        T: Strategies,
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
            match req.uri().path() {
                "/jaeger.api_v2.SamplingManager/GetSamplingStrategy" => Box::pin(async move {
                    let codec = tonic_prost::ProstCodec::default();
                    let mut grpc = tonic::server::Grpc::new(codec);
                    Ok(grpc.unary(GetStrategy(inner), req).await)
                }),
                _ => Box::pin(async { Ok(crate::receive::grpc_unimplemented()) }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_rules_become_operations_and_the_rest_the_default() {
        let policy = policy_schema::from_json_str(
            r#"{
          "version": 1, "generator": {"tool": "t", "version": "0"}, "target_reduction": 0.5,
          "default_action": {"action": "sample", "rate": 0.25},
          "rules": [
            {"id": "a", "service": "shop", "match": [{"exact": "GET /cart"}], "action": {"action": "keep"}},
            {"id": "b", "match": [{"exact": "GET /cart"}, {"exact": "GET /"}, {"prefix": "/static"}], "action": {"action": "sample", "rate": 0.5}},
            {"id": "c", "service": "other", "match": [{"exact": "x"}], "action": {"action": "keep"}}
          ]}"#,
        )
        .unwrap();
        let response = strategies(&policy, "shop", 0.5);
        let ops = &response
            .operation_sampling
            .as_ref()
            .unwrap()
            .per_operation_strategies;
        let pairs: Vec<(&str, f64)> = ops
            .iter()
            .map(|o| {
                (
                    o.operation.as_str(),
                    o.probabilistic_sampling.as_ref().unwrap().sampling_rate,
                )
            })
            .collect();
        assert_eq!(pairs, [("GET /cart", 1.0), ("GET /", 0.25)]);
        let json = to_json(&response);
        assert_eq!(json["strategyType"], "PROBABILISTIC");
        assert_eq!(
            json["operationSampling"]["defaultSamplingProbability"],
            0.125
        );
        assert_eq!(
            json["operationSampling"]["perOperationStrategies"][0]["operation"],
            "GET /cart"
        );
    }
}
