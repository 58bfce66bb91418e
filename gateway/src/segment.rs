//! tracezip segment files, for the archive (`--archive DIR`) and the forwarders' spill.
//!
//! A segment is written as `NAME.tz.partial` and renamed to `NAME.tz` only once it is
//! complete (flushed and synced), so a reader of the folder only ever sees whole files;
//! a crash leaves at most one `.partial` file per writer, which the next start leaves
//! alone (it holds whole frames up to the crash and `autoscope unzip` reads them).

use crate::convert;
use crate::decider::KeptSpan;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use trace_formats::model;
use tracezip::{Encoder, EncoderOptions};

/// `YYYYMMDDTHHMMSSZ` for a Unix time (UTC), for file names that sort by time.
pub fn utc_stamp(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Kept spans in the span model (what the tracezip codec encodes).
pub fn to_model(spans: &[KeptSpan]) -> Vec<model::Span> {
    spans
        .iter()
        .map(|k| {
            convert::span_from_proto(
                &k.span,
                k.origin.resource.model.clone(),
                k.origin.model_scope.clone(),
            )
        })
        .collect()
}

/// One segment being written.
#[derive(Debug)]
pub struct SegmentWriter {
    partial: PathBuf,
    complete: PathBuf,
    out: tracezip::FileWriter<BufWriter<File>>,
    encoder: Encoder,
    /// Spans written.
    pub spans: u64,
    /// Bytes written.
    pub bytes: u64,
    opened: Instant,
}

impl SegmentWriter {
    /// Opens `DIR/PREFIX-<utc time>-<seq>.tz.partial`.
    pub fn create(dir: &Path, prefix: &str, seq: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let name = format!("{prefix}-{}-{seq:06}.tz", utc_stamp(SystemTime::now()));
        let complete = dir.join(&name);
        let partial = dir.join(format!("{name}.partial"));
        let out = tracezip::FileWriter::new(BufWriter::new(File::create(&partial)?))?;
        Ok(Self {
            partial,
            complete,
            out,
            encoder: Encoder::new(seq, EncoderOptions::default()),
            spans: 0,
            bytes: 5,
            opened: Instant::now(),
        })
    }

    /// Appends spans as one frame.
    pub fn write(&mut self, spans: &[model::Span]) -> std::io::Result<()> {
        if spans.is_empty() {
            return Ok(());
        }
        for chunk in spans.chunks(tracezip::DEFAULT_BATCH_SPANS) {
            let frame = self
                .encoder
                .encode_batch(chunk)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            self.out.write_frame(&frame)?;
            self.bytes = self.out.bytes_written();
        }
        self.spans += spans.len() as u64;
        Ok(())
    }

    /// Seconds since the segment was opened.
    pub fn age_secs(&self) -> u64 {
        self.opened.elapsed().as_secs()
    }

    /// Flushes, syncs and renames the segment to its final name; returns that path.
    pub fn finish(self) -> std::io::Result<PathBuf> {
        // The trailer marks the segment complete; a crash before it leaves a file
        // that readers report as cut short.
        let (mut out, _) = self.out.finish()?;
        out.flush()?;
        out.get_ref().sync_all()?;
        std::fs::rename(&self.partial, &self.complete)?;
        Ok(self.complete)
    }
}

/// The complete segments in `dir` whose names start with `prefix`, oldest first (names
/// sort by time, then sequence).
pub fn complete_segments(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "tz")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_utc_calendar_times() {
        let at = |secs| utc_stamp(UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_798_761_599), "20261231T235959Z");
    }

    #[test]
    fn segments_appear_only_when_complete() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SegmentWriter::create(dir.path(), "kept", 1).unwrap();
        let span = model::Span {
            name: "GET /".into(),
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            ..model::Span::default()
        };
        writer.write(std::slice::from_ref(&span)).unwrap();
        assert!(complete_segments(dir.path(), "kept").is_empty());
        let path = writer.finish().unwrap();
        assert_eq!(
            complete_segments(dir.path(), "kept"),
            std::slice::from_ref(&path)
        );
        let spans = tracezip::decompress(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(spans, [span]);
    }
}
