//! The generator of the vectors: hand-picked edge cases (every precedence tie, template
//! and glob corners, escapes, rates at the edges and `rv` at each threshold, every kind
//! of trace id, malformed `rv`, every attribute type and canonical form), then a seeded
//! random set over the same policies. Expectations are what the Rust runtime decides.
//!
//! Regenerate with `AUTOSCOPE_BLESS=1 cargo test -p autoscope-conformance`; the test
//! refuses to change the expectation of an existing case (a change of semantics is a new
//! version folder).

use crate::{AttributeCase, Case, SpanCase, TraceIdCase, TypedValue, decide};
use policy_schema::{Policy, SpanKind};
use runtime_sampler::Decider;
use runtime_sampler::consistent::{NEVER, threshold};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Random cases added after the hand-picked ones.
pub const RANDOM_CASES: usize = 600;

/// What the generator makes: policy texts by name and the cases.
#[derive(Debug, Clone)]
pub struct Generated {
    /// `policies/<name>.json` contents (pretty JSON with a trailing newline).
    pub policies: BTreeMap<String, String>,
    /// The cases, in order.
    pub cases: Vec<Case>,
}

impl Generated {
    /// `cases.jsonl`: one case per line.
    pub fn cases_jsonl(&self) -> String {
        let mut text = String::new();
        for case in &self.cases {
            text.push_str(&serde_json::to_string(case).unwrap_or_default());
            text.push('\n');
        }
        text
    }
}

/// SplitMix64: a fixed-seed generator every run reproduces.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn w3c_id(&mut self) -> TraceIdCase {
        TraceIdCase::Hex(format!("{:016x}{:016x}", self.next(), self.next()))
    }
}

fn rule(id: &str, service: Option<&str>, matchers: Value, action: Value) -> Value {
    let mut rule = json!({ "id": id, "match": matchers, "action": action });
    if let Some(service) = service {
        rule["service"] = json!(service);
    }
    rule
}

fn with_conditions(mut rule: Value, kind: Option<&str>, attributes: Value) -> Value {
    if let Some(kind) = kind {
        rule["kind"] = json!(kind);
    }
    if attributes.as_array().is_some_and(|a| !a.is_empty()) {
        rule["attributes"] = attributes;
    }
    rule
}

fn keep() -> Value {
    json!({ "action": "keep" })
}

fn sample(rate: f64) -> Value {
    json!({ "action": "sample", "rate": rate })
}

fn policy(default_action: Value, rules: Vec<Value>) -> Value {
    json!({
        "version": 2,
        "generator": { "tool": "autoscope-conformance", "version": "1" },
        "target_reduction": 0.5,
        "default_action": default_action,
        "overrides": { "keep_errors": true },
        "rules": rules,
    })
}

