//! The stages after extraction, on hand-built facts: resolution across files
//! (injected interfaces, imports, Go packages), cross-service edges (HTTP routes, gRPC),
//! span names and scores, and policy generation.

use autoscope_analysis::analysis::{AnalyzeOptions, analyze_facts};
use autoscope_analysis::discover::{ConfigFile, ConfigKind};
use autoscope_analysis::facts::*;
use autoscope_analysis::graph::EdgeKind;
use policy_schema::{Action, Matcher};

fn at(line: u32) -> Position {
    Position { line, column: 1 }
}

fn annotation(name: &str, args: &[(Option<&str>, &str)], line: u32) -> Annotation {
    Annotation {
        name: name.into(),
        args: args
            .iter()
            .map(|(k, v)| (k.map(str::to_string), v.to_string()))
            .collect(),
        position: at(line),
    }
}

fn field(name: &str, type_name: &str) -> Field {
    Field {
        name: name.into(),
        type_name: type_name.into(),
        annotations: Vec::new(),
    }
}

fn call(
    receiver: Option<&str>,
    callee: &str,
    args: &[Option<&str>],
    texts: &[&str],
    line: u32,
) -> Call {
    Call {
        callee: callee.into(),
        receiver: receiver.map(str::to_string),
        args: args.iter().map(|a| a.map(str::to_string)).collect(),
        arg_texts: texts.iter().map(|t| t.to_string()).collect(),
        position: at(line),
        ..Call::default()
    }
}

fn method(class: &str, package: &str, name: &str, line: u32) -> Function {
    Function {
        name: name.into(),
        qualified: format!("{package}.{class}.{name}"),
        owner: Some(class.into()),
        position: at(line),
        end_line: line + 5,
        ..Function::default()
    }
}

fn class(name: &str, package: &str, kind: TypeKind, supertypes: &[&str], line: u32) -> TypeDecl {
    TypeDecl {
        name: name.into(),
        qualified: format!("{package}.{name}"),
        kind,
        supertypes: supertypes.iter().map(|s| s.to_string()).collect(),
        position: at(line),
        ..TypeDecl::default()
    }
}

fn java_file(
    path: &str,
    package: &str,
    types: Vec<TypeDecl>,
    functions: Vec<Function>,
) -> FileFacts {
    FileFacts {
        path: path.into(),
        language: Some(Language::Java),
        package: package.into(),
        types,
        functions,
        lines: 50,
        ..FileFacts::default()
    }
}

