//! Outputs that never destroy data: every command that writes a file or standard
//! output goes through a [`Destination`].
//!
//! - `-` is standard output. A path that names this process's own standard output or
//!   error (`/dev/stdout`, `/proc/self/fd/2`, a file the shell redirected to) writes to
//!   that stream.
//! - An existing file that is not a regular file (a character or block device such as
//!   `/dev/null` or `/dev/full`, a FIFO, a socket) is opened and written in place,
//!   never replaced.
//! - A symbolic link is followed (through chains of links) and its target written as
//!   below; the link itself stays a link.
//! - A regular file or a new path is replaced atomically: the content goes to a
//!   temporary file `.<name>.autoscope-tmp.<pid>.<random>` in the target's folder,
//!   which is synced and renamed over the target once complete. An existing file keeps
//!   its mode (and its owner and group, where permitted); a new file gets
//!   `0666 & !umask`, as the shell's `>` would give it.
//!
//! The temporary file is removed when the command fails, and when it is stopped by
//! SIGINT, SIGTERM or SIGHUP ([`install_signal_handler`]: the process then exits with
//! 128 + the signal's number). Only SIGKILL or a crash of the machine can leave one
//! behind; its name says what it is and which process wrote it.
//!
//! A destination is checked when it is made, before any work: its folder exists and
//! can be written (a temporary file is created there and removed), a file is not a
//! folder, and it is none of the command's [`Inputs`] (same device and inode, whatever
//! path or link leads to it). [`in_folder`] places one output per input below a
//! folder, keeping the inputs' paths relative to their common folder so that two
//! inputs never write the same output.

