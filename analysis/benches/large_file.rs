//! Per-file analysis must stay linear in file size: one generated Java, Python and Go
//! file each at two sizes (about 256 KiB and 1 MiB), analyzed whole (parse, extract,
//! resolve, name, score, generate). Throughput is reported in bytes per second, so a
//! quadratic step shows as the larger file's throughput falling to about a quarter of
//! the smaller one's (before the fix a 1 MiB Java file took 29 s, a 5 MiB one over two
//! minutes). `cargo bench -p autoscope-analysis --bench large_file`.

use autoscope_analysis::analysis::{AnalyzeOptions, analyze_path};
use autoscope_analysis::discover::DiscoverOptions;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write as _;

/// A Spring controller with `methods` handlers, each with a URL built from a
/// constant, a loop over a repository call, a try/catch around a RestTemplate call.
fn java(methods: usize) -> String {
    let mut out = String::from(
        "package big;\nimport java.util.List;\n@RestController\n@RequestMapping(\"/api/v1/big\")\npublic class Big {\n  private static final String BASE = \"http://orders:8080/api/v1/orders\";\n  @Autowired private OrderRepository orderRepository;\n",
    );
    for i in 0..methods {
        let _ = write!(
            out,
            "  @GetMapping(\"/m{i}/{{id}}\")\n  public String m{i}(@PathVariable String id, List<String> ids) {{\n    String url = BASE + \"/order/\" + id;\n    for (String x : ids) {{ orderRepository.findById(x); }}\n    try {{ restTemplate.exchange(url, HttpMethod.GET, null, String.class); }} catch (Exception e) {{ LOGGER.error(\"x\", e); throw e; }}\n    return helper{i}(id);\n  }}\n"
        );
    }
    out.push_str("}\n");
    out
}

/// A Flask module with `functions` routes calling requests in a loop and handling errors.
fn python(functions: usize) -> String {
    let mut out = String::from(
        "import requests\nfrom flask import Flask\napp = Flask(__name__)\nBASE = \"http://orders:1/api\"\n",
    );
    for i in 0..functions {
        let _ = write!(
            out,
            "@app.route(\"/m{i}/<int:id>\", methods=[\"GET\"])\ndef m{i}(id):\n    url = BASE + \"/x/\" + str(id)\n    for x in range(3):\n        requests.get(url)\n    try:\n        helper(id)\n    except Exception as e:\n        logger.error('x')\n        raise\n    return 'ok', 200\n"
        );
    }
    out
}

/// A Go file with `methods` handler methods calling net/http in a loop with error checks.
fn go(methods: usize) -> String {
    let mut out = String::from(
        "package big\nimport (\n \"fmt\"\n \"net/http\"\n)\nconst base = \"http://geo:1/x\"\ntype Server struct { c *http.Client }\n",
    );
    for i in 0..methods {
        let _ = write!(
            out,
            "func (s *Server) M{i}(w http.ResponseWriter, r *http.Request) error {{\n  url := fmt.Sprintf(\"%s/m{i}/%d\", base, 3)\n  for i := 0; i < 3; i++ {{ http.Get(url) }}\n  if err := s.do(); err != nil {{ log.Errorf(\"x\"); return err }}\n  return nil\n}}\n"
        );
    }
    out
}

/// Repeats a generator until the text reaches `bytes`.
fn sized(generate: fn(usize) -> String, bytes: usize) -> String {
    let per_unit = generate(100).len() / 100;
    generate(bytes / per_unit.max(1))
}

/// A language, the generated file's name, and its generator.
type Generator = (&'static str, &'static str, fn(usize) -> String);

fn bench_large_files(c: &mut Criterion) {
    let mut group = c.benchmark_group("large_file");
    group.sample_size(10);
    let generators: [Generator; 3] = [
        ("java", "Big.java", java),
        ("python", "big.py", python),
        ("go", "big.go", go),
    ];
    for (language, file_name, generate) in generators {
        for bytes in [256 * 1024, 1024 * 1024] {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let text = sized(generate, bytes);
            std::fs::write(dir.path().join(file_name), &text).expect("the file is written");
            let options = AnalyzeOptions {
                discover: DiscoverOptions {
                    max_file_size: u64::MAX,
                    ..DiscoverOptions::default()
                },
                ..AnalyzeOptions::default()
            };
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_function(format!("{language}/{}KiB", bytes / 1024), |b| {
                b.iter(|| {
                    analyze_path(dir.path(), &options, &|_| {}, &|| {}).expect("analysis runs")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_large_files);
criterion_main!(benches);