/// Two Spring services: orders (controller → injected OrderService → OrderServiceImpl
/// → Mongo repository and a RestTemplate call to payments) and payments (controller).
fn shop() -> (Vec<FileFacts>, Vec<ConfigFile>) {
    let pkg = "shop.order";
    let mut controller = class("OrderController", pkg, TypeKind::Class, &[], 3);
    controller.annotations = vec![
        annotation("RestController", &[], 1),
        annotation("RequestMapping", &[(None, "/api/v1/orders")], 2),
    ];
    let mut injected = field("orderService", "OrderService");
    injected.annotations = vec![annotation("Autowired", &[], 4)];
    controller.fields = vec![injected];
    let mut get = method("OrderController", pkg, "getOrder", 7);
    get.annotations = vec![annotation("GetMapping", &[(Some("path"), "/{orderId}")], 6)];
    get.calls = vec![call(Some("orderService"), "find", &[None], &["orderId"], 8)];
    let mut pay = method("OrderController", pkg, "pay", 12);
    pay.annotations = vec![annotation(
        "RequestMapping",
        &[
            (Some("value"), "/{orderId}/pay"),
            (Some("method"), "RequestMethod.POST"),
        ],
        11,
    )];
    pay.calls = vec![call(Some("orderService"), "pay", &[None], &["orderId"], 13)];

    let service = class("OrderService", pkg, TypeKind::Interface, &[], 1);
    let mut service_impl = class(
        "OrderServiceImpl",
        pkg,
        TypeKind::Class,
        &["OrderService"],
        1,
    );
    service_impl.fields = vec![
        field("repository", "OrderRepository"),
        field("restTemplate", "RestTemplate"),
    ];
    let mut find = method("OrderServiceImpl", pkg, "find", 10);
    find.calls = vec![call(
        Some("repository"),
        "findByOrderId",
        &[None],
        &["id"],
        11,
    )];
    let mut pay_impl = method("OrderServiceImpl", pkg, "pay", 20);
    let mut rest = call(
        Some("restTemplate"),
        "exchange",
        &[
            Some("http://payment-service:8080/api/v1/payments/{}"),
            None,
            None,
        ],
        &[
            "\"http://payment-service:8080/api/v1/payments/\" + id",
            "HttpMethod.POST",
            "entity",
        ],
        22,
    );
    rest.in_handler = true;
    pay_impl.calls = vec![
        rest,
        call(Some("repository"), "save", &[None], &["order"], 25),
    ];
    pay_impl.error_handlers = vec![ErrorHandler {
        kind: "catch".into(),
        caught: vec!["RestClientException".into()],
        actions: vec![ErrorAction::Log],
        position: at(23),
    }];
    let repository = class(
        "OrderRepository",
        pkg,
        TypeKind::Interface,
        &["MongoRepository<Order, String>"],
        1,
    );

    let payment_pkg = "shop.payment";
    let mut payment_controller = class("PaymentController", payment_pkg, TypeKind::Class, &[], 2);
    payment_controller.annotations = vec![
        annotation("RestController", &[], 1),
        annotation("RequestMapping", &[(None, "/api/v1/payments")], 2),
    ];
    let mut charge = method("PaymentController", payment_pkg, "charge", 6);
    charge.annotations = vec![annotation("PostMapping", &[(None, "/{orderId}")], 5)];

    let files = vec![
        java_file(
            "order-service/src/main/java/shop/order/OrderController.java",
            pkg,
            vec![controller],
            vec![get, pay],
        ),
        java_file(
            "order-service/src/main/java/shop/order/OrderService.java",
            pkg,
            vec![service],
            Vec::new(),
        ),
        java_file(
            "order-service/src/main/java/shop/order/OrderServiceImpl.java",
            pkg,
            vec![service_impl],
            vec![find, pay_impl],
        ),
        java_file(
            "order-service/src/main/java/shop/order/OrderRepository.java",
            pkg,
            vec![repository],
            Vec::new(),
        ),
        java_file(
            "payment-service/src/main/java/shop/payment/PaymentController.java",
            payment_pkg,
            vec![payment_controller],
            vec![charge],
        ),
    ];
    let configs = vec![
        ConfigFile {
            rel_path: "order-service/pom.xml".into(),
            kind: ConfigKind::MavenPom,
            text: "<project><artifactId>order-service</artifactId></project>".into(),
        },
        ConfigFile {
            rel_path: "payment-service/src/main/resources/application.yml".into(),
            kind: ConfigKind::SpringConfig,
            text: "spring:\n  application:\n    name: payment-service\n".into(),
        },
    ];
    (files, configs)
}

fn rule<'a>(policy: &'a policy_schema::Policy, id: &str) -> &'a policy_schema::Rule {
    policy.rules.iter().find(|r| r.id == id).unwrap_or_else(|| {
        panic!(
            "no rule {id}; rules: {:?}",
            policy.rules.iter().map(|r| &r.id).collect::<Vec<_>>()
        )
    })
}

#[test]
fn injected_interfaces_resolve_to_implementations() {
    let (files, configs) = shop();
    let analysis = analyze_facts(files, &configs, "root", &AnalyzeOptions::default());
    let graph = &analysis.graph.graph;
    let edges: Vec<(String, String, EdgeKind)> = graph
        .edge_indices()
        .map(|e| {
            let (a, b) = graph.edge_endpoints(e).unwrap();
            (
                graph[a].qualified.clone(),
                graph[b].qualified.clone(),
                graph[e].kind,
            )
        })
        .collect();
    assert!(edges.contains(&(
        "shop.order.OrderController.getOrder".into(),
        "shop.order.OrderServiceImpl.find".into(),
        EdgeKind::Call
    )));
    assert!(edges.contains(&(
        "shop.order.OrderServiceImpl.pay".into(),
        "shop.payment.PaymentController.charge".into(),
        EdgeKind::Http
    )));
    assert_eq!(analysis.stats.cross_service_edges, 1);
}

