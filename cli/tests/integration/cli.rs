//! What every command shares: the same flags and metavars, `--json`, `-q`/`-v`,
//! `--color` and `NO_COLOR`, exit codes in `--help`, shell completions and manual
//! pages.

use std::path::PathBuf;
use std::process::{Command, Output};

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

fn autoscope<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("autoscope runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_same_flags_and_metavars_everywhere() {
    for command in ["sample", "eval", "coverage", "explain", "check"] {
        let help = text(&autoscope(&[command, "--help"]).stdout);
        assert!(help.contains("-p, --policy <FILE>"), "{command}: {help}");
    }
    for command in ["analyze", "sample", "convert", "zip", "unzip", "man"] {
        let help = text(&autoscope(&[command, "--help"]).stdout);
        assert!(help.contains("-o, --output <PATH>"), "{command}: {help}");
    }
    for command in [
        "analyze", "check", "explain", "sample", "eval", "coverage", "zip", "unzip",
    ] {
        let help = text(&autoscope(&[command, "--help"]).stdout);
        assert!(help.contains("--json"), "{command} has no --json: {help}");
        for global in ["-q, --quiet", "-v, --verbose", "--color <WHEN>"] {
            assert!(help.contains(global), "{command} lacks {global}");
        }
    }
    let help = text(&autoscope(&["--help"]).stdout);
    for code in [
        "0 success",
        "1 `check` found differences",
        "2 usage",
        "3 internal",
    ] {
        assert!(
            help.contains(code),
            "--help does not document {code}: {help}"
        );
    }
    let out = autoscope(&["sample", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn completions_and_manual_pages_come_from_the_parser() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = autoscope(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains("autoscope"), "{shell}");
        assert!(script.contains("target-reduction"), "{shell}");
    }
    assert_eq!(autoscope(&["completions", "tcsh"]).status.code(), Some(2));
    let out = autoscope(&["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH autoscope"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("man1");
    let out = autoscope(&["man".as_ref(), "-o".as_ref(), folder.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for page in [
        "autoscope.1",
        "autoscope-analyze.1",
        "autoscope-sample.1",
        "autoscope-check.1",
    ] {
        let roff = std::fs::read_to_string(folder.join(page)).unwrap();
        assert!(roff.contains(".TH"), "{page}");
    }
    let sample = std::fs::read_to_string(folder.join("autoscope-sample.1")).unwrap();
    assert!(sample.contains("policy"), "{sample}");
}

#[test]
fn quiet_says_nothing_and_verbose_says_more() {
    let dir = tempfile::tempdir().unwrap();
    let policy = testdata("policies/example.json");
    let input = testdata("traces/shop.csv");
    let out_file = dir.path().join("kept.csv");
    let run = |flag: &str| {
        autoscope(&[
            "sample".as_ref(),
            flag.as_ref(),
            "-p".as_ref(),
            policy.as_os_str(),
            input.as_os_str(),
            "-o".as_ref(),
            out_file.as_os_str(),
        ])
    };
    let normal = run("--color=never");
    assert!(
        text(&normal.stderr).starts_with("kept "),
        "{}",
        text(&normal.stderr)
    );
    let quiet = run("-q");
    assert_eq!(quiet.status.code(), Some(0));
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
    let verbose = run("-v");
    let stderr = text(&verbose.stderr);
    assert!(stderr.contains("shop.csv: kept "), "{stderr}");
    assert!(stderr.contains("kept.csv"), "{stderr}");
    // Global flags go before the command too.
    let before = autoscope(&[
        "-q".as_ref(),
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        out_file.as_os_str(),
    ]);
    assert!(before.stderr.is_empty());
    assert_eq!(autoscope(&["-q", "-v", "man"]).status.code(), Some(2));
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let with = |color: Option<&str>, no_color: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_autoscope"));
        command.env_remove("NO_COLOR");
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        if let Some(color) = color {
            command.arg(format!("--color={color}"));
        }
        let out = command
            .args([
                "convert".as_ref(),
                missing.as_os_str(),
                "-o".as_ref(),
                "-".as_ref(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        text(&out.stderr).contains('\x1b')
    };
    assert!(with(Some("always"), None), "--color=always colors");
    assert!(with(Some("always"), Some("1")), "the flag beats NO_COLOR");
    assert!(!with(Some("never"), None));
    assert!(!with(None, None), "auto: not a terminal");
    assert!(!with(Some("auto"), Some("1")));
    let out = autoscope(&["--color=sometimes", "man"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn reports_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let policy = testdata("policies/example.json");
    let input = testdata("traces/shop.csv");
    let archive = dir.path().join("shop.tz");
    let out = autoscope(&[
        "zip".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        archive.as_os_str(),
        "--stats".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["command"], "zip");
    assert_eq!(stats["spans"], 270);
    let out = autoscope(&[
        "unzip".as_ref(),
        archive.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    trace_formats::read(&out.stdout, "unzipped").unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(stats["command"], "unzip");
    let out = autoscope(&[
        "coverage".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "--json".as_ref(),
    ]);
    let coverage: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(coverage["summary"]["spans"], 270);
    let out = autoscope(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(text(&out.stdout).starts_with("StartTime"));
    let report: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(report["spans_in"], 270);
    assert_eq!(report["files"][0]["output"], "standard output");
}