use anyhow::Result;
use std::collections::BTreeMap;
use std::fs::{File, Metadata};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Symbolic links followed before giving up (the kernel's own limit).
const MAX_LINK_HOPS: usize = 40;

/// Why an output could not be written: exit code 2. Names the output, and says the
/// cause once.
#[derive(Debug, thiserror::Error)]
#[error("{target}: cannot write: {message}")]
pub struct OutputError {
    /// The output as the user named it (`standard output` for `-`).
    pub target: String,
    /// The cause.
    pub message: String,
    /// The kind of the underlying I/O error.
    pub kind: io::ErrorKind,
}

impl OutputError {
    fn new(target: &str, error: &io::Error) -> Self {
        Self {
            target: target.to_string(),
            message: io_message(error),
            kind: error.kind(),
        }
    }
}

/// An I/O error's text without the `(os error N)` suffix users have no use for.
pub fn io_message(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// Identity of a file: its device and inode (what `-o in.csv in.csv` or a hard link
/// to an input shares with the input).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    device: u64,
    inode: u64,
}

#[cfg(unix)]
fn file_id(metadata: &Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some(FileId {
        device: metadata.dev(),
        inode: metadata.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_metadata: &Metadata) -> Option<FileId> {
    None
}

/// The files a command reads, so that no output overwrites one of them.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    files: Vec<(FileId, String)>,
}

impl Inputs {
    /// The inputs at `paths`; `-` and paths that cannot be read are left out (they are
    /// reported when read).
    pub fn of<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut inputs = Self::default();
        for path in paths {
            inputs.add(path);
        }
        inputs
    }

    /// Adds the input at `path` (following links).
    pub fn add(&mut self, path: &Path) {
        if path.as_os_str() == "-" {
            return;
        }
        if let Some(id) = std::fs::metadata(path).ok().as_ref().and_then(file_id) {
            self.files.push((id, path.display().to_string()));
        }
    }

    fn named(&self, metadata: &Metadata) -> Option<&str> {
        let id = file_id(metadata)?;
        self.files
            .iter()
            .find(|(input, _)| *input == id)
            .map(|(_, name)| name.as_str())
    }
}

/// Where one output goes, decided and checked before any work.
#[derive(Debug)]
pub struct Destination {
    /// The path as given (or `-`), for messages.
    shown: String,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Standard output or error, written through the stream this process holds.
    Stream(Stream),
    /// An existing file that is not a regular file: opened and written in place.
    WriteThrough(PathBuf),
    /// A regular file or a new path (links resolved): a temporary file beside it is
    /// renamed over it when complete.
    Replace {
        target: PathBuf,
        existing: Option<Metadata>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

impl Destination {
    /// Standard output.
    pub fn stdout() -> Self {
        Self {
            shown: "standard output".into(),
            kind: Kind::Stream(Stream::Stdout),
        }
    }

    /// The destination `path` (`-` for standard output), checked: refuses (exit 2) a
    /// folder, a missing or unwritable folder, and any of `inputs`.
    pub fn file(path: &Path, inputs: &Inputs) -> Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(Self::stdout());
        }
        let shown = path.display().to_string();
        let refuse = |message: String| super::input_error(format!("{shown}: {message}"));
        match std::fs::metadata(path) {
            Ok(metadata) => {
                if let Some(input) = inputs.named(&metadata) {
                    let same = if input == shown {
                        "it is also an input".to_string()
                    } else {
                        format!("it is the input {input}")
                    };
                    return Err(refuse(format!(
                        "{same}; refusing to overwrite an input (choose another output)"
                    )));
                }
                if let Some(stream) = own_stream(&metadata) {
                    return Ok(Self {
                        shown,
                        kind: Kind::Stream(stream),
                    });
                }
                if metadata.is_dir() {
                    return Err(refuse("is a folder; expected a file name".into()));
                }
                if !metadata.is_file() {
                    return Ok(Self {
                        shown,
                        kind: Kind::WriteThrough(path.to_path_buf()),
                    });
                }
                let target = resolve_links(path).map_err(|e| refuse(io_message(&e)))?;
                probe_folder(&shown, &target)?;
                Ok(Self {
                    shown,
                    kind: Kind::Replace {
                        target,
                        existing: Some(metadata),
                    },
                })
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                // A new file, or a link whose target does not exist yet.
                let target = resolve_links(path).map_err(|e| refuse(io_message(&e)))?;
                let folder = folder_of(&target);
                match std::fs::metadata(folder) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(refuse(format!("{} is not a folder", folder.display())));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        return Err(refuse(format!(
                            "the folder {} does not exist",
                            folder.display()
                        )));
                    }
                    Err(e) => return Err(refuse(io_message(&e))),
                }
                probe_folder(&shown, &target)?;
                Ok(Self {
                    shown,
                    kind: Kind::Replace {
                        target,
                        existing: None,
                    },
                })
            }
            Err(error) => Err(refuse(io_message(&error))),
        }
    }

    /// The output as the user named it (`standard output` for `-`).
    pub fn name(&self) -> &str {
        &self.shown
    }

    /// Whether this is standard output (which then cannot carry a report too).
    pub fn is_stdout(&self) -> bool {
        matches!(self.kind, Kind::Stream(Stream::Stdout))
    }

    /// Opens the destination for writing: creates the temporary file (or opens the
    /// device, or locks the stream). Nothing is visible at the destination until
    /// [`Output::finish`].
    pub fn open(&self) -> Result<Output> {
        let sink = match &self.kind {
            Kind::Stream(Stream::Stdout) => Sink::Stdout(BufWriter::new(io::stdout().lock())),
            Kind::Stream(Stream::Stderr) => Sink::Stderr(BufWriter::new(io::stderr().lock())),
            Kind::WriteThrough(path) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| OutputError::new(&self.shown, &e))?;
                Sink::File(BufWriter::new(file))
            }
            Kind::Replace { target, existing } => {
                let (file, temp) =
                    TempFile::create(target).map_err(|e| OutputError::new(&self.shown, &e))?;
                Sink::Temp {
                    writer: BufWriter::new(file),
                    temp,
                    target: target.clone(),
                    existing: existing.clone().map(Box::new),
                }
            }
        };
        Ok(Output {
            sink: Some(sink),
            shown: self.shown.clone(),
            first_error: None,
        })
    }

    /// Opens the destination, lets `write` fill it and finishes it; on any failure
    /// nothing is left at the destination (for a replaced file) and the error names
    /// the output.
    pub fn write_with(&self, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
        let mut output = self.open()?;
        let written = write(&mut output);
        output.complete(written)
    }
}