#[test]
fn spring_span_names_follow_skywalking_and_opentelemetry() {
    let (files, configs) = shop();
    let policy = analyze_facts(files, &configs, "root", &AnalyzeOptions::default()).policy;
    let entry = rule(
        &policy,
        "order-service:GET /api/v1/orders/{orderId} [skywalking@8]",
    );
    assert_eq!(entry.profile.as_deref(), Some("skywalking@8"));
    assert!(
        entry
            .matchers
            .contains(&Matcher::Exact("{GET}/api/v1/orders/{orderId}".into()))
    );
    // 2.x and 1.x from 1.25 name it METHOD route.
    let otel2 = rule(
        &policy,
        "order-service:GET /api/v1/orders/{orderId} [otel-java@1,otel-java@2]",
    );
    assert!(
        otel2
            .matchers
            .contains(&Matcher::Exact("GET /api/v1/orders/{orderId}".into()))
    );
    let otel1 = rule(
        &policy,
        "order-service:GET /api/v1/orders/{orderId} [otel-java@1]",
    );
    assert!(
        otel1
            .matchers
            .contains(&Matcher::Exact("OrderController.getOrder".into()))
    );
    assert!(
        otel1
            .matchers
            .contains(&Matcher::Exact("/api/v1/orders/{orderId}".into()))
    );
    let pay = rule(
        &policy,
        "order-service:POST /api/v1/orders/{orderId}/pay [skywalking@8]",
    );
    assert!(
        pay.matchers
            .contains(&Matcher::Exact("{POST}/api/v1/orders/{orderId}/pay".into()))
    );
    let exit = rule(
        &policy,
        "order-service:POST /api/v1/payments/{p1} [skywalking,skywalking@8]",
    );
    assert!(
        exit.matchers
            .contains(&Matcher::Template("/api/v1/payments/{p1}".into()))
    );
    assert_eq!(exit.service.as_deref(), Some("order-service"));
    let find = rule(
        &policy,
        "order-service:OrderRepository.findByOrderId [otel-java@1,otel-java@2]",
    );
    assert!(
        find.matchers
            .contains(&Matcher::Exact("OrderRepository.findByOrderId".into()))
    );
    let mongo = rule(
        &policy,
        "order-service:MongoDB/FindOperation [skywalking,skywalking@8]",
    );
    assert!(
        mongo
            .matchers
            .contains(&Matcher::Exact("MongoDB/FindOperation".into()))
    );
    let save = rule(
        &policy,
        "order-service:OrderRepository.save [otel-java@1,otel-java@2]",
    );
    assert!(
        save.matchers
            .contains(&Matcher::Exact("OrderRepository.save".into()))
    );
    rule(
        &policy,
        "order-service:MongoDB/UpdateOperation [skywalking,skywalking@8]",
    );
    rule(
        &policy,
        "payment-service:POST /api/v1/payments/{orderId} [skywalking@8]",
    );
    // The rules of the drafts sorted by (service, id), then their start forms, sorted.
    let (own, starts): (Vec<&str>, Vec<&str>) = policy
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .partition(|id| !id.ends_with(" @start"));
    let ids: Vec<&str> = policy.rules.iter().map(|r| r.id.as_str()).collect();
    let (mut own_sorted, mut starts_sorted) = (own.clone(), starts.clone());
    own_sorted.sort();
    starts_sorted.sort();
    assert_eq!(
        ids,
        [own_sorted, starts_sorted].concat(),
        "rules sorted by (service, id)"
    );
    // The agent 2.x server span as it starts: the method, kind server, url.path.
    let start = rule(
        &policy,
        "order-service:GET /api/v1/orders/{orderId} [otel-java@1,otel-java@2] @start",
    );
    assert_eq!(start.matchers, [Matcher::Exact("GET".into())]);
    assert_eq!(start.kind, Some(policy_schema::SpanKind::Server));
    assert_eq!(start.attributes.len(), 1);
    assert_eq!(start.attributes[0].key, "url.path");
    assert_eq!(
        start.attributes[0].matcher,
        Matcher::Template("/api/v1/orders/{p1}".into())
    );
    let plain = rule(
        &policy,
        "order-service:GET /api/v1/orders/{orderId} [otel-java@1,otel-java@2]",
    );
    assert_eq!(
        start.action, plain.action,
        "the same spans, the same action"
    );
}

