//! Outputs never destroy data: devices, FIFOs and links are written through, regular
//! files are replaced atomically keeping their mode, inputs are never overwritten,
//! temporary files never outlive a failure or a stopping signal, and a closed or full
//! standard output never panics.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_autoscope"))
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    bin().args(args).output().expect("autoscope runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn policy() -> PathBuf {
    testdata("policies/example.json")
}

fn shop() -> PathBuf {
    testdata("traces/shop.csv")
}

/// `sample -p example.json shop.csv -o OUT`.
fn sample_to(out: &Path) -> Output {
    run(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        shop().as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ])
}

fn temp_files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".autoscope-tmp."))
        .collect()
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1).map(|uid| uid == "0"))
            .unwrap_or(false)
    })
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn is_char_device(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

#[cfg(unix)]
#[test]
fn dev_null_stays_a_device_and_dev_full_exits_2() {
    if !is_char_device(Path::new("/dev/null")) || !is_char_device(Path::new("/dev/full")) {
        eprintln!("skipped: /dev/null or /dev/full is not a character device here");
        return;
    }
    let out = sample_to(Path::new("/dev/null"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        is_char_device(Path::new("/dev/null")),
        "/dev/null was replaced"
    );
    let out = run(&[
        "convert".as_ref(),
        shop().as_os_str(),
        "-o".as_ref(),
        "/dev/full".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("/dev/full: cannot write: No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
    assert!(
        is_char_device(Path::new("/dev/full")),
        "/dev/full was replaced"
    );
    assert!(temp_files_in(Path::new("/dev")).is_empty());
}

#[cfg(unix)]
#[test]
fn a_fifo_gets_the_bytes_and_stays_a_fifo() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let reader_path = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::fs::File::open(&reader_path)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    });
    let out = sample_to(&fifo);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bytes = reader.join().unwrap();
    let header = std::fs::read_to_string(shop()).unwrap();
    let header = header.lines().next().unwrap();
    assert!(text(&bytes).starts_with(header), "{}", text(&bytes));
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_is_followed_and_stays_a_link() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    let target = dir.path().join("real/kept.csv");
    std::fs::write(&target, "old\n").unwrap();
    let link = dir.path().join("kept.csv");
    std::os::unix::fs::symlink("real/kept.csv", &link).unwrap();
    let out = sample_to(&link);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("StartTime")
    );
    assert!(temp_files_in(dir.path()).is_empty());
    assert!(temp_files_in(&dir.path().join("real")).is_empty());
}

#[test]
fn dev_stdout_writes_to_standard_output() {
    if !Path::new("/dev/stdout").exists() {
        eprintln!("skipped: no /dev/stdout");
        return;
    }
    let out = sample_to(Path::new("/dev/stdout"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("StartTime"),
        "{}",
        text(&out.stdout)
    );
}

#[cfg(unix)]
#[test]
fn an_existing_file_keeps_its_mode_and_a_new_one_follows_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.csv");
    std::fs::write(&existing, "old\n").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = sample_to(&existing);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(mode_of(&existing), 0o644);
    for (umask, expected) in [("027", 0o640), ("022", 0o644), ("077", 0o600)] {
        let fresh = dir.path().join(format!("new-{umask}.csv"));
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_autoscope"))
            .args(["sample", "-p"])
            .arg(policy())
            .arg(shop())
            .arg("-o")
            .arg(&fresh)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", text(&status.stderr));
        assert_eq!(mode_of(&fresh), expected, "umask {umask}");
    }
}

#[test]
fn an_output_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("same.csv");
    std::fs::copy(shop(), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let out = run(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        input.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("also an input"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // The input's own folder as the output folder would overwrite it too.
    let out = run(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("refusing to overwrite an input"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // So would a hard link to it, or the policy.
    let linked = dir.path().join("linked.csv");
    std::fs::hard_link(&input, &linked).unwrap();
    let out = run(&[
        "convert".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        linked.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let policy_copy = dir.path().join("policy.json");
    std::fs::copy(policy(), &policy_copy).unwrap();
    let out = run(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy_copy.as_os_str(),
        input.as_os_str(),
        "-o".as_ref(),
        policy_copy.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&policy_copy).unwrap(),
        std::fs::read(policy()).unwrap()
    );
    assert!(temp_files_in(dir.path()).is_empty());
}

#[test]
fn inputs_with_the_same_name_keep_their_folders() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        std::fs::copy(shop(), dir.path().join(sub).join("x.csv")).unwrap();
    }
    std::fs::write(
        dir.path().join("b/x.csv"),
        std::fs::read_to_string(testdata("traces/skywalking.csv")).unwrap(),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let (a, b) = (dir.path().join("a/x.csv"), dir.path().join("b/x.csv"));
    let out = run(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        a.as_os_str(),
        b.as_os_str(),
        "-o".as_ref(),
        out_dir.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let from_a = std::fs::read_to_string(out_dir.join("a/x.csv")).unwrap();
    let from_b = std::fs::read_to_string(out_dir.join("b/x.csv")).unwrap();
    assert_ne!(
        from_a, from_b,
        "both results are there, neither overwrote the other"
    );
    // The same input twice is refused, naming both.
    let out = run(&[
        "sample".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        a.as_os_str(),
        dir.path().join("a/../a/x.csv").as_os_str(),
        "-o".as_ref(),
        dir.path().join("out2").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("would both be written"), "{stderr}");
    assert!(stderr.contains("a/../a/x.csv"), "{stderr}");
}

/// A FIFO no one writes to: reading it blocks, so a command that reads it before
/// checking its output would hang (the test would time out).
#[cfg(unix)]
fn blocking_input(dir: &Path) -> Option<PathBuf> {
    let fifo = dir.join("never-written.csv");
    Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
        .then_some(fifo)
}

/// Waits (bounded) for `child` to exit.
fn wait_bounded(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[cfg(unix)]
#[test]
fn an_unwritable_destination_fails_before_any_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let Some(input) = blocking_input(dir.path()) else {
        eprintln!("skipped: mkfifo is not available");
        return;
    };
    let mut unwritable = vec![
        dir.path().join("no/such/folder/out.json"),
        dir.path().to_path_buf(),
    ];
    if is_root() {
        // Root writes anywhere permissions allow nothing; /proc takes no new files.
        unwritable.push(PathBuf::from("/proc/autoscope-out.json"));
    } else {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked");
        std::fs::create_dir(&locked).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        unwritable.push(locked.join("out.json"));
    }
    for output in &unwritable {
        let mut child = bin()
            .args([
                "convert".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                output.as_os_str(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_bounded(&mut child, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{} was not refused before reading", output.display()));
        assert_eq!(status.code(), Some(2), "{}", output.display());
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(stderr.contains(&output.display().to_string()), "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_stopping_signal_removes_the_temporary_file() {
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let dir = tempfile::tempdir().unwrap();
        let Some(input) = blocking_input(dir.path()) else {
            eprintln!("skipped: mkfifo is not available");
            return;
        };
        let output = dir.path().join("out.json");
        let mut child = bin()
            .args([
                "convert".as_ref(),
                input.as_os_str(),
                "-o".as_ref(),
                output.as_os_str(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let prefix = format!(".out.json.autoscope-tmp.{}.", child.id());
        let started = Instant::now();
        while !temp_files_in(dir.path())
            .iter()
            .any(|n| n.starts_with(&prefix))
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no temporary file named {prefix}* appeared"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let killed = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let status = wait_bounded(&mut child, Duration::from_secs(20)).expect("it stops");
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        assert!(
            temp_files_in(dir.path()).is_empty(),
            "SIG{signal} left a temporary file"
        );
        assert!(!output.exists());
    }
}

#[test]
fn a_closed_pipe_ends_quietly_and_a_full_stdout_exits_2() {
    let commands: Vec<Vec<std::ffi::OsString>> = vec![
        vec![
            "coverage".into(),
            "-p".into(),
            policy().into(),
            shop().into(),
        ],
        vec!["eval".into(), "-p".into(), policy().into(), shop().into()],
        vec![
            "eval".into(),
            "-p".into(),
            policy().into(),
            shop().into(),
            "--json".into(),
        ],
        vec!["convert".into(), shop().into(), "-o".into(), "-".into()],
        vec![
            "explain".into(),
            "-p".into(),
            policy().into(),
            "GET /x".into(),
        ],
        vec!["man".into()],
        vec![
            "analyze".into(),
            testdata("python-shop").into(),
            "-o".into(),
            "-".into(),
            "-q".into(),
        ],
        vec![
            "check".into(),
            "-p".into(),
            testdata("python-shop/expected-policy.json").into(),
            "-q".into(),
        ],
        vec!["completions".into(), "bash".into()],
        vec!["--help".into()],
    ];
    for args in &commands {
        // A pipe whose reader is gone before the first write: every write is EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = bin()
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
        if Path::new("/dev/full").exists() && args[0] != "--help" {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let out = bin().args(args).stdout(full).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}",
                text(&out.stderr)
            );
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains("standard output: cannot write: No space left on device"),
                "{args:?}: {stderr}"
            );
        }
    }
}

#[test]
fn errors_say_their_cause_once_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let out = run(&[
        "convert".as_ref(),
        missing.as_os_str(),
        "-o".as_ref(),
        "-".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!("autoscope: {}: no such file", missing.display())
    );
    let out = run(&[
        "eval".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        dir.path().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a folder"),
        "{}",
        text(&out.stderr)
    );
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let out = run(&[
        "coverage".as_ref(),
        "-p".as_ref(),
        policy().as_os_str(),
        empty.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(&format!("{}: empty", empty.display())),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "eval".as_ref(),
        "-p".as_ref(),
        missing.as_os_str(),
        shop().as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("no such file").count(), 1, "{stderr}");
    assert!(!stderr.contains("os error"), "{stderr}");
}

#[test]
fn a_closed_stderr_does_not_hide_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin()
        .args([
            "coverage".as_ref(),
            "-p".as_ref(),
            policy().as_os_str(),
            missing.as_os_str(),
        ])
        .stderr(writer)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the input error still exits 2");
}
