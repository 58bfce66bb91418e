//! Property tests of the stages after extraction, on random facts: analysis never
//! panics, the graph is well formed, the policy always validates, and the result does
//! not depend on the order facts arrive in.

use autoscope_analysis::analysis::{AnalyzeOptions, analyze_facts};
use autoscope_analysis::facts::*;
use proptest::prelude::*;

const NAMES: [&str; 8] = [
    "find", "save", "pay", "exchange", "get", "Nearby", "process", "handle",
];
const RECEIVERS: [&str; 12] = [
    "this",
    "self",
    "restTemplate",
    "orderRepository",
    "requests",
    "pb",
    "s.geoClient",
    "db.session",
    "a..b",
    "x(",
    "",
    "{}",
];
const TEXTS: [&str; 10] = [
    "http://svc-a:80/api/x/{}",
    "/api/{}{}/y",
    "{",
    "}}",
    "{}",
    "",
    "HttpMethod.POST",
    "/a/{id}",
    "q{x}",
    "/b/<int:id>",
];
const ANNOTATIONS: [&str; 8] = [
    "GetMapping",
    "PostMapping",
    "RequestMapping",
    "RestController",
    "app.route",
    "router.get",
    "RabbitListener",
    "Autowired",
];

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(TEXTS.to_vec()).prop_map(str::to_string)
}

fn call() -> impl Strategy<Value = Call> {
    (
        prop::sample::select(NAMES.to_vec()),
        prop::option::of(prop::sample::select(RECEIVERS.to_vec())),
        prop::collection::vec(prop::option::of(text()), 0..3),
        any::<bool>(),
        1u32..200,
    )
        .prop_map(|(callee, receiver, args, in_loop, line)| Call {
            callee: callee.into(),
            receiver: receiver.map(str::to_string),
            arg_texts: args.iter().map(|a| a.clone().unwrap_or_default()).collect(),
            args,
            in_loop,
            position: Position { line, column: 1 },
            ..Call::default()
        })
}

fn annotation() -> impl Strategy<Value = Annotation> {
    (
        prop::sample::select(ANNOTATIONS.to_vec()),
        prop::collection::vec((prop::option::of(Just("value".to_string())), text()), 0..2),
    )
        .prop_map(|(name, args)| Annotation {
            name: name.into(),
            args,
            position: Position { line: 1, column: 1 },
        })
}

fn function(owner: Option<String>) -> impl Strategy<Value = Function> {
    (
        prop::sample::select(NAMES.to_vec()),
        prop::collection::vec(call(), 0..5),
        prop::collection::vec(annotation(), 0..2),
        any::<bool>(),
        prop::option::of(text()),
    )
        .prop_map(
            move |(name, calls, annotations, handles_errors, span)| Function {
                name: name.into(),
                qualified: match &owner {
                    Some(o) => format!("p.{o}.{name}"),
                    None => format!("p.{name}"),
                },
                owner: owner.clone(),
                calls,
                annotations,
                error_handlers: if handles_errors {
                    vec![ErrorHandler {
                        kind: "catch".into(),
                        position: Position { line: 5, column: 1 },
                        ..ErrorHandler::default()
                    }]
                } else {
                    Vec::new()
                },
                manual_spans: span
                    .map(|name| {
                        vec![ManualSpan {
                            name,
                            api: "opentelemetry".into(),
                            position: Position { line: 3, column: 1 },
                        }]
                    })
                    .unwrap_or_default(),
                position: Position { line: 2, column: 1 },
                ..Function::default()
            },
        )
}

fn file() -> impl Strategy<Value = FileFacts> {
    (
        prop::sample::select(vec![
            "svc-a/A.java",
            "svc-b/B.java",
            "svc-a/x/y.py",
            "services/geo/s.go",
            "top.py",
        ]),
        prop::sample::select(vec![Language::Java, Language::Python, Language::Go]),
        prop::sample::select(vec!["Order", "OrderService", "Server"]),
        prop::collection::vec(annotation(), 0..2),
        prop::collection::vec(
            prop::sample::select(vec!["OrderService", "MongoRepository<Order, String>", "X"]),
            0..2,
        ),
    )
        .prop_flat_map(|(path, language, class, annotations, supertypes)| {
            prop::collection::vec(function(Some(class.to_string())), 0..4).prop_map(
                move |functions| FileFacts {
                    path: path.to_string(),
                    language: Some(language),
                    package: "p".into(),
                    types: vec![TypeDecl {
                        name: class.into(),
                        qualified: format!("p.{class}"),
                        annotations: annotations.clone(),
                        supertypes: supertypes.iter().map(|s| s.to_string()).collect(),
                        fields: vec![Field {
                            name: "orderRepository".into(),
                            type_name: "OrderRepository".into(),
                            annotations: Vec::new(),
                        }],
                        ..TypeDecl::default()
                    }],
                    functions,
                    lines: 10,
                    ..FileFacts::default()
                },
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn analysis_of_random_facts_is_well_formed(files in prop::collection::vec(file(), 0..6), rotate in 0usize..6) {
        // Paths are unique in a real tree.
        let mut files = files;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup_by(|a, b| a.path == b.path);
        let analysis = analyze_facts(files.clone(), &[], "root", &AnalyzeOptions::default());
        let graph = &analysis.graph.graph;
        for edge in graph.edge_indices() {
            let (from, to) = graph.edge_endpoints(edge).expect("edge endpoints exist");
            for node in [from, to] {
                let n = &graph[node];
                prop_assert!(n.file < analysis.program.files.len());
                prop_assert!(n.function < analysis.program.files[n.file].functions.len());
            }
            let caller = &graph[from];
            prop_assert!(graph[edge].call < analysis.program.files[caller.file].functions[caller.function].calls.len());
        }
        let json = autoscope_analysis::policy_gen::to_json(&analysis.policy);
        let reloaded = policy_schema::from_json_str(&json);
        prop_assert!(reloaded.is_ok(), "invalid policy: {:?}\n{}", reloaded.err(), json);
        let mut shuffled = files;
        let len = shuffled.len();
        if len > 0 {
            shuffled.rotate_left(rotate % len);
            shuffled.reverse();
        }
        let again = analyze_facts(shuffled, &[], "root", &AnalyzeOptions::default());
        prop_assert_eq!(json, autoscope_analysis::policy_gen::to_json(&again.policy));
    }
}

proptest! {
    #[test]
    fn path_matchers_are_valid_and_match_their_concrete_paths(
        pieces in prop::collection::vec("[a-z/{}._-]{0,6}", 1..5),
        value in "[A-Za-z0-9 ]{1,6}",
    ) {
        let pattern = pieces.join("{}");
        let matcher = autoscope_analysis::conventions::path_matcher(&pattern);
        let concrete = pattern.replace("{}", &value);
        match matcher {
            policy_schema::Matcher::Template(text) => {
                let template = policy_schema::Template::parse(&text);
                prop_assert!(template.is_ok(), "{text:?}: {:?}", template.err());
                // A pattern whose literal parts hold `{word}` URI variables is matched
                // more loosely; plain `{}` placeholders must match their expansion.
                if !pieces.iter().any(|p| p.contains('{') || p.contains('}')) {
                    prop_assert!(template.unwrap().matches(&concrete), "{text:?} vs {concrete:?}");
                }
            }
            policy_schema::Matcher::Exact(text) => prop_assert_eq!(text, pattern),
            other => prop_assert!(false, "unexpected matcher {other:?}"),
        }
    }
}