#[test]
fn scores_carry_reasons_with_source_lines() {
    let (files, configs) = shop();
    let policy = analyze_facts(files, &configs, "root", &AnalyzeOptions::default()).policy;
    let pay = rule(
        &policy,
        "order-service:POST /api/v1/orders/{orderId}/pay [otel-java@1,otel-java@2]",
    );
    let evidence = pay.evidence.as_ref().unwrap();
    let kinds: Vec<&str> = evidence.reasons.iter().map(|r| r.kind.as_str()).collect();
    // Scoring reasons, then the cost estimate behind the rate (0 points).
    assert_eq!(
        kinds,
        [
            "error-handling",
            "external-call",
            "database",
            "business-critical",
            "cost-estimate"
        ]
    );
    assert_eq!(evidence.score, 10.0 + 8.0 + 7.0 + 6.0);
    let handler = &evidence.reasons[0];
    assert_eq!(
        handler.file.as_deref(),
        Some("order-service/src/main/java/shop/order/OrderServiceImpl.java")
    );
    assert_eq!(handler.line, Some(23));
    // The best-scored rule gets the highest rate (monotone closure only raises a parent
    // to a child's rate, never above the highest).
    let rate = |action: &Action| match action {
        Action::Keep => 1.0,
        Action::Sample { rate } => *rate,
    };
    let highest = policy
        .rules
        .iter()
        .map(|r| rate(&r.action))
        .fold(0.0, f64::max);
    assert_eq!(
        rate(&pay.action),
        highest,
        "the best-scored rule has the top rate"
    );
    // The scores are the sums of their reasons.
    for rule in &policy.rules {
        let evidence = rule.evidence.as_ref().unwrap();
        let sum: f64 = evidence.reasons.iter().map(|r| r.points).sum();
        assert_eq!(evidence.score, sum.max(0.0), "{}", rule.id);
    }
}

#[test]
fn target_reduction_decides_the_kept_share() {
    let (files, configs) = shop();
    let mut previous = f64::INFINITY;
    for target in [0.0, 0.5, 0.8, 0.95] {
        let options = AnalyzeOptions {
            target_reduction: target,
            ..AnalyzeOptions::default()
        };
        let analysis = analyze_facts(files.clone(), &configs, "root", &options);
        let rates: Vec<f64> = analysis
            .policy
            .rules
            .iter()
            .map(|r| match r.action {
                Action::Keep => 1.0,
                Action::Sample { rate } => rate,
            })
            .collect();
        if target == 0.0 {
            assert!(
                rates.iter().all(|&r| r == 1.0),
                "target 0 keeps all: {rates:?}"
            );
        }
        // The estimated kept volume (rates alone) shrinks as the target grows.
        let kept: f64 = rates
            .iter()
            .zip(&analysis.costs.volume)
            .map(|(rate, volume)| rate * volume)
            .sum();
        assert!(
            kept <= previous,
            "target {target}: kept {kept} after {previous}"
        );
        previous = kept;
        assert!(
            analysis
                .costs
                .violations(&rates.iter().map(|&r| Some(r)).collect::<Vec<_>>())
                .is_empty(),
            "target {target}: not monotone"
        );
    }
}

#[test]
fn trace_volume_sets_rates_to_meet_the_target() {
    let (files, configs) = shop();
    let mut spans = Vec::new();
    for i in 0..900 {
        spans.push((
            "order-service".to_string(),
            "MongoDB/FindOperation".to_string(),
        ));
        if i % 3 == 0 {
            spans.push((
                "order-service".to_string(),
                "{GET}/api/v1/orders/{orderId}".to_string(),
            ));
        }
    }
    spans.push((
        "order-service".to_string(),
        "/api/v1/payments/42".to_string(),
    ));
    let options = AnalyzeOptions {
        trace_spans: spans.clone(),
        ..AnalyzeOptions::default()
    };
    let analysis = analyze_facts(files, &configs, "root", &options);
    let find = rule(
        &analysis.policy,
        "order-service:MongoDB/FindOperation [skywalking,skywalking@8]",
    );
    assert!(
        find.evidence
            .as_ref()
            .unwrap()
            .reasons
            .iter()
            .any(|r| r.kind == "trace-frequency")
    );
    let rate_of = |service: &str, name: &str| -> f64 {
        let policy = &analysis.policy;
        let matchers = runtime_sampler::matcher::CompiledMatchers::compile(policy).unwrap();
        match matchers
            .find(service, name)
            .map(|hit| policy.rules[hit.rule as usize].action)
        {
            Some(Action::Keep) => 1.0,
            Some(Action::Sample { rate }) => rate,
            None => 0.05,
        }
    };
    // Rates alone keep less than 20%: the rest of the budget goes to the spans the
    // overrides keep and the ancestors they bring, estimated from the call graph.
    let kept: f64 = spans.iter().map(|(s, n)| rate_of(s, n)).sum();
    let share = kept / spans.len() as f64;
    assert!(share < 0.2 && share > 0.05, "expected kept share {share}");
    assert!(
        analysis.policy.rules.iter().all(|r| r
            .evidence
            .as_ref()
            .is_some_and(|e| e.reasons.iter().any(|x| x.kind == "cost-estimate"))),
        "every rule records its cost estimate"
    );
}