/// The policies, by name.
fn policies() -> BTreeMap<&'static str, Value> {
    let mut all = BTreeMap::new();
    all.insert(
        "precedence",
        policy(
            sample(0.5),
            vec![
                rule("glob-a", Some("a"), json!([{ "glob": "*orders*" }]), keep()),
                rule(
                    "prefix-any",
                    None,
                    json!([{ "prefix": "/orders" }]),
                    sample(0.25),
                ),
                rule(
                    "prefix-a",
                    Some("a"),
                    json!([{ "prefix": "/ord" }]),
                    sample(0.75),
                ),
                rule(
                    "template-any",
                    None,
                    json!([{ "template": "/orders/{id}" }]),
                    sample(0.1),
                ),
                rule(
                    "template-a",
                    Some("a"),
                    json!([{ "template": "/orders/{id}" }]),
                    sample(1.0 / 3.0),
                ),
                rule(
                    "exact-any",
                    None,
                    json!([{ "exact": "/orders/1" }]),
                    sample(0.9),
                ),
                rule(
                    "exact-a",
                    Some("a"),
                    json!([{ "exact": "/orders/1" }]),
                    sample(0.6),
                ),
                rule(
                    "prefix-short",
                    None,
                    json!([{ "prefix": "/p" }]),
                    sample(0.2),
                ),
                rule(
                    "shadowed-prefix-long",
                    None,
                    json!([{ "prefix": "/p/q/r" }]),
                    keep(),
                ),
                rule("get-any", None, json!([{ "exact": "GET" }]), sample(0.05)),
                with_conditions(
                    rule(
                        "get-client-payments",
                        None,
                        json!([{ "exact": "GET" }]),
                        keep(),
                    ),
                    Some("client"),
                    json!([{ "key": "server.address", "exact": "payments" }]),
                ),
                rule("get-a", Some("a"), json!([{ "exact": "GET" }]), sample(0.3)),
                with_conditions(
                    rule("get-client", None, json!([{ "exact": "GET" }]), sample(0.7)),
                    Some("client"),
                    json!([]),
                ),
                with_conditions(
                    rule("get-route", None, json!([{ "glob": "G*" }]), keep()),
                    None,
                    json!([{ "key": "http.route", "template": "/orders/{id}" }]),
                ),
                rule("g-glob", None, json!([{ "glob": "G?" }]), sample(0.15)),
                rule(
                    "multi",
                    None,
                    json!([{ "exact": "X" }, { "glob": "Y*" }]),
                    sample(0.4),
                ),
                rule("unicode", None, json!([{ "exact": "é/ü" }]), keep()),
                with_conditions(
                    rule(
                        "orders-server-a",
                        Some("a"),
                        json!([{ "template": "/orders/{id}" }]),
                        sample(0.05),
                    ),
                    Some("server"),
                    json!([]),
                ),
            ],
        ),
    );
    all.insert(
        "matchers",
        policy(
            sample(0.0),
            vec![
                rule("segment", None, json!([{ "template": "/a/{x}" }]), keep()),
                rule(
                    "rest",
                    None,
                    json!([{ "template": "/files/{p:**}" }]),
                    keep(),
                ),
                rule(
                    "escape",
                    None,
                    json!([{ "template": "{{GET}}/x/{id}" }]),
                    keep(),
                ),
                rule(
                    "dots",
                    None,
                    json!([{ "template": "/img/{name}.{ext}" }]),
                    keep(),
                ),
                rule(
                    "verb",
                    None,
                    json!([{ "template": "{verb} /orders/{id:**}" }]),
                    keep(),
                ),
                rule(
                    "middle",
                    None,
                    json!([{ "template": "/u/{id}/items" }]),
                    keep(),
                ),
                rule(
                    "braces",
                    None,
                    json!([{ "template": "/b/{{{id}}}" }]),
                    keep(),
                ),
                rule("one-char", None, json!([{ "glob": "q?z" }]), keep()),
                rule("css", None, json!([{ "glob": "*.css" }]), keep()),
                rule("stars", None, json!([{ "glob": "a*b*c" }]), keep()),
                rule("double-star", None, json!([{ "glob": "z**" }]), keep()),
                rule("glob-literal", None, json!([{ "glob": "{id}" }]), keep()),
                rule("prefix-brace", None, json!([{ "prefix": "{{" }]), keep()),
                rule(
                    "exact-space",
                    None,
                    json!([{ "exact": " padded " }]),
                    keep(),
                ),
            ],
        ),
    );
    let tiny56 = 2f64.powi(-56);
    let tiny53 = 2f64.powi(-53);
    all.insert(
        "rates",
        policy(
            sample(0.2),
            vec![
                rule("zero", None, json!([{ "exact": "r0" }]), sample(0.0)),
                rule("one", None, json!([{ "exact": "r1" }]), sample(1.0)),
                rule(
                    "tiny56",
                    None,
                    json!([{ "exact": "tiny56" }]),
                    sample(tiny56),
                ),
                rule(
                    "tiny53",
                    None,
                    json!([{ "exact": "tiny53" }]),
                    sample(tiny53),
                ),
                rule("half", None, json!([{ "exact": "half" }]), sample(0.5)),
                rule(
                    "third",
                    None,
                    json!([{ "exact": "third" }]),
                    sample(1.0 / 3.0),
                ),
                rule("tenth", None, json!([{ "exact": "tenth" }]), sample(0.1)),
                rule(
                    "almost",
                    None,
                    json!([{ "exact": "almost" }]),
                    sample(0.999999),
                ),
                rule("small", None, json!([{ "exact": "small" }]), sample(1e-9)),
                rule("keep", None, json!([{ "exact": "keep" }]), keep()),
            ],
        ),
    );
    all.insert(
        "conditions",
        policy(
            sample(0.5),
            vec![
                with_conditions(rule("server", None, json!([{ "exact": "k" }]), keep()), Some("server"), json!([])),
                with_conditions(rule("client", None, json!([{ "exact": "k" }]), sample(0.9)), Some("client"), json!([])),
                with_conditions(rule("producer", None, json!([{ "exact": "k" }]), sample(0.8)), Some("producer"), json!([])),
                with_conditions(rule("consumer", None, json!([{ "exact": "k" }]), sample(0.7)), Some("consumer"), json!([])),
                with_conditions(rule("internal", None, json!([{ "exact": "k" }]), sample(0.6)), Some("internal"), json!([])),
                with_conditions(rule("int", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "status", "exact": "503" }])),
                with_conditions(rule("int-glob", None, json!([{ "exact": "op" }]), sample(0.9)), None, json!([{ "key": "status", "glob": "5??" }])),
                with_conditions(rule("negative", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "delta", "exact": "-7" }])),
                with_conditions(rule("bool", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "flag", "exact": "true" }])),
                with_conditions(rule("half-double", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "0.5" }])),
                with_conditions(rule("whole-double", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "100" }])),
                with_conditions(rule("big-double", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "1e+21" }])),
                with_conditions(rule("small-double", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "1.5e-7" }])),
                with_conditions(rule("tiny-fixed", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "0.000001" }])),
                with_conditions(rule("nan", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "NaN" }])),
                with_conditions(rule("infinity", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "prefix": "-Inf" }])),
                with_conditions(rule("zero", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "0" }])),
                with_conditions(rule("third", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "ratio", "exact": "0.3333333333333333" }])),
                with_conditions(rule("route", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "http.route", "template": "/users/{id}" }])),
                with_conditions(
                    rule("host-and-port", None, json!([{ "exact": "op" }]), sample(0.25)),
                    Some("client"),
                    json!([{ "key": "server.address", "exact": "db" }, { "key": "server.port", "exact": "5432" }]),
                ),
                with_conditions(rule("present", None, json!([{ "exact": "op" }]), sample(0.1)), None, json!([{ "key": "marker", "prefix": "" }])),
                with_conditions(rule("empty-value", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "label", "exact": "" }])),
                with_conditions(rule("same-key-twice", None, json!([{ "exact": "op" }]), keep()), None, json!([{ "key": "db", "prefix": "mon" }, { "key": "db", "glob": "*db" }])),
            ],
        ),
    );
    all.insert(
        "randomness",
        policy(
            sample(0.5),
            vec![rule(
                "quarter",
                None,
                json!([{ "exact": "quarter" }]),
                sample(0.25),
            )],
        ),
    );
    all
}

