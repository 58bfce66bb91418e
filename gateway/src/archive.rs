//! `--archive DIR`: kept spans written as tracezip segments, `kept-<UTC time>-<seq>.tz`,
//! rotated every [`ArchiveConfig::rotate_after`] or [`ArchiveConfig::rotate_bytes`]
//! and at shutdown. A segment appears under its final name only when complete (see
//! [`crate::segment`]); read one with `autoscope unzip`.

use crate::decider::KeptBatch;
use crate::metrics::Metrics;
use crate::segment::{SegmentWriter, to_model};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Settings of the archive.
#[derive(Debug, Clone)]
pub struct ArchiveConfig {
    /// The folder.
    pub dir: PathBuf,
    /// Close a segment after this long.
    pub rotate_after: Duration,
    /// Close a segment at this size.
    pub rotate_bytes: u64,
}

/// Writes kept batches until `input` closes, then completes the open segment. Runs on a
/// blocking thread (file I/O and compression).
pub fn run(config: ArchiveConfig, metrics: Arc<Metrics>, mut input: mpsc::Receiver<KeptBatch>) {
    let mut seq = 0u64;
    let mut current: Option<SegmentWriter> = None;
    let finish = |writer: SegmentWriter| match writer.finish() {
        Ok(path) => tracing::info!(path = %path.display(), "archive segment complete"),
        Err(e) => tracing::error!(error = %e, "cannot complete an archive segment"),
    };
    loop {
        let batch = match current.as_ref() {
            // With a segment open, wake up to rotate it on time.
            Some(writer) => {
                let left = config
                    .rotate_after
                    .saturating_sub(Duration::from_secs(writer.age_secs()));
                match recv_timeout(&mut input, left.max(Duration::from_millis(100))) {
                    Received::Batch(batch) => Some(batch),
                    Received::Timeout => None,
                    Received::Closed => break,
                }
            }
            None => match input.blocking_recv() {
                Some(batch) => Some(batch),
                None => break,
            },
        };
        if let Some(batch) = batch {
            if current.is_none() {
                seq += 1;
                match SegmentWriter::create(&config.dir, "kept", seq) {
                    Ok(writer) => current = Some(writer),
                    Err(e) => {
                        tracing::error!(dir = %config.dir.display(), error = %e, "cannot open an archive segment");
                        crate::metrics::Metrics::count(
                            &metrics.spans_dropped,
                            "archive_failed",
                            batch.len() as u64,
                        );
                        continue;
                    }
                }
            }
            if let Some(writer) = current.as_mut() {
                match writer.write(&to_model(&batch)) {
                    Ok(()) => {
                        metrics.archived_spans.inc_by(batch.len() as u64);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot write the archive");
                        Metrics::count(
                            &metrics.spans_dropped,
                            "archive_failed",
                            batch.len() as u64,
                        );
                    }
                }
            }
        }
        let rotate = current.as_ref().is_some_and(|w| {
            w.bytes >= config.rotate_bytes || w.age_secs() >= config.rotate_after.as_secs()
        });
        if rotate && let Some(writer) = current.take() {
            finish(writer);
        }
    }
    if let Some(writer) = current.take() {
        finish(writer);
    }
}

enum Received {
    Batch(KeptBatch),
    Timeout,
    Closed,
}

fn recv_timeout(input: &mut mpsc::Receiver<KeptBatch>, timeout: Duration) -> Received {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match input.try_recv() {
            Ok(batch) => return Received::Batch(batch),
            Err(mpsc::error::TryRecvError::Disconnected) => return Received::Closed,
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        if std::time::Instant::now() >= deadline {
            return Received::Timeout;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