#[test]
fn go_grpc_stubs_link_to_server_methods() {
    let proto = ConfigFile {
        rel_path: "services/geo/proto/geo.proto".into(),
        kind: ConfigKind::Proto,
        text: "package geo;\nservice Geo {\n  rpc Nearby(Request) returns (Result);\n}\n".into(),
    };
    let go_mod = ConfigFile {
        rel_path: "go.mod".into(),
        kind: ConfigKind::GoMod,
        text: "module example.com/hotel\n".into(),
    };
    let import = |path: &str, alias: Option<&str>| Import {
        path: path.into(),
        alias: alias.map(str::to_string),
        names: Vec::new(),
        position: at(3),
    };
    let mut register = Function {
        name: "Run".into(),
        qualified: "geo.(*Server).Run".into(),
        owner: Some("Server".into()),
        position: at(10),
        ..Function::default()
    };
    register.calls = vec![call(
        Some("pb"),
        "RegisterGeoServer",
        &[None, None],
        &["srv", "s"],
        12,
    )];
    let nearby = Function {
        name: "Nearby".into(),
        qualified: "geo.(*Server).Nearby".into(),
        owner: Some("Server".into()),
        position: at(20),
        error_exits: vec![ErrorExit {
            kind: "return-error".into(),
            position: at(22),
        }],
        ..Function::default()
    };
    let geo = FileFacts {
        path: "services/geo/server.go".into(),
        language: Some(Language::Go),
        package: "geo".into(),
        imports: vec![import("example.com/hotel/services/geo/proto", Some("pb"))],
        types: vec![TypeDecl {
            name: "Server".into(),
            qualified: "geo.Server".into(),
            kind: TypeKind::Struct,
            ..TypeDecl::default()
        }],
        functions: vec![register, nearby],
        ..FileFacts::default()
    };
    let mut search = Function {
        name: "Nearby".into(),
        qualified: "search.(*Server).Nearby".into(),
        owner: Some("Server".into()),
        position: at(30),
        // The extractor records a method's receiver variable as a local.
        locals: vec![field("s", "*Server")],
        ..Function::default()
    };
    search.calls = vec![call(
        Some("s.geoClient"),
        "Nearby",
        &[None, None],
        &["ctx", "req"],
        31,
    )];
    let search_file = FileFacts {
        path: "services/search/server.go".into(),
        language: Some(Language::Go),
        package: "search".into(),
        imports: vec![import("example.com/hotel/services/geo/proto", Some("geo"))],
        types: vec![TypeDecl {
            name: "Server".into(),
            qualified: "search.Server".into(),
            kind: TypeKind::Struct,
            fields: vec![field("geoClient", "geo.GeoClient")],
            ..TypeDecl::default()
        }],
        functions: vec![search],
        ..FileFacts::default()
    };
    let analysis = analyze_facts(
        vec![search_file, geo],
        &[proto, go_mod],
        "hotel",
        &AnalyzeOptions::default(),
    );
    let policy = &analysis.policy;
    let server = rule(policy, "geo:/geo.Geo/Nearby [opentracing-go]");
    assert!(
        server
            .matchers
            .contains(&Matcher::Exact("/geo.Geo/Nearby".into()))
    );
    let otel = rule(policy, "geo:/geo.Geo/Nearby [otel-go]");
    assert!(
        otel.matchers
            .contains(&Matcher::Exact("geo.Geo/Nearby".into()))
    );
    let client = rule(policy, "search:call /geo.Geo/Nearby [opentracing-go]");
    assert_eq!(client.service.as_deref(), Some("search"));
    assert_eq!(analysis.stats.cross_service_edges, 1);
}