/// One output per input below `folder` (created, with subfolders, before any work):
/// one input is written as `folder/<its file name>`; several keep their paths
/// relative to the folder they share (`a/x.csv` and `b/x.csv` become `folder/a/x.csv`
/// and `folder/b/x.csv`). An input given twice, or any output that is an input, is
/// refused.
pub fn in_folder(
    folder: &Path,
    outputs_for: &[PathBuf],
    inputs: &Inputs,
) -> Result<Vec<Destination>> {
    let shown = folder.display().to_string();
    match std::fs::metadata(folder) {
        Ok(m) if !m.is_dir() => {
            return Err(super::input_error(format!(
                "{shown}: is not a folder; several inputs need a folder to write into"
            )));
        }
        _ => {}
    }
    let relative = relative_outputs(outputs_for)?;
    let mut seen: BTreeMap<&Path, &Path> = BTreeMap::new();
    for (input, rel) in outputs_for.iter().zip(&relative) {
        if let Some(other) = seen.insert(rel.as_path(), input.as_path()) {
            return Err(super::input_error(format!(
                "{} and {} would both be written to {}; give each input once",
                other.display(),
                input.display(),
                folder.join(rel).display()
            )));
        }
    }
    let mut destinations = Vec::with_capacity(relative.len());
    for rel in &relative {
        let path = folder.join(rel);
        let parent = folder_of(&path);
        std::fs::create_dir_all(parent).map_err(|e| {
            super::input_error(format!(
                "{}: cannot create the folder: {}",
                parent.display(),
                io_message(&e)
            ))
        })?;
        destinations.push(Destination::file(&path, inputs)?);
    }
    Ok(destinations)
}

/// Each input's output path relative to the output folder: its file name for one
/// input, else its path below the inputs' deepest common folder.
fn relative_outputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let name_of = |input: &Path| -> Result<PathBuf> {
        input
            .file_name()
            .map(PathBuf::from)
            .ok_or_else(|| super::input_error(format!("{}: not a file name", input.display())))
    };
    if inputs.len() == 1 {
        return Ok(vec![name_of(&inputs[0])?]);
    }
    let absolute: Vec<PathBuf> = inputs
        .iter()
        .map(|input| {
            std::path::absolute(input)
                .map(|p| normalize(&p))
                .map_err(|e| super::input_error(format!("{}: {}", input.display(), io_message(&e))))
        })
        .collect::<Result<_>>()?;
    let mut common: PathBuf = folder_of(&absolute[0]).to_path_buf();
    for path in &absolute[1..] {
        while !path.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    absolute
        .iter()
        .zip(inputs)
        .map(|(path, input)| match path.strip_prefix(&common) {
            Ok(rel) if rel.file_name().is_some() => Ok(rel.to_path_buf()),
            _ => name_of(input),
        })
        .collect()
}