/// Trace ids of every kind the rules distinguish.
fn special_trace_ids() -> Vec<TraceIdCase> {
    let hex = |s: &str| TraceIdCase::Hex(s.into());
    let text = |s: &str| TraceIdCase::Text(s.into());
    vec![
        hex("4bf92f3577b34da6a3ce929d0e0e4736"),
        hex("00000000000000000000000000000000"),
        hex("ffffffffffffffffffffffffffffffff"),
        hex("0000000000000000ff80000000000000"),
        hex("0000000000000000007fffffffffffff"),
        hex("151e8ea44a5cf41c"),
        hex("0080000000000000"),
        text("4bf92f3577b34da6a3ce929d0e0e4736"),
        text("4BF92F3577B34DA6A3CE929D0E0E4736"),
        text("151e8ea44a5cf41c"),
        text("898fbabdd1894463575af052c4cd7982"),
        text("1a2b3c4d.41.16432140000000001"),
        text("trace-1"),
        text(""),
        text("4bf92f3577b34da6a3ce929d0e0e473g"),
        text("0123456789abcdef0123456789abcdef0"),
        text("3031323334353637"),
        hex("0102030405060708090a0b0c"),
        hex("00"),
        // 16 bytes that are all ASCII hex digits: read as 16 hex characters.
        hex("30313233343536373839616263646566"),
    ]
}