#[test]
fn facts_order_does_not_change_the_policy() {
    let (files, configs) = shop();
    let forward = analyze_facts(files.clone(), &configs, "root", &AnalyzeOptions::default());
    let mut reversed_files = files;
    reversed_files.reverse();
    let backward = analyze_facts(reversed_files, &configs, "root", &AnalyzeOptions::default());
    assert_eq!(
        autoscope_analysis::policy_gen::to_json(&forward.policy),
        autoscope_analysis::policy_gen::to_json(&backward.policy)
    );
}

#[test]
fn each_signal_counts_once_per_function_and_saturates() {
    let pkg = "shop.big";
    let mut controller = class("BigController", pkg, TypeKind::Class, &[], 1);
    controller.annotations = vec![annotation("RestController", &[], 1)];
    let mut handler = method("BigController", pkg, "handle", 5);
    handler.annotations = vec![annotation("GetMapping", &[(None, "/big")], 4)];
    let catch = |line| ErrorHandler {
        kind: "catch".into(),
        position: at(line),
        ..ErrorHandler::default()
    };
    // Forty catch blocks in the handler itself count once.
    handler.error_handlers = (0..40).map(|i| catch(100 + i)).collect();
    let mut helpers = Vec::new();
    for i in 0..5 {
        let name = format!("step{i}");
        handler.calls.push(call(None, &name, &[], &[], 6 + i));
        let mut helper = method("BigController", pkg, &name, 20 + 10 * i);
        helper.error_handlers = vec![catch(22 + 10 * i)];
        helpers.push(helper);
    }
    let mut functions = vec![handler];
    functions.extend(helpers);
    let file = java_file(
        "big/src/main/java/shop/big/BigController.java",
        pkg,
        vec![controller],
        functions,
    );
    let policy = analyze_facts(vec![file], &[], "root", &AnalyzeOptions::default()).policy;
    let rule = rule(&policy, "big:GET /big [skywalking@8]");
    let evidence = rule.evidence.as_ref().unwrap();
    let handling: Vec<u32> = evidence
        .reasons
        .iter()
        .filter(|r| r.kind == "error-handling")
        .filter_map(|r| r.line)
        .collect();
    assert_eq!(
        handling,
        [100, 22, 32],
        "once per function, at most three functions"
    );
    assert_eq!(evidence.score, 30.0);
}

/// Writes `files` (path, text) under a fresh temporary folder.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

fn pom(artifact: &str, dependencies: &str) -> String {
    format!(
        "<project><artifactId>{artifact}</artifactId><dependencies>{dependencies}</dependencies></project>"
    )
}

const CONTROLLER: &str = "package a;\n@RestController\npublic class AController {\n  @GetMapping(\"/a\")\n  public String a() { return \"a\"; }\n}\n";

fn detected(root: &std::path::Path, service: &str) -> Vec<String> {
    let analysis = autoscope_analysis::analysis::analyze_path(
        root,
        &AnalyzeOptions::default(),
        &|_| {},
        &|| {},
    )
    .unwrap();
    analysis
        .program
        .profiles
        .get(&(service.to_string(), Language::Java))
        .cloned()
        .unwrap_or_default()
}

#[test]
fn an_agent_without_a_version_in_a_chart_template_selects_both_agent_profiles() {
    // The chart's template ranges over the services and names none of them: it deploys
    // every one. The agent's toolkit in a build file is an API, not the agent.
    let toolkit = "<dependency><groupId>org.apache.skywalking</groupId><artifactId>apm-toolkit-trace</artifactId><version>8.6.0</version></dependency>";
    let dir = tree(&[
        ("a-service/pom.xml", &pom("a-service", toolkit)),
        ("a-service/src/main/java/a/AController.java", CONTROLLER),
        ("b-service/pom.xml", &pom("b-service", "")),
        ("b-service/src/main/java/a/AController.java", CONTROLLER),
        (
            "deploy/chart/templates/deployment.yaml",
            "{{- range $name, $svc := .Values.services }}\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - env:\n            - name: JAVA_TOOL_OPTIONS\n              value: \"-javaagent:/otel-agent/otel-agent.jar -Xmx1g\"\n{{- end }}\n",
        ),
        // YAML that deploys nothing says nothing about agents.
        (
            "deploy/ci.yaml",
            "steps:\n  - run: java -javaagent:/opt/skywalking-agent.jar -jar x.jar\n",
        ),
    ]);
    for service in ["a-service", "b-service"] {
        assert_eq!(
            detected(dir.path(), service),
            ["otel-java@1", "otel-java@2"],
            "{service}"
        );
    }
}