/// `path` without `.` components and with `..` applied lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The folder holding `path` (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Follows `path` through symbolic links to the path that is not one (which may not
/// exist yet: a dangling link's target is created).
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINK_HOPS {
        match std::fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = if link.is_absolute() {
                    link
                } else {
                    folder_of(&current).join(link)
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Checks that a temporary file can be made beside `target` (and removes it).
fn probe_folder(shown: &str, target: &Path) -> Result<()> {
    TempFile::create(target).map(drop).map_err(|e| {
        super::input_error(format!(
            "{shown}: cannot write in the folder {}: {}",
            folder_of(target).display(),
            io_message(&e)
        ))
    })
}

/// Whether `metadata` is this process's standard output or error.
#[cfg(unix)]
fn own_stream(metadata: &Metadata) -> Option<Stream> {
    use std::os::fd::AsFd;
    let id = file_id(metadata)?;
    let stream_id = |fd: std::os::fd::BorrowedFd<'_>| {
        let file = File::from(fd.try_clone_to_owned().ok()?);
        file.metadata().ok().as_ref().and_then(file_id)
    };
    if stream_id(io::stdout().as_fd()) == Some(id) {
        Some(Stream::Stdout)
    } else if stream_id(io::stderr().as_fd()) == Some(id) {
        Some(Stream::Stderr)
    } else {
        None
    }
}

#[cfg(not(unix))]
fn own_stream(_metadata: &Metadata) -> Option<Stream> {
    None
}

/// An open output; [`Output::finish`] makes it visible at its destination. Dropped
/// unfinished, a temporary file is removed.
pub struct Output {
    // An `Option` only so that `finish` can take the sink apart.
    sink: Option<Sink>,
    shown: String,
    /// The first write error, kept because callers may wrap it beyond recognition.
    first_error: Option<(io::ErrorKind, String)>,
}

enum Sink {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    Stderr(BufWriter<io::StderrLock<'static>>),
    File(BufWriter<File>),
    Temp {
        // Declared before `temp`: flushed into the file before it is removed.
        writer: BufWriter<File>,
        temp: TempFile,
        target: PathBuf,
        // Boxed: metadata is large, and only replaced files have it.
        existing: Option<Box<Metadata>>,
    },
}

impl Sink {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::Stderr(w) => w,
            Sink::File(w) => w,
            Sink::Temp { writer, .. } => writer,
        }
    }
}

impl Output {
    fn record(&mut self, error: &io::Error) {
        if self.first_error.is_none() {
            self.first_error = Some((error.kind(), io_message(error)));
        }
    }

    fn take_error(&mut self) -> Option<OutputError> {
        self.first_error.take().map(|(kind, message)| OutputError {
            target: self.shown.clone(),
            message,
            kind,
        })
    }

    fn fail(&mut self, error: &io::Error) -> anyhow::Error {
        self.record(error);
        self.take_error()
            .unwrap_or_else(|| OutputError::new(&self.shown, error))
            .into()
    }

    /// Finishes the output if `written` (what filled it) succeeded; otherwise drops
    /// it (removing a temporary file) and returns the error, or the output's own
    /// write error when that was the cause, whatever wrapped it.
    pub fn complete(mut self, written: Result<()>) -> Result<()> {
        match written {
            Ok(()) => self.finish(),
            Err(error) => Err(match self.take_error() {
                Some(output_error) => output_error.into(),
                None => error,
            }),
        }
    }

