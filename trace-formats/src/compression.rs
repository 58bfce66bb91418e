//! Compressed trace files: exports are often kept as `.json.gz` or `.csv.zst`. The
//! compression is told from the content's magic bytes (like the format), never from
//! the file name, so a renamed or piped file reads the same.

use std::io::{self, Read};

/// The first bytes of a gzip member (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zstd frame (RFC 8878).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// How the content is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (one or several members, as `cat a.gz b.gz` makes).
    Gzip,
    /// zstd (one or several frames).
    Zstd,
}

/// Tells the compression from the first bytes of the content.
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    }
}

/// Reads all of `source`, decompressed. A damaged compressed stream is an error
/// (`InvalidData`), never a silently short result. `size_hint` (a file's length)
/// sizes the buffer of plain content at once, sparing the copies of a growing one.
pub fn read_decompressed(mut source: impl Read, size_hint: usize) -> io::Result<Vec<u8>> {
    // `take` + `read_to_end` retries short reads (a pipe) and `Interrupted`.
    let mut head = Vec::with_capacity(ZSTD_MAGIC.len());
    source
        .by_ref()
        .take(ZSTD_MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    let head = head.as_slice();
    // The head was taken off the source: read it again in front of the rest.
    let mut whole = head.chain(source);
    let mut bytes = Vec::new();
    match detect_compression(head) {
        Compression::None => {
            // One byte more than the hint, so that the end is seen without a regrowth.
            bytes.reserve_exact(size_hint.saturating_add(1));
            whole.read_to_end(&mut bytes)?;
        }
        Compression::Gzip => {
            flate2::read::MultiGzDecoder::new(whole)
                .read_to_end(&mut bytes)
                .map_err(|e| damaged("gzip", e))?;
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::new(whole)?
                .read_to_end(&mut bytes)
                .map_err(|e| damaged("zstd", e))?;
        }
    }
    Ok(bytes)
}

fn damaged(what: &str, error: io::Error) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("damaged {what} data: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const TEXT: &[u8] = b"TraceId,SpanId\n1,2\n";

    /// A reader that hands out one byte per read, as a slow pipe may.
    struct OneByteAtATime<'a>(&'a [u8]);

    impl Read for OneByteAtATime<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&first, rest)), Some(slot)) => {
                    *slot = first;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn plain_gzip_and_zstd_read_the_same() {
        let zstd = zstd::encode_all(TEXT, 3).unwrap();
        for input in [TEXT.to_vec(), gzip(TEXT), zstd] {
            assert_eq!(read_decompressed(OneByteAtATime(&input), 0).unwrap(), TEXT);
            assert_eq!(
                read_decompressed(input.as_slice(), input.len()).unwrap(),
                TEXT
            );
        }
    }

    #[test]
    fn concatenated_members_and_frames_are_all_read() {
        let mut gz = gzip(b"ab");
        gz.extend(gzip(b"cd"));
        assert_eq!(read_decompressed(gz.as_slice(), 0).unwrap(), b"abcd");
        let mut zst = zstd::encode_all(&b"ab"[..], 1).unwrap();
        zst.extend(zstd::encode_all(&b"cd"[..], 1).unwrap());
        assert_eq!(read_decompressed(zst.as_slice(), 0).unwrap(), b"abcd");
    }

    #[test]
    fn short_content_is_plain() {
        for short in [&b""[..], b"a", b"\x1f", b"\x28\xb5\x2f"] {
            assert_eq!(read_decompressed(short, 1).unwrap(), short);
        }
    }

    #[test]
    fn truncated_or_damaged_streams_are_errors() {
        let gz = gzip(TEXT);
        let zst = zstd::encode_all(TEXT, 3).unwrap();
        for cut in [&gz[..gz.len() - 4], &zst[..zst.len() - 3]] {
            let error = read_decompressed(cut, 0).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
            assert!(error.to_string().starts_with("damaged "), "{error}");
        }
    }
}