fn special_trace_states() -> Vec<&'static str> {
    vec![
        "",
        "ot=rv:00000000000000",
        "ot=rv:ffffffffffffff",
        "ot=rv:80000000000000",
        "ot=rv:7fffffffffffff",
        "ot=th:8;rv:c0000000000000",
        "vendor=a, ot=rv:3fffffffffffff ,other=b",
        "ot=rv:0123456789ABCD",
        "ot=rv:0123456789abc",
        "ot=rv:0123456789abcde",
        "ot=rv:",
        "ot=th:0",
        "ot=th:8,ot=rv:ffffffffffffff",
        "xot=rv:ffffffffffffff",
        "ot=RV:ffffffffffffff",
        "ot=p:8;r:62;rv:40000000000000;x:y",
        "\tot=rv:deadbeefdeadbe\t",
    ]
}

fn attributes_pool() -> Vec<Vec<AttributeCase>> {
    use TypedValue::*;
    let a = AttributeCase::new;
    vec![
        vec![],
        vec![a("server.address", Str("payments".into()))],
        vec![a("server.address", Str("orders".into()))],
        vec![a("http.route", Str("/orders/7".into()))],
        vec![a("http.route", Str("/orders/7/items".into()))],
        vec![a("status", Int(503))],
        vec![a("status", Int(404))],
        vec![a("status", Int(500))],
        vec![a("status", Str("503".into()))],
        vec![a("delta", Int(-7))],
        vec![a("flag", Bool(true))],
        vec![a("flag", Bool(false))],
        vec![a("flag", Str("True".into()))],
        vec![a("ratio", Double(0.5))],
        vec![a("ratio", Double(100.0))],
        vec![a("ratio", Double(1e21))],
        vec![a("ratio", Double(1e20))],
        vec![a("ratio", Double(1.5e-7))],
        vec![a("ratio", Double(0.000001))],
        vec![a("ratio", Double(f64::NAN))],
        vec![a("ratio", Double(f64::NEG_INFINITY))],
        vec![a("ratio", Double(f64::INFINITY))],
        vec![a("ratio", Double(-0.0))],
        vec![a("ratio", Double(1.0 / 3.0))],
        vec![a("ratio", Int(100))],
        vec![a("http.route", Str("/users/42".into()))],
        vec![a("http.route", Str("/users/".into()))],
        vec![
            a("server.address", Str("db".into())),
            a("server.port", Int(5432)),
        ],
        vec![a("server.address", Str("db".into()))],
        vec![a("marker", Str(String::new()))],
        vec![a("label", Str(String::new()))],
        vec![a("db", Str("mongodb".into()))],
        vec![a("db", Str("mongo".into()))],
        // The first attribute with a key counts.
        vec![a("flag", Bool(false)), a("flag", Bool(true))],
    ]
}