    /// Flushes and completes the output: a temporary file gets the existing file's
    /// mode and owner, is synced and renamed over the target.
    pub fn finish(mut self) -> Result<()> {
        if let Some(error) = self.take_error() {
            return Err(error.into());
        }
        let Some(sink) = self.sink.take() else {
            return Ok(());
        };
        match sink {
            Sink::Stdout(mut w) => w.flush().map_err(|e| self.fail(&e)),
            Sink::Stderr(mut w) => w.flush().map_err(|e| self.fail(&e)),
            Sink::File(mut w) => w.flush().map_err(|e| self.fail(&e)),
            Sink::Temp {
                writer,
                temp,
                target,
                existing,
            } => {
                let file = writer.into_inner().map_err(|e| self.fail(e.error()))?;
                if let Some(existing) = &existing {
                    keep_owner_and_mode(&file, existing).map_err(|e| self.fail(&e))?;
                }
                file.sync_all().map_err(|e| self.fail(&e))?;
                drop(file);
                temp.persist(&target).map_err(|e| self.fail(&e))?;
                // The rename is durable once the folder is synced; some file systems
                // cannot sync a folder, and the data is written either way.
                if let Ok(folder) = File::open(folder_of(&target)) {
                    let _ = folder.sync_all();
                }
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = match &mut self.sink {
            Some(sink) => sink.writer().write(buf),
            None => Ok(0),
        };
        if let Err(error) = &result {
            self.record(error);
        }
        result
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let result = match &mut self.sink {
            Some(sink) => sink.writer().write_all(buf),
            None => Ok(()),
        };
        if let Err(error) = &result {
            self.record(error);
        }
        result
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = match &mut self.sink {
            Some(sink) => sink.writer().flush(),
            None => Ok(()),
        };
        if let Err(error) = &result {
            self.record(error);
        }
        result
    }
}

#[cfg(unix)]
fn keep_owner_and_mode(file: &File, existing: &Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // Owner first: changing it may clear set-id bits, which the mode then restores.
    // Only root may give a file away; anyone else keeps their own file (and group if
    // not a member), as `cp` and editors do.
    let _ = std::os::unix::fs::fchown(file, Some(existing.uid()), Some(existing.gid()));
    file.set_permissions(existing.permissions())
}

#[cfg(not(unix))]
fn keep_owner_and_mode(file: &File, existing: &Metadata) -> io::Result<()> {
    file.set_permissions(existing.permissions())
}

// ---------------------------------------------------------------- temporary files

/// Temporary files that exist now, removed by the signal handler.
static TEMP_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn temp_files() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while holding the lock leaves the list intact: keep using it.
    TEMP_FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A registered temporary file beside its target, removed when dropped.
struct TempFile {
    path: PathBuf,
    persisted: bool,
}

impl TempFile {
    /// Creates `.<name>.autoscope-tmp.<pid>.<random>` beside `target`, mode
    /// `0666 & !umask`.
    fn create(target: &Path) -> io::Result<(File, Self)> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        let mut builder = tempfile::Builder::new();
        let prefix = format!(".{name}.autoscope-tmp.{}.", std::process::id());
        builder.prefix(&prefix).rand_bytes(6);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        // Registered under the lock it is created under: a signal cannot come between.
        let mut registry = temp_files();
        let temp = builder.tempfile_in(folder_of(target))?;
        let (file, path) = temp.keep().map_err(|e| e.error)?;
        registry.push(path.clone());
        Ok((
            file,
            Self {
                path,
                persisted: false,
            },
        ))
    }

    /// Renames the file over `target`.
    fn persist(mut self, target: &Path) -> io::Result<()> {
        let mut registry = temp_files();
        std::fs::rename(&self.path, target)?;
        registry.retain(|p| p != &self.path);
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.persisted {
            return;
        }
        let mut registry = temp_files();
        let _ = std::fs::remove_file(&self.path);
        registry.retain(|p| p != &self.path);
    }
}

/// Removes every temporary file; called on a stopping signal. Keeps the registry
/// locked so that no new one appears and none is renamed before the process exits.
fn remove_temp_files_and_exit(code: i32) -> ! {
    let registry = temp_files();
    for path in registry.iter() {
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(code)
}

/// Installs, once, the handler that removes temporary files on SIGINT, SIGTERM and
/// SIGHUP and exits with 128 + the signal (130, 143, 129).
#[cfg(unix)]
pub fn install_signal_handler() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    remove_temp_files_and_exit(128 + signal);
                }
            });
        drop(spawned);
    });
}