#[test]
fn a_pinned_agent_beats_an_unversioned_one_and_a_toolkit_counts_alone() {
    let toolkit = "<dependency><groupId>org.apache.skywalking</groupId><artifactId>apm-toolkit-trace</artifactId><version>8.6.0</version></dependency>";
    let dir = tree(&[
        ("a-service/pom.xml", &pom("a-service", "")),
        ("a-service/src/main/java/a/AController.java", CONTROLLER),
        (
            "a-service/Dockerfile",
            "FROM eclipse-temurin:17-jre\nADD https://github.com/open-telemetry/opentelemetry-java-instrumentation/releases/download/v1.20.2/opentelemetry-javaagent.jar /agent.jar\nCMD [\"java\", \"-javaagent:/opentelemetry-javaagent.jar\", \"-jar\", \"app.jar\"]\n",
        ),
        ("b-service/pom.xml", &pom("b-service", toolkit)),
        ("b-service/src/main/java/a/AController.java", CONTROLLER),
    ]);
    assert_eq!(detected(dir.path(), "a-service"), ["otel-java@1"]);
    assert_eq!(
        detected(dir.path(), "b-service"),
        ["skywalking@8", "skywalking"]
    );
}

#[test]
fn each_manifest_document_deploys_the_services_it_names() {
    let dir = tree(&[
        ("a-service/pom.xml", &pom("a-service", "")),
        ("a-service/src/main/java/a/AController.java", CONTROLLER),
        ("b-service/pom.xml", &pom("b-service", "")),
        ("b-service/src/main/java/a/AController.java", CONTROLLER),
        (
            "k8s/deployments.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a-service\nspec:\n  template:\n    spec:\n      containers:\n        - image: example/a-service:1\n          command: [\"java\", \"-javaagent:/skywalking/agent/skywalking-agent.jar\", \"-jar\", \"app.jar\"]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b-service\nspec:\n  template:\n    spec:\n      containers:\n        - image: example/b-service:1\n          env:\n            - name: JAVA_TOOL_OPTIONS\n              value: -javaagent:/agents/opentelemetry-javaagent-2.10.0.jar\n",
        ),
    ]);
    assert_eq!(
        detected(dir.path(), "a-service"),
        ["skywalking@8", "skywalking"]
    );
    assert_eq!(detected(dir.path(), "b-service"), ["otel-java@2"]);
}

/// A grpc-java stub call links to the method of the class implementing the service
/// (by the `.proto`'s names, `getStock` serving `GetStock`); without a `.proto` the
/// names come from the generated class's package and the method, with a warning.
#[test]
fn java_grpc_stubs_link_to_implementations_and_names_survive_a_missing_proto() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grpc-java");
    let analysis = autoscope_analysis::analysis::analyze_path(
        &root,
        &AnalyzeOptions::default(),
        &|_| {},
        &|| {},
    )
    .unwrap();
    // orders → inventory: getStock twice (blocking and future stubs), reserveItems once.
    assert_eq!(analysis.stats.cross_service_edges, 3);
    assert!(
        analysis.diagnostics.is_empty(),
        "{:?}",
        analysis.diagnostics
    );

    let server = "package com.example.inventory;\nimport com.example.inventory.grpc.InventoryGrpc;\nimport io.grpc.stub.StreamObserver;\npublic class InventoryService extends InventoryGrpc.InventoryImplBase {\n  @Override\n  public void getStock(StockRequest request, StreamObserver<Stock> observer) {}\n  private Stock stock(String sku) { return null; }\n}\n";
    let dir = tree(&[
        ("inventory/pom.xml", &pom("inventory", "")),
        (
            "inventory/src/main/java/com/example/inventory/InventoryService.java",
            server,
        ),
    ]);
    let analysis = autoscope_analysis::analysis::analyze_path(
        dir.path(),
        &AnalyzeOptions::default(),
        &|_| {},
        &|| {},
    )
    .unwrap();
    let ids: Vec<&str> = analysis
        .policy
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert!(
        ids.contains(
            &"inventory:/com.example.inventory.grpc.Inventory/GetStock [otel-java@1,otel-java@2]"
        ),
        "{ids:?}"
    );
    assert!(!ids.iter().any(|id| id.contains("/Stock")), "{ids:?}");
    assert_eq!(analysis.diagnostics.len(), 1);
}