fn names_of(policy: &str) -> Vec<&'static str> {
    match policy {
        "precedence" => vec![
            "/orders/1",
            "/orders/2",
            "/orders",
            "/ordersX",
            "/ord",
            "/or",
            "/orders/1/x",
            "/p/q/r/s",
            "/p/q",
            "/p",
            "GET",
            "G",
            "GX",
            "Gé",
            "X",
            "Yz",
            "Y",
            "é/ü",
            "é/u",
            "my-orders",
            "unmatched",
            "",
        ],
        "matchers" => vec![
            "/a/1",
            "/a/",
            "/a/1/2",
            "/a/é",
            "/files/a/b",
            "/files/",
            "/files/x",
            "{GET}/x/1",
            "GET/x/1",
            "{GET}/x/",
            "/img/cat.v2.png",
            "/img/cat",
            "/img/a/b.png",
            "/img/.png",
            "GET /orders/1/items",
            "GET /orders/",
            "/orders/1",
            "/u/7/items",
            "/u//items",
            "/u/7/8/items",
            "/b/{7}",
            "/b/7",
            "qéz",
            "qz",
            "q/z",
            "qzz",
            "/static/é.css",
            ".css",
            "css",
            "aXbYbZc",
            "abcb",
            "abc",
            "z",
            "zzz",
            "{id}",
            "{x",
            "{{x",
            " padded ",
            "padded",
        ],
        "rates" => vec![
            "r0", "r1", "tiny56", "tiny53", "half", "third", "tenth", "almost", "small", "keep",
            "other",
        ],
        "conditions" => vec!["k", "op", "other"],
        _ => vec!["quarter", "op"],
    }
}

const SERVICES: [&str; 4] = ["a", "b", "", "svc"];
const KINDS: [Option<SpanKind>; 6] = [
    None,
    Some(SpanKind::Server),
    Some(SpanKind::Client),
    Some(SpanKind::Producer),
    Some(SpanKind::Consumer),
    Some(SpanKind::Internal),
];

struct Builder {
    decided: BTreeMap<String, (Policy, Decider)>,
    cases: Vec<Case>,
    counters: BTreeMap<&'static str, usize>,
}

impl Builder {
    fn add(&mut self, group: &'static str, policy: &str, span: SpanCase) {
        let (loaded, decider) = &self.decided[policy];
        let expect = decide(decider, loaded, &span).unwrap_or_else(|e| panic!("{group}: {e}"));
        let counter = self.counters.entry(group).or_default();
        *counter += 1;
        self.cases.push(Case {
            id: format!("{group}/{counter:03}"),
            policy: policy.into(),
            span,
            expect,
        });
    }
}

fn span(
    service: &str,
    name: &str,
    kind: Option<SpanKind>,
    trace_id: TraceIdCase,
    tracestate: &str,
    attributes: Vec<AttributeCase>,
) -> SpanCase {
    SpanCase {
        service: service.into(),
        name: name.into(),
        kind,
        trace_id,
        tracestate: tracestate.into(),
        attributes,
    }
}