/// Signals are not handled on this platform: only failures remove temporary files.
#[cfg(not(unix))]
pub fn install_signal_handler() {}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(destination: &Destination, text: &str) -> Result<()> {
        destination.write_with(|out| {
            out.write_all(text.as_bytes())?;
            Ok(())
        })
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".autoscope-tmp."))
            .collect()
    }

    #[test]
    fn a_new_file_appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let destination = Destination::file(&path, &Inputs::default()).unwrap();
        let mut output = destination.open().unwrap();
        output.write_all(b"hello").unwrap();
        assert!(!path.exists());
        let temps = leftovers(dir.path());
        assert_eq!(temps.len(), 1, "{temps:?}");
        assert!(
            temps[0].starts_with(&format!(".out.txt.autoscope-tmp.{}.", std::process::id())),
            "{temps:?}"
        );
        output.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello");
        assert!(leftovers(dir.path()).is_empty());
        // Tests run in parallel: only this test's folder is its own.
        assert!(!temp_files().iter().any(|p| p.starts_with(dir.path())));
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(&path, "old").unwrap();
        let destination = Destination::file(&path, &Inputs::default()).unwrap();
        let failed = destination.write_with(|out| {
            out.write_all(b"partial")?;
            anyhow::bail!("the input broke")
        });
        assert_eq!(failed.unwrap_err().to_string(), "the input broke");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn folders_missing_folders_and_inputs_are_refused_before_work() {
        let dir = tempfile::tempdir().unwrap();
        let error = Destination::file(dir.path(), &Inputs::default()).unwrap_err();
        assert!(error.to_string().contains("is a folder"), "{error}");
        let missing = dir.path().join("no/such/out.txt");
        let error = Destination::file(&missing, &Inputs::default()).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "x").unwrap();
        let inputs = Inputs::of([input.as_path()]);
        let error = Destination::file(&input, &inputs).unwrap_err();
        assert!(error.to_string().contains("also an input"), "{error}");
        // The same file through another path is the same input.
        let other_path = dir.path().join(".").join("in.csv");
        let error = Destination::file(&other_path, &inputs).unwrap_err();
        assert!(error.to_string().contains("is the input"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_link_and_its_target_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.txt");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        write(
            &Destination::file(&link, &Inputs::default()).unwrap(),
            "new",
        )
        .unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        // A dangling link gets its target created.
        let dangling = dir.path().join("dangling.txt");
        std::os::unix::fs::symlink("created.txt", &dangling).unwrap();
        write(
            &Destination::file(&dangling, &Inputs::default()).unwrap(),
            "made",
        )
        .unwrap();
        assert!(
            std::fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("created.txt")).unwrap(),
            "made"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, "old").unwrap();
        for mode in [0o644, 0o640, 0o600, 0o664] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            write(
                &Destination::file(&path, &Inputs::default()).unwrap(),
                "new",
            )
            .unwrap();
            let now = std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
            assert_eq!(now, mode, "{now:o} != {mode:o}");
        }
    }

    #[test]
    fn outputs_in_a_folder_keep_relative_paths() {
        let inputs: Vec<PathBuf> = ["/d/a/x.csv", "/d/b/x.csv", "/d/a/c/y.csv"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let rel = relative_outputs(&inputs).unwrap();
        assert_eq!(
            rel,
            [
                PathBuf::from("a/x.csv"),
                PathBuf::from("b/x.csv"),
                PathBuf::from("a/c/y.csv")
            ]
        );
        let same_folder: Vec<PathBuf> = ["/d/a/x.csv", "/d/a/../a/y.csv"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            relative_outputs(&same_folder).unwrap(),
            [PathBuf::from("x.csv"), PathBuf::from("y.csv")]
        );
        assert_eq!(
            relative_outputs(&[PathBuf::from("some/where/z.json")]).unwrap(),
            [PathBuf::from("z.json")]
        );
    }

    #[test]
    fn an_input_given_twice_is_refused_in_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("x.csv");
        std::fs::write(&input, "x").unwrap();
        let twice = [input.clone(), dir.path().join("./x.csv")];
        let error = in_folder(
            &dir.path().join("out"),
            &twice,
            &Inputs::of(twice.iter().map(PathBuf::as_path)),
        )
        .err()
        .unwrap();
        assert!(
            error.to_string().contains("would both be written"),
            "{error}"
        );
    }

    #[test]
    fn os_error_numbers_are_left_out_of_messages() {
        let error = io::Error::from_raw_os_error(28);
        assert_eq!(io_message(&error), "No space left on device");
    }
}