/// Generates every policy and case.
pub fn generate() -> Generated {
    let policies = policies();
    let mut texts = BTreeMap::new();
    let mut decided = BTreeMap::new();
    for (name, value) in &policies {
        let text = format!(
            "{}\n",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
        let policy = policy_schema::from_json_str(&text)
            .unwrap_or_else(|e| panic!("generated policy {name}: {e}"));
        let decider = Decider::new(&policy).unwrap_or_else(|e| panic!("{name}: {e}"));
        texts.insert((*name).to_string(), text);
        decided.insert((*name).to_string(), (policy, decider));
    }
    let mut b = Builder {
        decided,
        cases: Vec::new(),
        counters: BTreeMap::new(),
    };
    let mut rng = SplitMix(0x0a11_5c09_e000_0001);

    // Precedence: every name under every service, with the attribute and kind variants
    // that select the conditional rules.
    let variants: Vec<(Option<SpanKind>, Vec<AttributeCase>)> = {
        let pool = attributes_pool();
        vec![
            (None, vec![]),
            (Some(SpanKind::Client), pool[1].clone()),
            (Some(SpanKind::Client), pool[2].clone()),
            (Some(SpanKind::Server), pool[1].clone()),
            (Some(SpanKind::Server), pool[3].clone()),
            (None, pool[4].clone()),
        ]
    };
    for name in names_of("precedence") {
        for service in ["a", "b", ""] {
            for (kind, attributes) in &variants {
                let id = rng.w3c_id();
                b.add(
                    "precedence",
                    "precedence",
                    span(service, name, *kind, id, "", attributes.clone()),
                );
            }
        }
    }
    // Matchers: every name, two trace ids each (rate 0 default: the rule decides all).
    for name in names_of("matchers") {
        for _ in 0..2 {
            let id = rng.w3c_id();
            b.add(
                "matchers",
                "matchers",
                span("svc", name, None, id, "", vec![]),
            );
        }
    }
    // Rates: each rule with rv just below, at and above its threshold, and random ids.
    let rates = [
        ("r0", 0.0),
        ("r1", 1.0),
        ("tiny56", 2f64.powi(-56)),
        ("tiny53", 2f64.powi(-53)),
        ("half", 0.5),
        ("third", 1.0 / 3.0),
        ("tenth", 0.1),
        ("almost", 0.999999),
        ("small", 1e-9),
        ("keep", 1.0),
        ("other", 0.2),
    ];
    for (name, rate) in rates {
        let t = threshold(rate);
        for r in [t.wrapping_sub(1), t, t + 1] {
            if r < NEVER {
                let state = format!("ot=rv:{r:014x}");
                let id = rng.w3c_id();
                b.add(
                    "rates",
                    "rates",
                    span("svc", name, None, id, &state, vec![]),
                );
            }
        }
        for _ in 0..6 {
            let id = rng.w3c_id();
            b.add("rates", "rates", span("svc", name, None, id, "", vec![]));
        }
    }
    // Conditions: every kind on the kind rules, every attribute set on the others.
    for kind in KINDS {
        let id = rng.w3c_id();
        b.add(
            "conditions",
            "conditions",
            span("svc", "k", kind, id, "", vec![]),
        );
    }
    for attributes in attributes_pool() {
        for kind in [None, Some(SpanKind::Client)] {
            let id = rng.w3c_id();
            b.add(
                "conditions",
                "conditions",
                span("svc", "op", kind, id, "", attributes.clone()),
            );
        }
    }
    // Randomness: every kind of trace id under every tracestate.
    for trace_id in special_trace_ids() {
        for state in special_trace_states() {
            // The policy has no kind conditions: a kind lets SDKs (whose spans always
            // have one) run these cases through their own sampler interface.
            for (name, kind) in [("quarter", Some(SpanKind::Server)), ("op", None)] {
                b.add(
                    "randomness",
                    "randomness",
                    span("svc", name, kind, trace_id.clone(), state, vec![]),
                );
            }
        }
    }
    // Random: any policy, a name from its pool (sometimes mutated), any service, kind,
    // attributes, id and tracestate.
    let policy_names: Vec<&'static str> = policies.keys().copied().collect();
    let pool = attributes_pool();
    let ids = special_trace_ids();
    let states = special_trace_states();
    for _ in 0..RANDOM_CASES {
        let policy = *rng.pick(&policy_names);
        let mut name = rng.pick(&names_of(policy)).to_string();
        match rng.below(6) {
            0 => name.push(['/', 'x', '1', 'é'][rng.below(4)]),
            1 => {
                let cut = rng.below(name.chars().count() + 1);
                name = name.chars().take(cut).collect();
            }
            _ => {}
        }
        let service = *rng.pick(&SERVICES);
        let kind = *rng.pick(&KINDS);
        let mut attributes = rng.pick(&pool).clone();
        if rng.below(3) == 0 {
            attributes.extend(rng.pick(&pool).iter().cloned());
        }
        let trace_id = match rng.below(4) {
            0 => rng.pick(&ids).clone(),
            1 => TraceIdCase::Hex(format!("{:016x}", rng.next())),
            2 => TraceIdCase::Text(format!("{:016x}{:016x}", rng.next(), rng.next())),
            _ => rng.w3c_id(),
        };
        let state = match rng.below(4) {
            0 => rng.pick(&states).to_string(),
            1 => format!("ot=rv:{:014x}", rng.next() >> 8),
            _ => String::new(),
        };
        b.add(
            "random",
            policy,
            span(service, &name, kind, trace_id, &state, attributes),
        );
    }
    Generated {
        policies: texts,
        cases: b.cases,
    }
}
